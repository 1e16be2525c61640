import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createNodeFigures, quantileMs } from '../../src/fleet/node-figures.ts'
import type { HttpTotals } from '../../src/observability/http-metrics.ts'
import { REQUEST_BUCKETS } from '../../src/observability/http-metrics.ts'

/** Bucket counts with `n` requests in the bucket whose upper bound is `le` seconds. */
function counts(entries: Array<[le: number | '+Inf', n: number]>): number[] {
  const out = new Array<number>(REQUEST_BUCKETS.length + 1).fill(0)
  for (const [le, n] of entries) {
    const i = le === '+Inf' ? REQUEST_BUCKETS.length : REQUEST_BUCKETS.indexOf(le)
    assert.ok(i >= 0, `no bucket ${le}`)
    out[i] = (out[i] as number) + n
  }
  return out
}

describe('node figures', () => {
  const cases: Array<{ name: string; counts: number[]; q: number; expected: number | null }> = [
    { name: 'no request: null', counts: counts([]), q: 0.99, expected: null },
    { name: 'interpolates inside the first bucket from 0', counts: counts([[0.001, 4]]), q: 0.5, expected: 0.5 },
    {
      name: 'interpolates inside a middle bucket',
      counts: counts([
        [0.001, 50],
        [0.01, 50],
      ]),
      q: 0.99,
      expected: 9.9,
    },
    {
      name: 'p50 on a bucket boundary stays in the lower bucket',
      counts: counts([
        [0.001, 50],
        [0.01, 50],
      ]),
      q: 0.5,
      expected: 1,
    },
    {
      name: 'a quantile in +Inf reports the highest bound',
      counts: counts([
        [0.001, 1],
        ['+Inf', 9],
      ]),
      q: 0.99,
      expected: 60_000,
    },
  ]
  for (const c of cases) {
    test(`quantileMs: ${c.name}`, () => {
      const total = c.counts.reduce((a, b) => a + b, 0)
      assert.equal(quantileMs(c.counts, total, c.q), c.expected)
    })
  }

  test('reports cumulative counters and the window since the previous report', () => {
    let time = 0
    let totals: HttpTotals = { byStatusClass: [0, 0, 0, 0, 0], responseBytes: 0, errors: 0, durationCounts: counts([]), durationSum: 0 }
    const read = createNodeFigures({ totals: () => totals, activeRequests: () => 2 }, () => time)
    totals = {
      byStatusClass: [0, 8, 0, 1, 1],
      responseBytes: 500,
      errors: 2,
      durationCounts: counts([[0.005, 10]]),
      durationSum: 0.04,
    }
    time = 2000
    const first = read()
    assert.equal(first.requests, 10)
    assert.deepEqual(first.responses, { '1xx': 0, '2xx': 8, '3xx': 0, '4xx': 1, '5xx': 1 })
    assert.equal(first.gatewayErrors, 2)
    assert.equal(first.bytesOut, 500)
    assert.equal(first.activeRequests, 2)
    assert.ok(first.rssBytes > 0)
    assert.deepEqual(first.recent, {
      seconds: 2,
      requests: 10,
      responses5xx: 1,
      requestsPerSecond: 5,
      p50Ms: 3.75,
      p99Ms: 4.975,
      meanMs: 4,
    })
    // A status change 100 ms later writes again: the window is too short, the last one is kept.
    time = 2100
    assert.deepEqual(read().recent, first.recent)
    time = 4000
    const idle = read()
    assert.equal(idle.requests, 10)
    assert.deepEqual(idle.recent, {
      seconds: 2,
      requests: 0,
      responses5xx: 0,
      requestsPerSecond: 0,
      p50Ms: null,
      p99Ms: null,
      meanMs: null,
    })
  })
})
