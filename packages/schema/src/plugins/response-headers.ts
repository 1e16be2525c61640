import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { checkHeaderList, HeaderName } from '../header-field.ts'
import { HeaderValueList, pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "response_headers"`: edits every response's headers: remove, then set, then add. */
export const ResponseHeadersSchema = registerPluginSchema(
  'response_headers',
  pluginObject(
    'response_headers',
    {
      add: HeaderValueList('"Name:value" appended'),
      set: HeaderValueList('"Name:value" replacing any header of that name'),
      remove: Type.Array(HeaderName(), { default: [], description: 'header names removed' }),
    },
    'adds, sets and removes response headers',
  ),
  (config, push) => {
    checkHeaderList(config.add, 'add', push)
    checkHeaderList(config.set, 'set', push)
  },
)

export type ResponseHeadersConfig = Static<typeof ResponseHeadersSchema>
