import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseWrkOutput, parseWrkTime } from '../wrk.ts'

// Printed by wrk 4.1.0 with --latency against a proxy that answered some requests with 502.
const withErrors = `Running 5s test @ http://127.0.0.1:40101/api/v1/items
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.05ms    4.51ms  61.20ms   94.37%
    Req/Sec    17.71k     1.93k   20.33k    76.00%
  Latency Distribution
     50%    2.21ms
     75%    2.86ms
     90%    4.07ms
     99%   29.06ms
  88092 requests in 5.00s, 21.76MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:  17610.42
Transfer/sec:      4.35MB
`

const clean = `Running 5s test @ http://127.0.0.1:40102/api/v1/items
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   808.27us  393.50us  12.80ms   95.12%
    Req/Sec    55.71k     3.22k   60.01k    78.00%
  Latency Distribution
     50%  780.00us
     75%    0.87ms
     90%    1.01ms
     99%    2.28ms
  277198 requests in 5.00s, 55.27MB read
Requests/sec:  55439.12
Transfer/sec:     11.05MB
`

test('reads requests/s, percentiles and both kinds of errors from wrk --latency output', () => {
  assert.deepEqual(parseWrkOutput(withErrors), {
    requestsPerSec: 17610.42,
    requests: 88092,
    p50Ms: 2.21,
    p99Ms: 29.06,
    non2xx: 17,
    socketErrors: 6,
  })
})

test('counts no errors when wrk prints neither error line', () => {
  const r = parseWrkOutput(clean)
  assert.equal(r.non2xx + r.socketErrors, 0)
  assert.equal(r.p50Ms, 0.78)
  assert.equal(r.requestsPerSec, 55439.12)
})

test('refuses output without a summary', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /no summary/)
})

test('refuses output without the latency distribution', () => {
  const noLatency = clean.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, '')
  assert.throws(() => parseWrkOutput(noLatency), /no 50% latency/)
})

for (const [text, expected] of [
  ['250.00us', 0.25],
  ['5.01ms', 5.01],
  ['1.20s', 1200],
  ['2.00m', 120_000],
] as const) {
  test(`converts the wrk time ${text} to ${expected} ms`, () => {
    assert.equal(parseWrkTime(text), expected)
  })
}
