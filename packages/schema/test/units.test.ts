import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseBackendAddr, parseDuration, parseHealthCheck, parseListenAddr, parseSize } from '../src/index.ts'

test('parses durations', () => {
  for (const [text, ms] of [
    ['500ms', 500],
    ['3s', 3000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1.5s', 1500],
  ] as const) {
    assert.equal(parseDuration(text), ms, text)
  }
  for (const bad of ['', '3', '3x', 's', '1m 30s']) assert.throws(() => parseDuration(bad), /invalid duration/, bad)
})

test('parses sizes', () => {
  for (const [text, bytes] of [
    ['512b', 512],
    ['16kb', 16384],
    ['1mb', 1048576],
    ['2GB', 2 * 1024 ** 3],
    ['100', 100],
  ] as const) {
    assert.equal(parseSize(text), bytes, text)
  }
  assert.equal(parseSize(42), 42)
  assert.throws(() => parseSize('1tb'), /invalid size/)
})

test('parses backend and listen addresses', () => {
  assert.deepEqual(parseBackendAddr('10.0.0.1:80 3'), { host: '10.0.0.1', port: 80, weight: 3, id: '10.0.0.1:80' })
  assert.deepEqual(parseBackendAddr('[::1]:8080'), { host: '::1', port: 8080, weight: 1, id: '[::1]:8080' })
  assert.throws(() => parseBackendAddr('host:99999'), /invalid port/)
  assert.deepEqual(parseListenAddr(':8080'), { host: '0.0.0.0', port: 8080 })
})

test('parses health checks with defaults and passes unknown query keys to the probe path', () => {
  const spec = parseHealthCheck('http://api.internal/healthz?interval=2s&failure=3&deep=1')
  assert.equal(spec.kind, 'http')
  assert.equal(spec.host, 'api.internal')
  assert.equal(spec.path, '/healthz?deep=1')
  assert.equal(spec.intervalMs, 2000)
  assert.equal(spec.failure, 3)
  assert.equal(spec.success, 1)
  assert.equal(parseHealthCheck('tcp://').kind, 'tcp')
})
