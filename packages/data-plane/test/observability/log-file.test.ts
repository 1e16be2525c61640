import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { waitFor } from '@fleetgate/testkit'
import { openLogFile } from '../../src/observability/access-log/log-file.ts'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-log-file-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('access log file rotation', () => {
  test('writes every line, in order and byte for byte, across batches and with long and non-ASCII lines', async () => {
    const path = join(dir, 'exact.log')
    const errors: Error[] = []
    const file = openLogFile(path, { maxBytes: undefined, daily: false, maxFiles: 1 }, (err) => errors.push(err))
    const lines: string[] = []
    for (let i = 0; i < 3000; i++) {
      // Short ASCII, multi-byte (é is 2 bytes, 漢 3, 🚀 4 as a surrogate pair), and now and then a
      // line longer than a whole batch.
      const body = i % 500 === 7 ? `${'é漢🚀'.repeat(20_000)}` : i % 3 === 0 ? `GET /é/${i} 漢字 🚀` : `GET /plain/${i}`
      lines.push(`${i} ${body}\n`)
    }
    for (const line of lines) file.write(line)
    await file.close()
    assert.deepEqual(errors, [])
    const written = await readFile(path)
    assert.equal(written.length, Buffer.byteLength(lines.join('')))
    assert.equal(written.toString('utf8'), lines.join(''))
  })

  test('rotates by size and keeps only max_files rotated files', async () => {
    const path = join(dir, 'access.log')
    const errors: Error[] = []
    const file = openLogFile(path, { maxBytes: 2000, daily: false, maxFiles: 2 }, (err) => errors.push(err))
    const line = `${'x'.repeat(99)}\n`
    // Four rounds of 25 lines (2500 bytes each): every round crosses the limit once.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 25; i++) file.write(line)
      await new Promise((r) => setTimeout(r, 100))
    }
    await file.close()
    const rotated = (await readdir(dir)).filter((n) => n.startsWith('access.log.'))
    assert.deepEqual(errors, [])
    assert.equal(rotated.length, 2, `rotated files: ${rotated.join(', ')}`)
    for (const name of rotated) {
      assert.match(name, /^access\.log\.\d{8}-\d{6}\.\d{3}$/)
      assert.ok((await readFile(join(dir, name), 'utf8')).length >= 2000, `${name} holds the lines written before it was rotated`)
    }
    const current = await readFile(path, 'utf8')
    assert.ok(current.length < 2000 + 2500, 'the live file restarted after the last rotation')
  })

  test('counts the lines written while a rotation runs for the new file, and rotates it once full', async () => {
    const path = join(dir, 'busy.log')
    const errors: Error[] = []
    const file = openLogFile(path, { maxBytes: 2000, daily: false, maxFiles: 5 }, (err) => errors.push(err))
    await new Promise((r) => setTimeout(r, 50)) // the file is open
    const line = `${'y'.repeat(99)}\n`
    // In one synchronous run: the 20th line (2000 bytes) starts a rotation, and the 25 after it
    // (2500 bytes) are all written while it runs. They are counted for the new file, which is
    // then full: it rotates as soon as the first rotation is done, with no more lines to come.
    for (let i = 0; i < 45; i++) file.write(line)
    await waitFor('two rotations', async () => (await readdir(dir)).filter((n) => n.startsWith('busy.log.')).length === 2, 5000)
    await file.close()
    assert.deepEqual(errors, [])
  })

  test('reports a path that cannot be opened once, and drops lines without throwing', async () => {
    const errors: Error[] = []
    const file = openLogFile(join(dir, 'access.log', 'nested', 'x.log'), { maxBytes: undefined, daily: false, maxFiles: 1 }, (err) =>
      errors.push(err),
    )
    file.write('one\n')
    await waitFor('the open error', () => errors.length > 0, 2_000)
    for (let i = 0; i < 10; i++) file.write('more\n')
    await new Promise((r) => setTimeout(r, 1_200))
    assert.equal(errors.length, 1)
    assert.equal(file.failed, true)
    await file.close()
  })
})
