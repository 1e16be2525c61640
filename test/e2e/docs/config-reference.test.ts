// docs/config.md is generated from the schemas; this fails when a key changes and the docs were not regenerated.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { promisify } from 'node:util'

const root = new URL('../../../', import.meta.url)

test('docs/config.md matches the schemas (regenerate with node scripts/config-reference.ts > docs/config.md)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [new URL('scripts/config-reference.ts', root).pathname], {
    cwd: root.pathname,
  })
  const committed = await readFile(new URL('docs/config.md', root), 'utf8')
  assert.equal(committed, stdout)
})
