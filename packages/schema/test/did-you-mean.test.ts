import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closest, didYouMean } from '../src/did-you-mean.ts'

test('suggests the closest string within the typo limit', () => {
  assert.equal(closest('gzp', ['zstd', 'br', 'gzip']), 'gzip')
  assert.equal(didYouMean('least_con', ['round_robin', 'least_conn']), ' (did you mean "least_conn"?)')
  assert.equal(didYouMean('nothing-like', ['a', 'b']), '')
})

test('takes numeric candidates, suggesting one only when it is written the same', () => {
  const statuses = [301, 302, 303, 307, 308]
  assert.equal(didYouMean('302', statuses), ' (did you mean 302?)')
  assert.equal(didYouMean('399', statuses), '')
  assert.equal(didYouMean('301.5', statuses), '')
  assert.equal(didYouMean('true', [true, false]), ' (did you mean true?)')
})
