#!/usr/bin/env node
// The one test command (`pnpm test`): type check, lint, then every test file with Node's
// test runner. Tests start their own etcd, backends and gateways on free loopback ports.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const bin = (name) => join(root, 'node_modules/.bin', name)

function run(title, command, args) {
  process.stdout.write(`\n== ${title}\n`)
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    process.stdout.write(`\n${title} failed (exit ${r.status ?? r.signal})\n`)
    process.exit(r.status || 1)
  }
}

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) findTests(path, out)
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

for (const tool of ['etcd', 'etcdctl']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    process.stderr.write(
      `missing ${tool}: install the Debian packages etcd-server and etcd-client (sudo apt-get install -y etcd-server etcd-client)\n`,
    )
    process.exit(1)
  }
}

const filter = process.argv.slice(2)
const files = [...findTests(join(root, 'packages')), ...findTests(join(root, 'test')), ...findTests(join(root, 'bench'))]
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort()
if (filter.length === 0) {
  run('type check (tsc)', bin('tsc'), ['-p', 'tsconfig.json'])
  run('lint (biome)', bin('biome'), ['check', '.'])
}
run(`tests (${files.length} files)`, bin('node'), ['--test', '--test-concurrency=3', '--test-timeout=180000', ...files])
