// Reloading a file-mode gateway: a changed file is served as a new generation, a broken one
// is rejected while the old config keeps serving, SIGHUP reloads, a reload under load fails no
// request, and an unchanged upstream keeps its health state across a reload.
import assert from 'node:assert/strict'
import { open, rename, symlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const backends: Record<string, TestBackend> = {}
let h1Health = 200
let gateway: GatewayProcess
let port: number
let generation = 1
const agent = new Agent({ connections: 24 })

interface Variant {
  /** Sent upstream as X-Variant by the "load" location: changing it changes only that location. */
  variant: string
  /** An extra location (upstream "main") answering on `path`. */
  extra?: { name: string; path: string }
  /** Replaces the "load" location's upstream (to reference one that does not exist). */
  loadUpstream?: string
}

function configFor(v: Variant): string {
  const extra = v.extra
    ? `[locations.${v.extra.name}]\nupstream = "main"\npath = "${v.extra.path}"\nheaders_set = ["X-Route:${v.extra.name}"]\n`
    : ''
  return `
[upstreams.main]
addrs = ["${backends.main?.addr}"]

[upstreams.checked]
addrs = ["${backends.h1?.addr}", "${backends.h2?.addr}"]
health_check = "http://check/healthz?interval=300ms&failure=2&success=1&timeout=200ms"

[locations.load]
upstream = "${v.loadUpstream ?? 'main'}"
path = "/load"
headers_set = ["X-Variant:${v.variant}"]

[locations.checked]
upstream = "checked"
path = "/checked"

${extra}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["load", "checked"${v.extra ? `, "${v.extra.name}"` : ''}]
`
}

/** Writes a valid config and waits for the gateway to serve it as the next generation. */
async function apply(v: Variant): Promise<void> {
  await gateway.writeConfig(configFor(v))
  generation++
  await gateway.waitForGeneration(generation)
}

before(async () => {
  backends.main = await startBackend('main')
  backends.h1 = await startBackend('h1', (req, res) => {
    if (req.url === '/healthz') res.writeHead(h1Health).end()
    else res.writeHead(200, { 'x-backend': 'h1' }).end()
  })
  backends.h2 = await startBackend('h2', (_req, res) => res.writeHead(200, { 'x-backend': 'h2' }).end())
  port = await freePort()
  gateway = await startGateway(configFor({ variant: 'v0' }))
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  for (const b of Object.values(backends)) await b.close()
})

async function get(path: string) {
  const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

test('a changed file is served as the next generation', async () => {
  assert.equal((await get('/added')).status, 404)
  await apply({ variant: 'v0', extra: { name: 'added', path: '/added' } })
  const res = await get('/added')
  assert.equal(res.status, 200)
  assert.equal(JSON.parse(res.text).headers['x-route'], 'added')
})

test('a broken file is rejected, reported in /status, and the old config keeps serving', async () => {
  // An empty file (one caught mid-write: `cat new > file` truncates first) would drop every route.
  await gateway.writeConfig('')
  await waitFor('lastError after an empty file', async () => /the file is empty/.test(String((await gateway.status()).lastError)), 5000)
  assert.equal((await gateway.status()).generation, generation)
  assert.equal((await get('/added')).status, 200)

  await gateway.writeConfig('[upstreams.main\naddrs = = "oops"\n')
  await waitFor('lastError after bad TOML', async () => (await gateway.status()).lastError, 5000)
  let status = await gateway.status()
  assert.equal(status.generation, generation)
  assert.equal((await get('/added')).status, 200)

  await gateway.writeConfig(configFor({ variant: 'v0', extra: { name: 'added', path: '/added' }, loadUpstream: 'mian' }))
  await waitFor('lastError naming the unknown upstream', async () => /mian/.test(String((await gateway.status()).lastError)), 5000)
  status = await gateway.status()
  assert.match(String(status.lastError), /locations\.load\.upstream/)
  assert.equal(status.generation, generation)
  assert.equal((await get('/added')).status, 200)
  assert.equal(JSON.parse((await get('/load')).text).headers['x-variant'], 'v0')

  // The file put back as it was: nothing to apply, and the rejection no longer stands.
  await gateway.writeConfig(configFor({ variant: 'v0', extra: { name: 'added', path: '/added' } }))
  await waitFor('lastError cleared by the reverted file', async () => (await gateway.status()).lastError === null, 5000)
  assert.equal((await gateway.status()).generation, generation)

  await apply({ variant: 'v1', extra: { name: 'added', path: '/added' } })
  assert.equal((await gateway.status()).lastError, null)
})

test('a headers_remove entry that is no header name is rejected on reload, and the old config keeps serving', async () => {
  const good = configFor({ variant: 'v1', extra: { name: 'added', path: '/added' } })
  await gateway.writeConfig(good.replace('path = "/load"', 'path = "/load"\nheaders_remove = ["X Secret"]'))
  await waitFor(
    'lastError naming headers_remove',
    async () => /locations\.load\.headers_remove\.0: must be a header name/.test(String((await gateway.status()).lastError)),
    5000,
  )
  assert.equal((await gateway.status()).generation, generation)
  assert.equal(JSON.parse((await get('/load')).text).headers['x-variant'], 'v1')
  await gateway.writeConfig(good)
  await waitFor('lastError cleared by the reverted file', async () => (await gateway.status()).lastError === null, 5000)
  assert.equal((await gateway.status()).generation, generation)
})

test('SIGHUP reloads a change the file watcher cannot see', async () => {
  // The config path becomes a symlink to a file whose name the watcher ignores; that file is
  // then rewritten in place with the same size and mtime, so only SIGHUP can reveal the change.
  const dir = dirname(gateway.configPath)
  const target = join(dir, 'real.toml')
  const fixedTime = 1_000_000
  await writeFile(target, configFor({ variant: 'v1', extra: { name: 'hup_old', path: '/hup-old' } }))
  await utimes(target, fixedTime, fixedTime)
  await symlink('real.toml', join(dir, 'link.tmp'))
  await rename(join(dir, 'link.tmp'), gateway.configPath)
  generation++
  await gateway.waitForGeneration(generation)
  assert.equal((await get('/hup-old')).status, 200)
  // Let the 1 s stat poll record the symlink's target before the silent edit (two periods, for a busy box).
  await sleep(2100)

  const next = Buffer.from(configFor({ variant: 'v1', extra: { name: 'hup_new', path: '/hup-new' } }))
  const file = await open(target, 'r+')
  await file.write(next, 0, next.length, 0)
  await file.utimes(fixedTime, fixedTime)
  await file.close()
  await sleep(1300)
  assert.equal((await gateway.status()).generation, generation, 'the watcher reloaded without SIGHUP: the test proves nothing')
  assert.equal((await get('/hup-new')).status, 404)

  process.kill(gateway.process.pid, 'SIGHUP')
  generation++
  await gateway.waitForGeneration(generation)
  assert.equal((await get('/hup-new')).status, 200)
  assert.equal((await get('/hup-old')).status, 404)
})

test('5 reloads under 20 concurrent clients fail no request', async () => {
  let sent = 0
  let reloadsDone = false
  const failures: string[] = []
  const variants = new Set<string>()
  const worker = async () => {
    while (sent < 2000 || !reloadsDone) {
      sent++
      try {
        const res = await get('/load')
        if (res.status !== 200) failures.push(`${res.status} ${res.text}`)
        else variants.add(JSON.parse(res.text).headers['x-variant'])
      } catch (err) {
        failures.push(String(err))
      }
    }
  }
  const load = Promise.all(Array.from({ length: 20 }, worker))
  for (let i = 1; i <= 5; i++) {
    await sleep(60)
    await apply({ variant: `load-${i}` })
  }
  reloadsDone = true
  await load
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`)
  assert.ok(sent >= 2000)
  // The reloads really happened while requests were flowing.
  assert.ok(variants.size >= 3, `variants seen: ${[...variants].join(', ')}`)
  assert.ok(variants.has('load-5'))
})

test('an unchanged upstream keeps a health-check ejection across a reload that changes a location', async () => {
  h1Health = 500
  const onlyH2 = async (n: number) => {
    for (let i = 0; i < n; i++) if ((await get('/checked')).headers['x-backend'] !== 'h2') return false
    return true
  }
  await waitFor('h1 ejected by its health check', () => onlyH2(6), 5000)
  await apply({ variant: 'health-reload' })
  // A fresh upstream would start with h1 up and need two failed checks (>= 300 ms) to eject it.
  assert.ok(await onlyH2(20), 'h1 served requests right after the reload: its health state was lost')
  assert.equal(JSON.parse((await get('/load')).text).headers['x-variant'], 'health-reload')
})
