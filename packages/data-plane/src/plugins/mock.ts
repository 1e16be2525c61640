import { setTimeout as sleep } from 'node:timers/promises'
import { MockSchema } from '@fleetgate/schema'
import { parseDuration, parseNameValue } from '@fleetgate/schema/runtime'
import { definePlugin, type PluginReply } from './types.ts'

/** Answers every request with a fixed status, headers and body, after an optional delay. */
export default definePlugin({
  name: 'mock',
  priority: 500,
  schema: MockSchema,
  create(config) {
    const headers: Record<string, string[]> = {}
    for (const spec of config.headers) {
      const { name, value } = parseNameValue(spec, true)
      if (value === undefined) throw new Error(`headers: expected "Name:value", got "${spec}"`)
      const values = headers[name] ?? []
      values.push(value)
      headers[name] = values
    }
    const reply: PluginReply = { status: config.status, headers, body: Buffer.from(config.body) }
    const delayMs = parseDuration(config.delay)
    if (delayMs === 0) return { request: () => reply }
    return { request: () => sleep(delayMs).then(() => reply) }
  },
})
