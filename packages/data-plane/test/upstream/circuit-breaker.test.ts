import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type CircuitState, createCircuitBreaker } from '../../src/upstream/circuit-breaker.ts'
import { backendsFor } from './upstream-config.ts'

function breaker(failures = 3, openDurationMs = 1000) {
  const changes: CircuitState[] = []
  const b = createCircuitBreaker({ failures, openDurationMs, onStateChange: (s) => changes.push(s) })
  const fail = (now: number) => {
    b.onRequestStart(now)
    b.onRequestEnd(true, now)
  }
  return { b, changes, fail }
}

describe('circuit breaker', () => {
  test('opens after N consecutive failures and is unavailable while open', () => {
    const { b, fail } = breaker(3)
    fail(0)
    fail(1)
    assert.equal(b.state(2), 'closed')
    assert.ok(b.isAvailable(2))
    fail(2)
    assert.equal(b.state(3), 'open')
    assert.equal(b.isAvailable(3), false)
    assert.equal(b.isAvailable(1001), false)
  })

  test('a success resets the failure count', () => {
    const { b, fail } = breaker(3)
    fail(0)
    fail(1)
    b.onRequestStart(2)
    b.onRequestEnd(false, 2)
    fail(3)
    fail(4)
    assert.equal(b.state(5), 'closed')
  })

  test('after the open period lets exactly one trial request through', () => {
    const { b, fail } = breaker(1, 1000)
    fail(0)
    assert.equal(b.state(999), 'open')
    assert.equal(b.state(1000), 'half_open')
    assert.ok(b.isAvailable(1000))
    b.onRequestStart(1000)
    assert.equal(b.isAvailable(1001), false)
    assert.equal(b.isAvailable(5000), false)
  })

  test('a successful trial closes the circuit', () => {
    const { b, fail, changes } = breaker(2, 1000)
    fail(0)
    fail(0)
    b.onRequestStart(1500)
    b.onRequestEnd(false, 1600)
    assert.equal(b.state(1600), 'closed')
    assert.ok(b.isAvailable(1600))
    assert.deepEqual(changes, ['open', 'half_open', 'closed'])
    fail(1700)
    assert.equal(b.state(1700), 'closed', 'the failure count starts again from zero')
  })

  test('a failed trial opens the circuit for another period', () => {
    const { b, fail, changes } = breaker(2, 1000)
    fail(0)
    fail(0)
    b.onRequestStart(1000)
    b.onRequestEnd(true, 1200)
    assert.equal(b.state(1200), 'open')
    assert.equal(b.isAvailable(2199), false)
    assert.equal(b.state(2200), 'half_open')
    assert.ok(b.isAvailable(2200))
    assert.deepEqual(changes, ['open', 'half_open', 'open', 'half_open'])
  })

  test('requests ending while open do not change the state', () => {
    const { b, fail } = breaker(1, 1000)
    fail(0)
    b.onRequestEnd(false, 500)
    assert.equal(b.state(500), 'open')
  })

  test('0 failures disables the breaker', () => {
    const { b, fail } = breaker(0)
    for (let i = 0; i < 100; i++) fail(i)
    assert.equal(b.state(100), 'closed')
    assert.ok(b.isAvailable(100))
  })

  test('a backend becomes unavailable when its circuit opens and is tried again later', async () => {
    let now = 0
    const [backend] = backendsFor(['10.2.0.1:80'], () => now)
    try {
      for (let i = 0; i < 5; i++) {
        backend!.onRequestStart()
        backend!.onRequestEnd(true)
      }
      assert.equal(backend!.isAvailable(now), false)
      now = 10_000
      assert.ok(backend!.isAvailable(now))
      backend!.onRequestStart()
      assert.equal(backend!.isAvailable(now), false)
      backend!.onRequestEnd(false)
      assert.ok(backend!.isAvailable(now))
      assert.equal(backend!.inflight, 0)
    } finally {
      await backend!.close()
    }
  })
})
