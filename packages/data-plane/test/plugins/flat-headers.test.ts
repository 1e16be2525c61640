import assert from 'node:assert/strict'
import { test } from 'node:test'
import { appendFlatToken, defaultFlatHeader, getFlatHeader, removeFlatHeader, setFlatHeader } from '../../src/plugins/flat-headers.ts'
import { isHeaderName } from '../../src/proxy/header-name.ts'

test('isHeaderName compares ASCII case-insensitively against a lower-case name', () => {
  assert.equal(isHeaderName('Content-Type', 'content-type'), true)
  assert.equal(isHeaderName('CONTENT-TYPE', 'content-type'), true)
  assert.equal(isHeaderName('content-type', 'content-type'), true)
  assert.equal(isHeaderName('Content-Typf', 'content-type'), false)
  assert.equal(isHeaderName('Content-Type2', 'content-type'), false)
  assert.equal(isHeaderName('', ''), true)
  // Only A-Z fold: "[" (91) and "{" (123) are not "z"-adjacent letters.
  assert.equal(isHeaderName('X-[', 'x-{'), false)
  assert.equal(isHeaderName('X-@', 'x-`'), false)
})

test('flat header edits find names in any case and keep the order of the rest', () => {
  const flat = ['Server', 'nginx', 'Content-Type', 'text/plain', 'X-Trace', 'a', 'x-trace', 'b', 'Vary', 'Accept']
  assert.equal(getFlatHeader(flat, 'content-type'), 'text/plain')
  assert.equal(getFlatHeader(flat, 'X-TRACE'), 'a')
  assert.equal(getFlatHeader(flat, 'missing'), undefined)
  removeFlatHeader(flat, 'X-Trace')
  assert.deepEqual(flat, ['Server', 'nginx', 'Content-Type', 'text/plain', 'Vary', 'Accept'])
  removeFlatHeader(flat, 'absent')
  assert.deepEqual(flat, ['Server', 'nginx', 'Content-Type', 'text/plain', 'Vary', 'Accept'])
  setFlatHeader(flat, 'content-type', 'application/json')
  assert.deepEqual(flat, ['Server', 'nginx', 'Vary', 'Accept', 'content-type', 'application/json'])
  defaultFlatHeader(flat, 'SERVER', 'other')
  assert.equal(getFlatHeader(flat, 'server'), 'nginx')
  appendFlatToken(flat, 'vary', 'Origin')
  appendFlatToken(flat, 'VARY', 'origin')
  assert.equal(getFlatHeader(flat, 'vary'), 'Accept, Origin')
})
