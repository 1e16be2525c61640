// Accept-Encoding negotiation of the compression plugin, table-driven.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Coding, compileNegotiation } from '../../src/plugins/accept-encoding.ts'

const all: Coding[] = ['zstd', 'br', 'gzip']
const cases: Array<[string | undefined, Coding[], Coding | undefined]> = [
  [undefined, all, undefined],
  ['', all, undefined],
  ['identity', all, undefined],
  ['gzip', all, 'gzip'],
  ['x-gzip', all, 'gzip'],
  ['GZIP, deflate', all, 'gzip'],
  ['gzip, deflate, br, zstd', all, 'zstd'],
  ['gzip, deflate, br, zstd', ['br', 'gzip'], 'br'],
  ['gzip;q=0.5, br;q=0.9', all, 'br'],
  ['gzip;q=1.0, br;q=0.9, zstd;q=0.1', all, 'gzip'],
  ['gzip, br;q=0', all, 'gzip'],
  ['br;q=0, gzip;q=0, zstd;q=0', all, undefined],
  ['*', all, 'zstd'],
  ['*;q=0.1, zstd;q=0', all, 'br'],
  ['gzip;q=0.2, *;q=0.5', ['gzip'], 'gzip'],
  ['br ; q = 0.8 , gzip ; q=0.7', all, 'br'],
  ['gzip;q=abc', all, undefined],
]

test('negotiates the highest q-value, ties going to the first offered', () => {
  for (const [header, offered, expected] of cases) {
    assert.equal(compileNegotiation(offered)(header), expected, `${header} with ${offered.join(',')}`)
  }
})

test('gives the same answer from its memo for a repeated header', () => {
  const negotiate = compileNegotiation(all)
  assert.equal(negotiate('gzip;q=0.5, br'), 'br')
  assert.equal(negotiate('gzip;q=0.5, br'), 'br')
})
