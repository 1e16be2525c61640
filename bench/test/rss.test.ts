import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { readGroupCpuNsByThread } from '../rss.ts'

test('readGroupCpuNsByThread sums a process group CPU time by thread name, in nanoseconds', async () => {
  // A child in a group of its own that spins its main thread for 300 ms and then waits to be read.
  const child = spawn(
    process.execPath,
    ['-e', 'const end = Date.now() + 300; while (Date.now() < end); console.log("spun"); setInterval(() => {}, 1000)'],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  try {
    await once(child.stdout, 'data')
    const pgid = child.pid as number
    const byThread = readGroupCpuNsByThread(pgid)
    const main = byThread.get('MainThread') ?? byThread.get('node') ?? 0
    assert.ok(main >= 250e6, `the main thread spun 300 ms, read ${main} ns`)
    assert.ok(main < 60e9, `a plausible figure, not ticks or garbage: ${main}`)
    assert.equal(readGroupCpuNsByThread(2 ** 22 + 12345).size, 0, 'a group with no process has no threads')
  } finally {
    child.kill()
  }
})
