import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closest, createSuggester, didYouMean } from '../src/did-you-mean.ts'

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

test('picks the first of equally close candidates and ignores case', () => {
  assert.equal(closest('API', ['apx', 'apy', 'api']), 'api')
  assert.equal(closest('abcd', ['abxy', 'abcx', 'abcy']), 'abcx')
  assert.equal(closest('kitten', ['sitting', 'mitten']), 'mitten')
  assert.equal(closest('abc', ['abcdefgh']), undefined)
})

test('a suggester gives the same hints as didYouMean for one list of names', () => {
  const names = ['api', 'web', 'Billing', 'auth-v2']
  const suggest = createSuggester(() => names)
  for (const word of ['apj', 'billin', 'auth_v2', 'zzzzzz', 'WEB']) assert.equal(suggest(word), didYouMean(word, names))
})

test('a suggester stops hinting once its budget of comparisons is spent, and stays fast', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `svc-${i}`)
  let listed = 0
  const suggest = createSuggester(() => {
    listed++
    return names
  })
  const hints = Array.from({ length: 5000 }, (_, i) => suggest(`svc_${i}`))
  assert.equal(listed, 1)
  assert.equal(hints[0], ' (did you mean "svc-0"?)')
  assert.equal(hints[199], ' (did you mean "svc-199"?)')
  assert.equal(hints.at(-1), '')
})
