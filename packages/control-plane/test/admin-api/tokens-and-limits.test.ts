import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { generateAdminToken } from '../../src/admin-api/admin-tokens.ts'
import { AuthFailureLimiter } from '../../src/admin-api/auth-failure-limiter.ts'
import { resolveAdminTokens, tokenMatcher } from '../../src/index.ts'

describe('resolveAdminTokens', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-tokens-'))
  })
  after(async () => await rm(dir, { recursive: true, force: true }))

  test('reads token files (one a line, # comments) and comma-separated environment variables', async () => {
    await writeFile(join(dir, 'admin'), '# rotated monthly\nfirst-admin-token\n\nsecond-admin-token  # new\n')
    const { tokens, generated } = await resolveAdminTokens({
      adminTokenFile: join(dir, 'admin'),
      env: { FLEETGATE_ADMIN_TOKEN: 'env-admin', FLEETGATE_READONLY_TOKEN: 'view-1, view-2' },
      tokenStore: join(dir, 'unused', 'store'),
    })
    assert.deepEqual(tokens, { admin: ['first-admin-token', 'second-admin-token', 'env-admin'], readonly: ['view-1', 'view-2'] })
    assert.equal(generated, null)
    await assert.rejects(stat(join(dir, 'unused')), /ENOENT/)
  })

  test('refuses a token file that is missing or holds no token', async () => {
    await writeFile(join(dir, 'empty'), '# nothing\n\n')
    await assert.rejects(resolveAdminTokens({ adminTokenFile: join(dir, 'empty'), env: {}, tokenStore: join(dir, 's') }), /holds no token/)
    await assert.rejects(
      resolveAdminTokens({ readonlyTokenFile: join(dir, 'nope'), env: {}, tokenStore: join(dir, 's') }),
      /cannot read token file/,
    )
  })

  test('generates an admin token once into a 0600 file and reuses it afterwards', async () => {
    const tokenStore = join(dir, 'home', '.fleetgate', 'prod.admin-token')
    const first = await resolveAdminTokens({ env: { FLEETGATE_READONLY_TOKEN: 'viewer' }, tokenStore })
    assert.ok(first.generated && first.generated.length >= 40)
    assert.deepEqual(first.tokens, { admin: [first.generated], readonly: ['viewer'] })
    assert.equal((await stat(tokenStore)).mode & 0o777, 0o600)
    assert.equal((await readFile(tokenStore, 'utf8')).trim(), first.generated)
    const second = await resolveAdminTokens({ env: {}, tokenStore })
    assert.equal(second.generated, null)
    assert.deepEqual(second.tokens.admin, [first.generated])
  })

  test('a generated token never starts with "-", even when its random bytes encode to one', () => {
    // 0xf8 is 111110 in its first six bits: base64url "-".
    const bytes = Buffer.alloc(32, 0xf8)
    assert.match(bytes.toString('base64url'), /^-/)
    const token = generateAdminToken(bytes)
    assert.doesNotMatch(token, /^-/)
    assert.ok(token.endsWith(bytes.toString('base64url')), 'keeps all 256 random bits')
  })
})

describe('tokenMatcher', () => {
  test('maps each token to its role and anything else to nothing', () => {
    const roleOf = tokenMatcher({ admin: ['a-token'], readonly: ['r-token'] })
    assert.equal(roleOf('a-token'), 'admin')
    assert.equal(roleOf('r-token'), 'readonly')
    for (const wrong of ['', 'a-toke', 'a-token ', 'A-TOKEN', 'r-token-longer']) assert.equal(roleOf(wrong), undefined, wrong)
  })
})

describe('AuthFailureLimiter', () => {
  test('blocks an address after max failures until its window ends, counting Retry-After down', () => {
    let now = 1_000_000
    const limiter = new AuthFailureLimiter({ max: 2, windowMs: 60_000 }, () => now)
    limiter.fail('10.0.0.1')
    assert.equal(limiter.blockedFor('10.0.0.1'), 0)
    limiter.fail('10.0.0.1')
    assert.equal(limiter.blockedFor('10.0.0.1'), 60)
    assert.equal(limiter.blockedFor('10.0.0.2'), 0)
    now += 59_500
    assert.equal(limiter.blockedFor('10.0.0.1'), 1)
    now += 500
    assert.equal(limiter.blockedFor('10.0.0.1'), 0)
  })

  test('keeps tracking new addresses when its table is full', () => {
    const now = 0
    const limiter = new AuthFailureLimiter({ max: 1, windowMs: 60_000 }, () => now)
    for (let i = 0; i < 10_001; i++) limiter.fail(`addr-${i}`)
    assert.equal(limiter.blockedFor('addr-10000'), 60)
    assert.equal(limiter.blockedFor('addr-0'), 0, 'the oldest entry made room')
  })
})
