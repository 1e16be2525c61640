import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { configHash } from '@fleetgate/schema'
import { readConfigCache, writeConfigCache } from '../../src/fleet/config-cache.ts'
import { configFor } from './fleet-fixture.ts'

let dir: string

function entryFor(config: unknown) {
  return { gen: 7, sha256: configHash(config), savedAt: new Date().toISOString(), gatewayVersion: '0.0.0', config }
}

describe('config cache file', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-cache-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  test('reads back what it wrote, validated, from a file of mode 0600 with no temp file left', async () => {
    const path = join(dir, 'roundtrip.json')
    const config = configFor('127.0.0.1:1')
    await writeConfigCache(path, entryFor(config))
    const loaded = await readConfigCache(path)
    assert.equal(loaded?.entry.gen, 7)
    assert.deepEqual(loaded?.entry.config, config)
    assert.equal(loaded?.config.locations.root?.upstream, 'app')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(dir), ['roundtrip.json'])
  })

  test('replaces an existing file whole', async () => {
    const path = join(dir, 'replace.json')
    await writeConfigCache(path, entryFor(configFor('127.0.0.1:1')))
    await writeConfigCache(path, { ...entryFor(configFor('127.0.0.1:2')), gen: 8 })
    assert.equal((await readConfigCache(path))?.entry.gen, 8)
  })

  test('resolves undefined when there is no file', async () => {
    assert.equal(await readConfigCache(join(dir, 'absent.json')), undefined)
  })

  test('refuses a file whose config does not match its sha256', async () => {
    const path = join(dir, 'tampered.json')
    await writeConfigCache(path, entryFor(configFor('127.0.0.1:1')))
    const text = await readFile(path, 'utf8')
    await writeFile(path, text.replace('127.0.0.1:1', '127.0.0.1:9'))
    await assert.rejects(readConfigCache(path), /sha256 mismatch/)
  })

  test('refuses a file whose config no longer validates', async () => {
    const path = join(dir, 'invalid.json')
    await writeConfigCache(path, entryFor(configFor('127.0.0.1:1', { upstream: 'nope' })))
    await assert.rejects(readConfigCache(path), /locations\.root\.upstream/)
  })

  test('refuses a truncated file', async () => {
    const path = join(dir, 'truncated.json')
    await writeFile(path, '{"gen": 1, "sha')
    await assert.rejects(readConfigCache(path), /not JSON/)
  })
})
