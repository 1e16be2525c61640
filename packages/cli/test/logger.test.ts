import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../src/logger.ts'

test('an unknown log level is refused with the levels that exist', () => {
  assert.throws(
    () => createLogger('verbose', 'json'),
    /^Error: log level must be one of trace, debug, info, warn, error, fatal, silent; got "verbose"$/,
  )
  assert.equal(createLogger('warn', 'json').level, 'warn')
})
