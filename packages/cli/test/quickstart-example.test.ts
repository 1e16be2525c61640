import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { loadConfigText } from '@fleetgate/schema'

const EXAMPLE = new URL('../../../examples/quickstart.toml', import.meta.url)

test('the quick start header points curl at the status listener of its [metrics] addr', async () => {
  const text = await readFile(EXAMPLE, 'utf8')
  const loaded = loadConfigText(text)
  assert.ok(loaded.ok, 'the example is valid')
  const statusPort = loaded.config.metrics.addr?.split(':').at(-1)
  const urls = [...text.matchAll(/^#.*localhost:(\d+)\/status/gm)].map((m) => m[1])
  assert.ok(urls.length > 0, 'the header shows a /status URL')
  for (const port of urls) assert.equal(port, statusPort)
})
