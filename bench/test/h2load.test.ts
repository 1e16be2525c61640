import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseH2loadOutput, parseH2loadTime } from '../h2load.ts'

// Printed by h2load (nghttp2 1.52.0) for gRPC unary calls to a grpc-js server.
const output = `starting benchmark...
spawning thread #0: 10 total client(s). Timing-based test with 3s of warm-up time and 10s of main duration for measurements.
Warm-up started for thread #0.
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 10.00s, 19917.30 req/s, 1.61MB/s
requests: 199173 total, 199273 started, 199173 done, 199153 succeeded, 20 failed, 0 errored, 0 timeout
status codes: 199173 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 16.14MB (16924388) total, 1.04MB (1095451) headers (space savings 96.08%), 13.10MB (13742937) data
                     min         max         mean         sd        +/- sd
time for request:      462us     57.11ms      5.02ms      2.25ms    81.44%
time for connect:      162us       712us       392us       167us    70.00%
time to 1st byte:    14.81ms     89.95ms     49.80ms     25.30ms    60.00%
req/s           :    1991.64     2001.35     1991.73        3.40    70.00%
`

test('parses the summary of a timed h2load run', () => {
  assert.deepEqual(parseH2loadOutput(output), {
    requestsPerSec: 19917.3,
    succeeded: 199153,
    failed: 20,
    errored: 0,
    timeout: 0,
    status2xx: 199173,
    dataBytes: 13742937,
    meanMs: 5.02,
    maxMs: 57.11,
  })
})

test('reads h2load durations in us, ms and s', () => {
  assert.equal(parseH2loadTime('462us'), 0.462)
  assert.equal(parseH2loadTime('57.11ms'), 57.11)
  assert.equal(parseH2loadTime('1.5s'), 1500)
  assert.throws(() => parseH2loadTime('5 minutes'), /unreadable/)
})

test('names the missing line when h2load printed no summary (it failed to connect)', () => {
  assert.throws(() => parseH2loadOutput('No protocol negotiated. Aborted\n'), /no finished line/)
})
