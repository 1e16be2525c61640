import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { formatConfigErrors, loadConfigText } from '../src/index.ts'

/** A config whose location uses plugin "p", configured by `plugin` (the body of [plugins.p]). */
function configWith(plugin: string): string {
  return `
[upstreams.api]
addrs = ["127.0.0.1:8001"]
[locations.api]
upstream = "api"
path = "/api"
plugins = ["p"]
[servers.main]
addr = "127.0.0.1:8080"
locations = ["api"]
[plugins.p]
${plugin}
`
}

function errorsOf(plugin: string): string[] {
  const result = loadConfigText(configWith(plugin))
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

const PASSWORD = `sha256$${'0'.repeat(64)}`
const SECRET_32 = 'k'.repeat(32)
const HEADER_NAME = /must be a header name/
const FIELD_VALUE = /must be a valid header value/
const COOKIE_NAME = /must be a cookie name/

describe('plugin schemas', () => {
  const refused: Array<[string, string, string, RegExp]> = [
    [
      'a cors allow_headers entry that is no header name',
      'type = "cors"\nallow_headers = ["X-Ok", "bad header"]',
      'allow_headers.1',
      HEADER_NAME,
    ],
    ['a cors expose_headers entry that is no header name', 'type = "cors"\nexpose_headers = ["x\\r\\ny"]', 'expose_headers.0', HEADER_NAME],
    [
      'a redirect status given as a string',
      'type = "redirect"\nstatus = "302"',
      'status',
      /^must be one of 301, 302, 303, 307, 308, got "302" \(did you mean 302\?\)$/,
    ],
    [
      'a redirect status outside the list',
      'type = "redirect"\nstatus = 399',
      'status',
      /^must be one of 301, 302, 303, 307, 308, got 399$/,
    ],
    ['a fractional redirect status', 'type = "redirect"\nstatus = 301.5', 'status', /^must be one of 301, 302, 303, 307, 308, got 301\.5$/],
    ['a boolean redirect status', 'type = "redirect"\nstatus = true', 'status', /^must be one of 301, 302, 303, 307, 308, got true$/],
    ['an empty request_id header', 'type = "request_id"\nheader = ""', 'header', HEADER_NAME],
    ['a request_id header with a space', 'type = "request_id"\nheader = "Bad Header"', 'header', HEADER_NAME],
    [
      'a key_auth consumer_header with a space',
      'type = "key_auth"\nconsumer_header = "bad header"\nconsumers = [{ name = "a", key = "k" }]',
      'consumer_header',
      HEADER_NAME,
    ],
    [
      'a key_auth header with a space',
      'type = "key_auth"\nheader = "x key"\nconsumers = [{ name = "a", key = "k" }]',
      'header',
      HEADER_NAME,
    ],
    [
      'a key_auth consumer name with CR LF',
      'type = "key_auth"\nconsumers = [{ name = "a\\r\\nX-Injected: 1", key = "k" }]',
      'consumers.0.name',
      FIELD_VALUE,
    ],
    [
      'a key_auth consumer name with a trailing space',
      'type = "key_auth"\nconsumers = [{ name = "a ", key = "k" }]',
      'consumers.0.name',
      FIELD_VALUE,
    ],
    [
      'a key_auth consumer name with NUL',
      'type = "key_auth"\nconsumers = [{ name = "a\\u0000", key = "k" }]',
      'consumers.0.name',
      FIELD_VALUE,
    ],
    [
      'the same key on two key_auth consumers',
      'type = "key_auth"\nconsumers = [{ name = "a", key = "k" }, { name = "b", key = "k" }]',
      'consumers.1.key',
      /^consumer "b" has the same key as consumer "a"$/,
    ],
    [
      'a key_auth key and the sha256 of the same key',
      `type = "key_auth"\nconsumers = [{ name = "a", key = "k" }, { name = "b", key_sha256 = "${createHash('sha256').update('k').digest('hex').toUpperCase()}" }]`,
      'consumers.1.key_sha256',
      /^consumer "b" has the same key as consumer "a"$/,
    ],
    [
      'a basic_auth consumer_header with a space',
      `type = "basic_auth"\nconsumer_header = "bad header"\nusers = [{ name = "a", password = "${PASSWORD}" }]`,
      'consumer_header',
      HEADER_NAME,
    ],
    [
      'a basic_auth user name with CR LF',
      `type = "basic_auth"\nusers = [{ name = "a\\r\\nX: 1", password = "${PASSWORD}" }]`,
      'users.0.name',
      FIELD_VALUE,
    ],
    [
      'a basic_auth user name with ":"',
      `type = "basic_auth"\nusers = [{ name = "a:b", password = "${PASSWORD}" }]`,
      'users.0.name',
      /must not contain ":"/,
    ],
    [
      'the same user twice in basic_auth',
      `type = "basic_auth"\nusers = [{ name = "a", password = "${PASSWORD}" }, { name = "a", password = "${PASSWORD}" }]`,
      'users.1.name',
      /^user "a" is listed twice$/,
    ],
    ['a jwt header with a space', `type = "jwt"\nsecret = "${SECRET_32}"\nheader = "bad header"`, 'header', HEADER_NAME],
    [
      'a jwt claims_to_headers header with a space',
      `type = "jwt"\nsecret = "${SECRET_32}"\nclaims_to_headers = { sub = "X User" }`,
      'claims_to_headers.sub',
      HEADER_NAME,
    ],
    ['a jwt cookie with a space', `type = "jwt"\nsecret = "${SECRET_32}"\ncookie = "my token"`, 'cookie', COOKIE_NAME],
    ['a jwt cookie with "="', `type = "jwt"\nsecret = "${SECRET_32}"\ncookie = "a=b"`, 'cookie', COOKIE_NAME],
    ['a jwt cookie with ";"', `type = "jwt"\nsecret = "${SECRET_32}"\ncookie = "a;b"`, 'cookie', COOKIE_NAME],
    [
      'a limit key naming a header with a space',
      'type = "limit"\nrate = 1\nkey = "header:X Api Key"',
      'key',
      /^invalid header name "X Api Key"/,
    ],
    ['a limit key naming a header with a colon', 'type = "limit"\nrate = 1\nkey = "header:x:y"', 'key', /^invalid header name "x:y"/],
    ['a limit key naming a cookie with "="', 'type = "limit"\nrate = 1\nkey = "cookie:a=b"', 'key', /^invalid cookie name "a=b"/],
    ['a limit key with an empty name', 'type = "limit"\nrate = 1\nkey = "header:"', 'key', /^must match pattern/],
    ['a jwt realm with CR LF', `type = "jwt"\nsecret = "${SECRET_32}"\nrealm = "a\\r\\nb"`, 'realm', FIELD_VALUE],
    [
      'a one-byte jwt secret',
      'type = "jwt"\nsecret = "a"',
      'secret',
      /^must be at least 32 bytes for HS256 \(RFC 7518 §3\.2\), got 1 \(utf8\)$/,
    ],
    [
      'a 32-byte jwt secret for HS384',
      `type = "jwt"\nsecret = "${SECRET_32}"\nalgorithm = "HS384"`,
      'secret',
      /^must be at least 48 bytes for HS384/,
    ],
    [
      'a 48-byte jwt secret when HS512 is allowed',
      `type = "jwt"\nsecret = "${'k'.repeat(48)}"\nalgorithms = ["HS256", "HS512"]`,
      'secret',
      /^must be at least 64 bytes for HS512/,
    ],
    [
      'a base64 jwt secret of 31 bytes',
      `type = "jwt"\nsecret = "${Buffer.alloc(31, 7).toString('base64')}"\nsecret_encoding = "base64"`,
      'secret',
      /^must be at least 32 bytes for HS256 .*got 31 \(base64\)$/,
    ],
    [
      'a cache entry larger than the cache',
      'type = "cache"\nmax_size = "1mb"\nmax_entry_size = "2mb"',
      'max_entry_size',
      /^"2mb" is larger than max_size "1mb"$/,
    ],
    ['a cache vary header with a space', 'type = "cache"\nvary = ["a b"]', 'vary.0', HEADER_NAME],
    ['a csrf name with a space', 'type = "csrf"\nkey = "0123456789abcdef"\nname = "a b"', 'name', HEADER_NAME],
    ['a response_headers remove name with a space', 'type = "response_headers"\nremove = ["X A"]', 'remove.0', HEADER_NAME],
    [
      'a response_headers add value with CR LF',
      'type = "response_headers"\nadd = ["X-A:1\\r\\nX-B: 2"]',
      'add.0',
      /^invalid header value in/,
    ],
    ['a response_headers set name with a space', 'type = "response_headers"\nset = ["X A:1"]', 'set.0', /^invalid header name in/],
    ['a mock header without a value', 'type = "mock"\nheaders = ["X-A"]', 'headers.0', /^expected "Name:value"/],
    ['a security_headers policy with LF', 'type = "security_headers"\nframe_options = "DENY\\nX: 1"', 'frame_options', FIELD_VALUE],
    ['a redirect host with CR LF', 'type = "redirect"\nhost = "a.example\\r\\nX: 1"', 'host', FIELD_VALUE],
  ]
  for (const [name, plugin, key, expected] of refused) {
    test(`refuses ${name}`, () => {
      const errors = errorsOf(plugin)
      const prefix = `plugins.p.${key}: `
      assert.ok(
        errors.some((e) => e.startsWith(prefix) && expected.test(e.slice(prefix.length))),
        `no error at plugins.p.${key} matched ${expected}:\n${errors.join('\n')}`,
      )
    })
  }

  const accepted: Array<[string, string]> = [
    ['a redirect status from the list', 'type = "redirect"\nstatus = 307'],
    [
      'key_auth without headers (query only, no consumer header)',
      'type = "key_auth"\nheader = ""\nquery = "k"\nconsumer_header = ""\nconsumers = [{ name = "a", key = "k" }]',
    ],
    [
      'key_auth consumers with distinct keys and a Latin-1 name',
      'type = "key_auth"\nconsumers = [{ name = "José Müller", key = "k1" }, { name = "b", key = "k2" }]',
    ],
    [
      'basic_auth with distinct users',
      `type = "basic_auth"\nusers = [{ name = "a", password = "${PASSWORD}" }, { name = "b", password = "${PASSWORD}" }]`,
    ],
    ['a 32-byte jwt secret (HS256 by default)', `type = "jwt"\nsecret = "${SECRET_32}"\nheader = ""\ncookie = "jwt"`],
    [
      'a 64-byte base64 jwt secret for HS512',
      `type = "jwt"\nsecret = "${Buffer.alloc(64, 1).toString('base64url')}"\nsecret_encoding = "base64"\nalgorithm = "HS512"`,
    ],
    ['a jwt public key with no secret', 'type = "jwt"\npublic_key = "/keys/rsa.pem"\nclaims_to_headers = { sub = "X-User" }'],
    ['a limit key naming a header', 'type = "limit"\nrate = 1\nkey = "header:X-Api-Key"'],
    ['a limit key naming a cookie', 'type = "limit"\nrate = 1\nkey = "cookie:session_id"'],
    ['a limit key naming a query parameter with a space', 'type = "limit"\nrate = 1\nkey = "query:a b"'],
    ['a cache entry as large as the cache', 'type = "cache"\nmax_size = "1mb"\nmax_entry_size = 1048576'],
    ['response_headers edits', 'type = "response_headers"\nadd = ["X-A: 1"]\nset = ["Server:fleetgate"]\nremove = ["X-Powered-By"]'],
    ['security_headers with a policy left out', 'type = "security_headers"\nhsts = ""\nframe_options = "DENY"'],
  ]
  for (const [name, plugin] of accepted) {
    test(`accepts ${name}`, () => {
      const result = loadConfigText(configWith(plugin))
      assert.ok(result.ok, result.ok ? '' : formatConfigErrors(result.errors))
    })
  }

  test('refuses an enum value of the wrong type with one error, not a type error too', () => {
    assert.deepEqual(errorsOf('type = "redirect"\nstatus = "302"'), [
      'plugins.p.status: must be one of 301, 302, 303, 307, 308, got "302" (did you mean 302?)',
    ])
  })
})
