import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ACCESS_LOG_PRESETS } from '@fleetgate/schema'
import { compileAccessLogFormat } from '../../src/observability/access-log/format.ts'
import { VARIABLES } from '../../src/observability/access-log/variables.ts'

describe('access log format compilation', () => {
  test('compiles every preset', () => {
    for (const name of [...Object.keys(ACCESS_LOG_PRESETS), 'json']) assert.equal(typeof compileAccessLogFormat(name), 'function')
  })
  test('rejects an unknown variable, naming it', () => {
    assert.throws(() => compileAccessLogFormat('{method} {nope}'), /unknown access_log variable \{nope\}/)
  })
  test('accepts header, response header and cookie variables', () => {
    assert.equal(typeof compileAccessLogFormat('{>x-a} {<x-b} {~sid}'), 'function')
  })
  test('offers at least 30 named variables', () => {
    assert.ok(Object.keys(VARIABLES).length >= 30, `${Object.keys(VARIABLES).length} variables`)
  })
})
