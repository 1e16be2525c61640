import assert from 'node:assert/strict'
import { test } from 'node:test'
import { queryParam, stripQueryParam } from '../../src/plugins/query-param.ts'

/** What URLSearchParams answers: the reference the scan must agree with. */
const reference = (query: string, name: string) => new URLSearchParams(query).get(name) ?? undefined

const QUERIES = [
  '',
  'token=abc',
  'a=1&token=abc&b=2',
  'token=first&token=second',
  'token',
  'token=',
  'token&x=1',
  'x=1&&token=v&&',
  'tokens=no&token=yes',
  'atoken=no&token=yes',
  'token=a=b=c',
  'token=a+b%20c',
  'token=%E2%9C%93',
  'token=%zz',
  'token=%',
  'token=%E2%9C',
  'to%6Ben=encoded-name',
  'to+ken=space-name',
  'x=1&to%2Bken=plus-name',
  '=empty-name&token=t',
  'token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln',
  '&token=lead',
  'x=%26&token=amp%26',
]

test('agrees with URLSearchParams on names, values, escapes and malformed input', () => {
  for (const query of QUERIES) {
    for (const name of ['token', 'x', 'to ken', 'to+ken', 'missing', 'a']) {
      assert.equal(queryParam(query, name), reference(query, name), `${JSON.stringify(query)} ${name}`)
    }
  }
})

test('agrees with URLSearchParams on random queries', () => {
  const alphabet = ['a', 'b', '=', '&', '+', '%', '2', '0', 'F', 'é', '%41', '%2', 'token', ' ']
  let seed = 7
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed
  }
  for (let i = 0; i < 5000; i++) {
    let query = ''
    const parts = next() % 12
    for (let p = 0; p < parts; p++) query += alphabet[next() % alphabet.length]
    for (const name of ['a', 'b', 'token', 'a b', 'A'])
      assert.equal(queryParam(query, name), reference(query, name), `${JSON.stringify(query)} ${name}`)
  }
})

test('stripQueryParam removes every instance of the name and keeps the other parameters byte for byte', () => {
  assert.equal(stripQueryParam('/p?a=1&key=x', 'key'), '/p?a=1')
  assert.equal(stripQueryParam('/p?key=x', 'key'), '/p')
  assert.equal(stripQueryParam('/p?key=x&key=y&b=%20c+d', 'key'), '/p?b=%20c+d')
  assert.equal(stripQueryParam('/p?k%65y=x&keys=1', 'key'), '/p?keys=1')
  assert.equal(stripQueryParam('/p?a=1&&b=2', 'key'), '/p?a=1&&b=2', 'nothing removed: the target is unchanged')
  assert.equal(stripQueryParam('/p?a=1&&key=2&', 'key'), '/p?a=1')
  assert.equal(stripQueryParam('/p', 'key'), '/p')
  assert.equal(stripQueryParam('/p?', 'key'), '/p?')
  assert.equal(stripQueryParam('/p?key', 'key'), '/p')
})
