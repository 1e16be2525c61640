import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TargetResult } from '../report.ts'
import { medianRuns, roundsSection } from '../rounds.ts'
import { median, percentChange, quantile } from '../stats.ts'

function ok(name: string, rps: number, us: number): TargetResult {
  const wrk = { requestsPerSec: rps, p50Ms: 1, p99Ms: 2, non2xx: 0, socketErrors: 0, requests: rps * 10 }
  return { name, describe: name, status: 'ok', wrk, idleRssKb: 1, peakRssKb: 1, cpu: { proxy: 99, load: 40, usPerRequest: us } }
}

const rounds: TargetResult[][] = [
  [ok('fleetgate', 10_000, 100), ok('fleetgate-plugins', 9_000, 110)],
  [ok('fleetgate', 20_000, 50), ok('fleetgate-plugins', 17_000, 60)],
  [ok('fleetgate', 15_000, 66), { name: 'fleetgate-plugins', describe: 'x', status: 'failed', error: 'boom' }],
]

test('medianRuns keeps, per target, the real round with the median req/s', () => {
  const [plain, plugins] = medianRuns(rounds)
  assert.equal(plain?.status === 'ok' && plain.wrk.requestsPerSec, 15_000)
  // Two successful rounds: the lower middle one.
  assert.equal(plugins?.status === 'ok' && plugins.wrk.requestsPerSec, 9_000)
})

test('roundsSection takes each ratio within its round, then the median', () => {
  const lines = roundsSection(rounds)
  const plugins = lines.find((l) => l.startsWith('| fleetgate-plugins'))
  // req/s ratios 0.90 and 0.85 -> median 0.875 -> -13% (-12.5 rounds away from zero); CPU ratios 1.10 and 1.20 -> +15%.
  assert.equal(plugins, '| fleetgate-plugins | 9000 17000 – | 110 60 – | -13% | +15% |')
  assert.deepEqual(roundsSection([rounds[0] as TargetResult[]]), [], 'one round: no section')
})

describe('stats', () => {
  test('quantile interpolates between neighbours, whatever the order of the values', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(quantile([10, 0, 20, 30, 40], 0.25), 10)
    assert.equal(quantile([0, 10], 0.75), 7.5)
  })
  test('percentChange signs the change', () => {
    assert.equal(percentChange(0.85), '-15%')
    assert.equal(percentChange(1.2), '+20%')
    assert.equal(percentChange(0.9123, 1), '-8.8%')
  })
})
