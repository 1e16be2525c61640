import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ACCESS_LOG_PRESETS, parseAccessLogFormat } from '../src/index.ts'

describe('parseAccessLogFormat', () => {
  test('parses every preset', () => {
    assert.deepEqual(parseAccessLogFormat('json'), { kind: 'json' })
    for (const name of Object.keys(ACCESS_LOG_PRESETS)) assert.equal(parseAccessLogFormat(name).kind, 'text', name)
  })

  test('splits a format into literal text and tokens', () => {
    assert.deepEqual(parseAccessLogFormat('{method} {>X-Tenant} {<etag} {~sid} {$consumer} up={upstream_addr}'), {
      kind: 'text',
      literals: ['', ' ', ' ', ' ', ' ', ' up=', ''],
      tokens: [
        { kind: 'variable', name: 'method' },
        { kind: 'request_header', name: 'X-Tenant' },
        { kind: 'response_header', name: 'etag' },
        { kind: 'cookie', name: 'sid' },
        { kind: 'plugin_var', name: 'consumer' },
        { kind: 'variable', name: 'upstream_addr' },
      ],
    })
  })

  test('keeps a brace that opens no variable as literal text (a JSON-like format)', () => {
    const parsed = parseAccessLogFormat('{"status":{status},"path":"{path}"} {} { x }')
    assert.deepEqual(parsed, {
      kind: 'text',
      literals: ['{"status":', ',"path":"', '"} {} { x }'],
      tokens: [
        { kind: 'variable', name: 'status' },
        { kind: 'variable', name: 'path' },
      ],
    })
  })

  const invalid: Array<[string, string, RegExp]> = [
    [
      'an unknown variable, with a suggestion',
      '{method} {stauts}',
      /^unknown access_log variable \{stauts\} \(did you mean \{status\}\?\)$/,
    ],
    ['an unknown variable, far from any', '{method} {nope}', /^unknown access_log variable \{nope\}; known: method, uri/],
    ['a request header name with a space', '{>X Tenant}', /^\{>X Tenant\}: "X Tenant" is not a valid header name$/],
    ['a response header name with a colon', '{<x:y}', /^\{<x:y\}: "x:y" is not a valid header name$/],
    ['a missing header name', '{status} {>}', /^\{>\}: a header name is missing$/],
    ['a cookie name with a semicolon', '{~a;b}', /^\{~a;b\}: "a;b" is not a valid cookie name$/],
    ['an unterminated brace at the end', '{method} {status', /^unterminated "\{status" \(a variable is written \{name\}\)$/],
    ['an unterminated brace before another', '{status {method}', /^unterminated "\{status" /],
    [
      'an unknown preset, with a suggestion',
      'combind',
      /^unknown access_log preset "combind" \(did you mean "combined"\?\); presets: combined, common, short, tiny, json$/,
    ],
    ['an unknown preset', 'apache', /^unknown access_log preset "apache"; presets: /],
  ]
  for (const [what, format, message] of invalid) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseAccessLogFormat(format), { message })
    })
  }
})
