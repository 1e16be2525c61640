import { ResponseHeadersSchema } from '@fleetgate/schema'
import { compileHeaderEdits } from '../proxy/header-edits.ts'
import { removeFlatHeader } from './flat-headers.ts'
import { definePlugin } from './types.ts'

/** Edits the headers of every response (the upstream's or a plugin's): remove, then set, then add. */
export default definePlugin({
  name: 'response_headers',
  priority: 900,
  schema: ResponseHeadersSchema,
  create(config) {
    for (const spec of [...config.add, ...config.set]) {
      if (!spec.includes(':')) throw new Error(`expected "Name:value", got "${spec}"`)
    }
    const edits = compileHeaderEdits(config.add, config.set, config.remove)
    const drop = [...edits.drop]
    return {
      response(_ctx, head) {
        for (const name of drop) removeFlatHeader(head.headers, name)
        for (const value of edits.append) head.headers.push(value)
      },
    }
  },
})
