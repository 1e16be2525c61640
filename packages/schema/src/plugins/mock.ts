import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { checkHeaderList } from '../header-field.ts'
import { Duration } from '../schema-types.ts'
import { HeaderValueList, pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "mock"`: answers every request of the location with a fixed response. */
export const MockSchema = registerPluginSchema(
  'mock',
  pluginObject(
    'mock',
    {
      status: Type.Integer({ minimum: 100, maximum: 599, default: 200 }),
      headers: HeaderValueList('"Name:value" response headers'),
      body: Type.String({ default: '' }),
      delay: Duration('0ms', 'wait this long before answering'),
    },
    'answers with a fixed status, headers and body, after an optional delay',
  ),
  (config, push) => checkHeaderList(config.headers, 'headers', push),
)

export type MockConfig = Static<typeof MockSchema>
