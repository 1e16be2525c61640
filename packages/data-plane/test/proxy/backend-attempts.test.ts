import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BackendAttempts } from '../../src/proxy/backend-attempts.ts'
import { createUpstream } from '../../src/upstream/index.ts'
import { recordingLogger, upstreamConfig } from '../upstream/upstream-config.ts'

const balance = { clientIp: '127.0.0.1', headers: {}, query: '' }

test('each attempt goes to an untried backend, and retries stop at max_retries', async () => {
  const upstream = createUpstream('api', upstreamConfig({ addrs: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], max_retries: 1 }), {
    logger: recordingLogger(),
  })
  try {
    const attempts = new BackendAttempts(upstream, balance)
    const first = attempts.start()
    assert.ok(first)
    attempts.end(true)
    assert.equal(attempts.mayRetry(), true)
    const second = attempts.start()
    assert.ok(second)
    assert.notEqual(second.id, first.id)
    attempts.end(true)
    assert.equal(attempts.count, 2)
    assert.equal(attempts.mayRetry(), false, 'one retry allowed, one made')
  } finally {
    await upstream.close()
  }
})

test('ending an attempt twice counts it once, and no backend left names the right error', async () => {
  const upstream = createUpstream('one', upstreamConfig({ addrs: ['127.0.0.1:1'] }), { logger: recordingLogger() })
  try {
    const attempts = new BackendAttempts(upstream, balance)
    assert.equal(attempts.noBackendCode(), 'NO_HEALTHY_BACKEND')
    const backend = attempts.start()
    assert.equal(backend?.inflight, 1)
    attempts.end(false)
    attempts.end(false)
    assert.equal(backend?.inflight, 0, 'the in-flight count does not go below zero')
    assert.equal(attempts.mayRetry(), false, 'every backend was tried')
    assert.equal(attempts.start(), undefined)
    assert.equal(attempts.noBackendCode(), 'UPSTREAM_CONNECT')
  } finally {
    await upstream.close()
  }
})
