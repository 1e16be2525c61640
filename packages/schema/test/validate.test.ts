import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { configHash, formatConfigErrors, loadConfigText, validateConfig } from '../src/index.ts'

const base = `
[upstreams.api]
addrs = ["127.0.0.1:8001", "127.0.0.1:8002 3"]
[locations.api]
upstream = "api"
path = "/api"
[servers.main]
addr = "127.0.0.1:8080"
locations = ["api"]
`

function errorsOf(toml: string): string[] {
  const result = loadConfigText(toml)
  assert.equal(result.ok, false, 'expected the config to be rejected')
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

describe('validateConfig', () => {
  test('accepts a valid config and applies defaults', () => {
    const result = loadConfigText(base)
    assert.ok(result.ok, result.ok ? '' : formatConfigErrors(result.errors))
    assert.equal(result.config.upstreams.api?.algorithm, 'round_robin')
    assert.equal(result.config.upstreams.api?.connection_timeout, '3s')
    assert.equal(result.config.basic.grace_period, '10s')
    assert.deepEqual(result.config.locations.api?.methods, [])
  })

  test('accepts access_log presets and formats', () => {
    for (const format of ['json', 'combined', '{client_ip} "{method} {uri}" {status} {>x-tenant} {<etag} {~sid} {$consumer}']) {
      const result = loadConfigText(base.replace('locations = ["api"]', `locations = ["api"]\naccess_log = ${JSON.stringify(format)}`))
      assert.ok(result.ok, result.ok ? '' : formatConfigErrors(result.errors))
    }
  })

  test('accepts header edits and hash algorithms naming valid headers and cookies', () => {
    const toml = base
      .replace('[locations.api]', 'algorithm = "hash:cookie:session_id"\n[locations.api]')
      .replace(
        'path = "/api"',
        'path = "/api"\nheaders_remove = ["Cookie", "X-Internal"]\nresponse_headers_remove = ["Server"]\nheaders_set = ["X-A: 1"]',
      )
    const result = loadConfigText(`${toml}\n[upstreams.web]\naddrs = ["127.0.0.1:8003"]\nalgorithm = "hash:header:X-User"`)
    assert.ok(result.ok, result.ok ? '' : formatConfigErrors(result.errors))
  })

  const cases: Array<[string, string, RegExp]> = [
    [
      'unknown key with a suggestion',
      `${base}\n[upstreams.web]\naddrs=["a:1"]\nalgoritm="random"`,
      /^upstreams\.web\.algoritm: unknown key "algoritm" \(did you mean "algorithm"\?\)$/,
    ],
    [
      'unknown upstream reference',
      base.replace('upstream = "api"', 'upstream = "apii"'),
      /^locations\.api\.upstream: unknown upstream "apii" \(did you mean "api"\?\)$/,
    ],
    [
      'unknown location reference',
      base.replace('locations = ["api"]', 'locations = ["api", "web"]'),
      /^servers\.main\.locations\.1: unknown location "web"$/,
    ],
    [
      'malformed duration',
      `${base}\n[upstreams.x]\naddrs=["a:1"]\nread_timeout="3x"`,
      /^upstreams\.x\.read_timeout: invalid duration "3x"/,
    ],
    [
      'malformed size',
      base.replace('path = "/api"', 'path = "/api"\nclient_max_body_size = "1tb"'),
      /^locations\.api\.client_max_body_size: invalid size "1tb"/,
    ],
    ['bad backend address', base.replace('"127.0.0.1:8001"', '"nohost"'), /^upstreams\.api\.addrs\.0: invalid address "nohost"/],
    [
      'bad algorithm',
      base.replace('[locations.api]', 'algorithm = "least_con"\n[locations.api]'),
      /^upstreams\.api\.algorithm: unknown algorithm "least_con" \(did you mean "least_conn"\?\)/,
    ],
    [
      'a headers_remove entry that is no header name',
      base.replace('path = "/api"', 'path = "/api"\nheaders_remove = ["X-Ok", "X Secret"]'),
      /^locations\.api\.headers_remove\.1: must be a header name: .*, got "X Secret"$/,
    ],
    [
      'a response_headers_remove entry with CR LF',
      base.replace('path = "/api"', 'path = "/api"\nresponse_headers_remove = ["X-A\\r\\nX-B"]'),
      /^locations\.api\.response_headers_remove\.0: must be a header name/,
    ],
    [
      'a headers_set value with CR LF',
      base.replace('path = "/api"', 'path = "/api"\nheaders_set = ["X-A:1\\r\\nX-B: 2"]'),
      /^locations\.api\.headers_set\.0: invalid header value in/,
    ],
    [
      'a hash:header algorithm naming no header',
      base.replace('[locations.api]', 'algorithm = "hash:header:X User"\n[locations.api]'),
      /^upstreams\.api\.algorithm: invalid header name "X User"/,
    ],
    [
      'a hash:cookie algorithm naming no cookie',
      base.replace('[locations.api]', 'algorithm = "hash:cookie:a;b"\n[locations.api]'),
      /^upstreams\.api\.algorithm: invalid cookie name "a;b"/,
    ],
    [
      'an access_log format with an unknown variable',
      base.replace('locations = ["api"]', 'locations = ["api"]\naccess_log = "{method} {stauts}"'),
      /^servers\.main\.access_log: unknown access_log variable \{stauts\} \(did you mean \{status\}\?\)$/,
    ],
    [
      'an access_log format with a bad header name',
      base.replace('locations = ["api"]', 'locations = ["api"]\naccess_log = "{>X Tenant} {status}"'),
      /^servers\.main\.access_log: \{>X Tenant\}: "X Tenant" is not a valid header name$/,
    ],
    [
      'an access_log format with an unterminated brace',
      base.replace('locations = ["api"]', 'locations = ["api"]\naccess_log = "{method} {status"'),
      /^servers\.main\.access_log: unterminated "\{status"/,
    ],
    [
      'an unknown access_log preset',
      base.replace('locations = ["api"]', 'locations = ["api"]\naccess_log = "combind"'),
      /^servers\.main\.access_log: unknown access_log preset "combind" \(did you mean "combined"\?\)/,
    ],
    ['bad regex path', base.replace('path = "/api"', 'path = "~(["'), /^locations\.api\.path: invalid regex/],
    ['bad enum', `${base}\n[basic]\nlog_level = "loud"`, /^basic\.log_level: must be one of/],
    ['wrong type', base.replace('path = "/api"', 'path = 3'), /^locations\.api\.path: must be string, got number 3$/],
    ['missing required key', `${base}\n[upstreams.empty]\nalgorithm = "random"`, /^upstreams\.empty\.addrs: is required$/],
    ['TOML syntax error with line', `${base}\n[servers.x\n`, /TOML syntax error at line \d+/],
    ['unknown plugin type', `${base}\n[plugins.p]\ntype = "nope"`, /^plugins\.p\.type: unknown plugin type "nope"/],
    [
      'duplicate listen address',
      `${base}\n[servers.other]\naddr = "127.0.0.1:8080"`,
      /^servers\.other\.addr: address 127\.0\.0\.1:8080 is also used by servers\.main$/,
    ],
    [
      'bad health check',
      base.replace('[locations.api]', 'health_check = "ftp://x"\n[locations.api]'),
      /^upstreams\.api\.health_check: health check scheme must be http, https, tcp, grpc or grpcs/,
    ],
    [
      'a reserved resource name (__proto__)',
      `${base}\n[upstreams.__proto__]\naddrs = ["127.0.0.1:8003"]`,
      /^upstreams\.__proto__: invalid name "__proto__": .* are reserved$/,
    ],
    [
      'a reserved resource name (constructor)',
      `${base}\n[plugins.constructor]\ntype = "ping"`,
      /^plugins\.constructor: invalid name "constructor"/,
    ],
    [
      'a resource name outside the name rule',
      `${base}\n[upstreams."a b"]\naddrs = ["127.0.0.1:8003"]`,
      /^upstreams\.a b: invalid name "a b"/,
    ],
    [
      'an acme_email that is not an e-mail address',
      `${base}\n[certificates.c]\ndomains = ["a.test"]\nacme = "https://acme.test/dir"\nacme_email = "not-an-email"`,
      /^certificates\.c\.acme_email: must match pattern .*, got "not-an-email"$/,
    ],
    [
      'a reference to a name every object has',
      base.replace('upstream = "api"', 'upstream = "toString"'),
      /^locations\.api\.upstream: unknown upstream "toString"/,
    ],
  ]
  for (const [name, toml, expected] of cases) {
    test(`reports ${name}`, () => {
      const errors = errorsOf(toml)
      assert.ok(
        errors.some((e) => expected.test(e)),
        `no error matched ${expected}:\n${errors.join('\n')}`,
      )
    })
  }

  test('refuses TLS-only keys on a plain server, and accepts them on a TLS one', () => {
    const plain = `${base}tls_client_auth = "required"\ntls_client_ca = "/ca.pem"\nenable_http2 = true\nocsp_stapling = true\ntls_min_version = "1.3"\n`
    const errors = errorsOf(plain)
    for (const key of ['tls_client_auth', 'tls_client_ca', 'enable_http2', 'ocsp_stapling', 'tls_min_version']) {
      assert.ok(
        errors.includes(`servers.main.${key}: applies to a TLS server only: set tls_cert and tls_key, certificates or global_certificates`),
        `${key}:\n${errors.join('\n')}`,
      )
    }
    const tls = loadConfigText(`${base}tls_cert = "/c.pem"\ntls_key = "/k.pem"\nenable_http2 = true\ntls_min_version = "1.3"\n`)
    assert.ok(tls.ok, tls.ok ? '' : formatConfigErrors(tls.errors))
  })

  test('lists shape and reference errors in one run', () => {
    const errors = errorsOf(base.replace('upstream = "api"', 'upstream = "apii"\nbogus = 1'))
    assert.equal(errors.length, 2, errors.join('\n'))
  })

  test('refuses a "__proto__" resource of a JSON config, which JSON.parse keeps as an own key', () => {
    const result = validateConfig(JSON.parse('{"upstreams":{"__proto__":{"addrs":["127.0.0.1:1"]}}}'))
    assert.equal(result.ok, false)
    assert.deepEqual(result.ok ? [] : result.errors.map((e) => e.path), ['upstreams.__proto__'])
  })

  test('lists plugin errors together with a shape error elsewhere', () => {
    const errors = errorsOf(
      `${base}\n[basic]\nnam = "x"\n[plugins.a]\ntype = "limit"\nrate = "fast"\n[plugins.b]\ntype = "limit"\nkey = 5\n[plugins.c]\ntype = "nope"`,
    )
    const paths = errors.map((e) => e.split(':')[0])
    assert.ok(paths.includes('basic.nam'), errors.join('\n'))
    assert.ok(paths.includes('plugins.a.rate'), errors.join('\n'))
    assert.ok(paths.includes('plugins.b.key'), errors.join('\n'))
    assert.ok(paths.includes('plugins.c.type'), errors.join('\n'))
  })

  test('does not change its input', () => {
    const input = { servers: { s: { addr: '127.0.0.1:1' } } }
    const copy = structuredClone(input)
    validateConfig(input)
    assert.deepEqual(input, copy)
  })

  test('hash is the same for equal configs written differently', () => {
    const a = loadConfigText(base)
    const b = loadConfigText(`
[servers.main]
locations = ["api"]
addr = "127.0.0.1:8080"
[locations.api]
path = "/api"
upstream = "api"
[upstreams.api]
addrs = ["127.0.0.1:8001", "127.0.0.1:8002 3"]
`)
    assert.ok(a.ok && b.ok)
    assert.equal(configHash(a.config), configHash(b.config))
    assert.match(configHash(a.config), /^[0-9a-f]{64}$/)
  })
})
