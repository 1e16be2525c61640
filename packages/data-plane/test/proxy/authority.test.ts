import assert from 'node:assert/strict'
import { BlockList } from 'node:net'
import { test } from 'node:test'
import { authorityHost, isValidHost } from '../../src/proxy/authority.ts'
import { resolveClientIp } from '../../src/proxy/client-ip.ts'

test('authorityHost splits host[:port] and refuses a malformed port or bracket', () => {
  const cases: Array<[string, string | undefined]> = [
    ['a.test', 'a.test'],
    ['a.test:8080', 'a.test'],
    ['a.test:', 'a.test'],
    ['10.0.0.1:443', '10.0.0.1'],
    ['[2001:db8::1]', '[2001:db8::1]'],
    ['[2001:db8::1]:443', '[2001:db8::1]'],
    ['2001:db8::1', '2001:db8::1'],
    ['a.test:80x', undefined],
    ['a.test:123456', undefined],
    ['[2001:db8::1', undefined],
    ['[2001:db8::1]x', undefined],
  ]
  for (const [text, host] of cases) assert.equal(authorityHost(text), host, text)
})

test('isValidHost takes a reg-name, IPv4 or [IPv6] with a port, and nothing a URL would read otherwise', () => {
  for (const ok of ['a.test', 'a.test:8443', '10.0.0.1', '[::1]:80', 'xn--bcher-kva.example', 'a%41b']) assert.ok(isValidHost(ok), ok)
  for (const bad of ['', ':80', 'evil.com/@x', 'a\\b', 'a?b', 'a#b', 'a b', '[nope]', '::1', 'a%4', 'é.test']) {
    assert.ok(!isValidHost(bad), bad)
  }
})

test('resolveClientIp strips ports from X-Forwarded-For hops and stops at one that is no address', () => {
  const trusted = new BlockList()
  trusted.addSubnet('127.0.0.0', 8)
  const resolve = (xff: string) => resolveClientIp('127.0.0.1', xff, trusted)
  assert.equal(resolve('203.0.113.7'), '203.0.113.7')
  assert.equal(resolve('203.0.113.7:1234'), '203.0.113.7')
  assert.equal(resolve('[2001:db8::7]:443'), '2001:db8::7')
  assert.equal(resolve(' 198.51.100.1 , 203.0.113.7, 127.0.0.9'), '203.0.113.7')
  assert.equal(resolve('8.8.8.8, garbage'), '127.0.0.1', 'a hop that is no address ends the walk at the peer')
  assert.equal(resolveClientIp('10.9.9.9', '203.0.113.7', trusted), '10.9.9.9', 'an untrusted peer is the client')
})
