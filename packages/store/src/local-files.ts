import { mkdir, open, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { StoreError } from './store-error.ts'

/** One stored key. `lease` is set while the key is attached to a lease. */
export interface Entry {
  value: Buffer
  createRevision: number
  modRevision: number
  lease?: string
}

/** How one key changes in a commit: `next` undefined means deleted. */
export interface Change {
  key: string
  prev: Entry | undefined
  next: Entry | undefined
}

/** What a store folder held when opened. */
export interface LoadedFolder {
  files: LocalFiles
  entries: Map<string, Entry>
  revision: number
}

/** A brand-new store starts at revision 1, as a new etcd cluster does. */
const FIRST_REVISION = 1
/** Key files written (and synced) at once in a commit: enough to keep the thread pool and the disk busy. */
const WRITE_CONCURRENCY = 16
const openFolders = new Set<string>()

/**
 * The on-disk side of the local store. Layout under `dir`:
 * - `keys/`: one file per key. Each `/`-separated key segment is percent-encoded (bytes outside
 *   `[A-Za-z0-9_.-]`, and a leading dot); directories get `.d` and files `.kv`, so `a` and `a/b` never
 *   collide. A file is a JSON header line `{"c","m","l"}` followed by the raw value.
 * - `revision`: the store revision after the last commit.
 * - `journal`: a commit being applied, values included. It is written (temp + fsync + rename + fsync of
 *   the folder) before any key file changes and removed only once every key file is synced, so a crash
 *   mid-commit is finished on the next open: multi-key txns stay atomic. Because of that replay, key
 *   files are written in place, several at a time, instead of one temp + fsync + rename after another
 *   (5,000 keys took 6-9 s that way).
 * - `owner.pid`: the owning process; one process owns the folder.
 */
export class LocalFiles {
  readonly #dir: string
  #tmpCounter = 0

  private constructor(dir: string) {
    this.#dir = dir
  }

  /** Takes ownership of `dir` (creating it), finishes an interrupted commit, and loads every key. */
  static async open(dir: string): Promise<LoadedFolder> {
    const root = resolve(dir)
    if (openFolders.has(root)) throw new StoreError('LOCKED', `store folder ${root} is already open in this process`)
    await mkdir(join(root, 'keys'), { recursive: true })
    await claimOwnership(root)
    openFolders.add(root)
    const files = new LocalFiles(root)
    try {
      return { files, ...(await files.#load()) }
    } catch (err) {
      await files.close()
      throw err
    }
  }

  /** Durably applies `changes` as `revision`: journal first, then key files, then the revision file. */
  async commit(revision: number, changes: Change[]): Promise<void> {
    const journal = JSON.stringify({ revision, changes: changes.map(toJournalChange) })
    await this.#writeAtomic(join(this.#dir, 'journal'), Buffer.from(journal))
    await syncDir(this.#dir)
    await this.#apply(revision, changes)
    await unlink(join(this.#dir, 'journal'))
  }

  /** Gives up ownership of the folder. */
  async close(): Promise<void> {
    openFolders.delete(this.#dir)
    await unlink(join(this.#dir, 'owner.pid')).catch(() => {})
  }

  async #load(): Promise<{ entries: Map<string, Entry>; revision: number }> {
    await rm(join(this.#dir, 'tmp'), { recursive: true, force: true })
    await mkdir(join(this.#dir, 'tmp'))
    await this.#replayJournal()
    const entries = await loadEntries(join(this.#dir, 'keys'))
    let revision = Number((await readFile(join(this.#dir, 'revision'), 'utf8').catch(() => '')) || FIRST_REVISION)
    for (const e of entries.values()) revision = Math.max(revision, e.modRevision)
    return { entries, revision }
  }

  /**
   * Writes the key files of a commit whose journal is durable. Deletes go first (they may prune a
   * directory a put of the same commit needs again), then the puts, {@link WRITE_CONCURRENCY} at a time.
   */
  async #apply(revision: number, changes: Change[]): Promise<void> {
    const touched = new Set<string>()
    const puts: Array<{ path: string; data: Buffer }> = []
    for (const change of changes) {
      const path = keyPath(this.#dir, change.key)
      touched.add(dirname(path))
      if (change.next) puts.push({ path, data: encodeEntry(change.next) })
      else await this.#remove(path)
    }
    for (const dir of new Set(puts.map((p) => dirname(p.path)))) await mkdir(dir, { recursive: true })
    await inParallel(puts, WRITE_CONCURRENCY, (put) => writeFileSynced(put.path, put.data))
    for (const dir of touched) await syncDir(dir).catch(() => {})
    await this.#writeAtomic(join(this.#dir, 'revision'), Buffer.from(String(revision)))
  }

  async #replayJournal(): Promise<void> {
    const text = await readFile(join(this.#dir, 'journal'), 'utf8').catch(() => undefined)
    if (text === undefined) return
    const journal = JSON.parse(text) as { revision: number; changes: JournalChange[] }
    await this.#apply(journal.revision, journal.changes.map(fromJournalChange))
    await unlink(join(this.#dir, 'journal'))
  }

  async #writeAtomic(path: string, data: Buffer): Promise<void> {
    const tmp = join(this.#dir, 'tmp', `${process.pid}-${this.#tmpCounter++}`)
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await mkdir(dirname(path), { recursive: true })
    await rename(tmp, path)
  }

  /** Unlinks a key file and prunes the directories it leaves empty. */
  async #remove(path: string): Promise<void> {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    const keysRoot = join(this.#dir, 'keys')
    for (let dir = dirname(path); dir !== keysRoot && dir.startsWith(keysRoot); dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break
    }
  }
}

async function claimOwnership(root: string): Promise<void> {
  const pidFile = join(root, 'owner.pid')
  const owner = Number(await readFile(pidFile, 'utf8').catch(() => ''))
  if (owner && owner !== process.pid && isAlive(owner)) throw new StoreError('LOCKED', `store folder ${root} is owned by process ${owner}`)
  await writeFileSynced(pidFile, String(process.pid))
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function writeFileSynced(path: string, text: string | Buffer): Promise<void> {
  const fh = await open(path, 'w', 0o600)
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure once all have settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const failures: unknown[] = []
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item).catch((err: unknown) => void failures.push(err))
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failures.length > 0) throw failures[0]
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function loadEntries(keysRoot: string): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>()
  for (const item of await readdir(keysRoot, { recursive: true, withFileTypes: true })) {
    if (!item.isFile() || !item.name.endsWith('.kv')) continue
    const path = join(item.parentPath, item.name)
    const key = keyFromPath(relative(keysRoot, path))
    if (key !== undefined) entries.set(key, decodeEntry(await readFile(path)))
  }
  return entries
}

/** Where `key`'s file lives under `dir`. */
export function keyPath(dir: string, key: string): string {
  const segments = key.split('/').map(encodeSegment)
  const leaf = `${segments.pop()}.kv`
  return join(dir, 'keys', ...segments.map((s) => `${s}.d`), leaf)
}

function keyFromPath(rel: string): string | undefined {
  const parts = rel.split(sep)
  const leaf = parts.pop() as string
  if (!parts.every((p) => p.endsWith('.d'))) return undefined
  try {
    return [...parts.map((p) => decodeSegment(p.slice(0, -2))), decodeSegment(leaf.slice(0, -3))].join('/')
  } catch {
    return undefined
  }
}

function encodeSegment(segment: string): string {
  if (segment === '') return '%'
  let out = ''
  for (const byte of Buffer.from(segment)) {
    const ch = String.fromCharCode(byte)
    const plain = /[A-Za-z0-9_-]/.test(ch) || (ch === '.' && out !== '')
    out += plain ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function decodeSegment(name: string): string {
  return name === '%' ? '' : decodeURIComponent(name)
}

function encodeEntry(e: Entry): Buffer {
  const header = JSON.stringify({ c: e.createRevision, m: e.modRevision, ...(e.lease ? { l: e.lease } : {}) })
  return Buffer.concat([Buffer.from(`${header}\n`), e.value])
}

function decodeEntry(data: Buffer): Entry {
  const nl = data.indexOf(0x0a)
  const header = JSON.parse(data.subarray(0, nl).toString()) as { c: number; m: number; l?: string }
  const entry: Entry = { value: data.subarray(nl + 1), createRevision: header.c, modRevision: header.m }
  if (header.l) entry.lease = header.l
  return entry
}

interface JournalChange {
  key: string
  next?: { v: string; c: number; m: number; l?: string }
}

function toJournalChange(c: Change): JournalChange {
  if (!c.next) return { key: c.key }
  return { key: c.key, next: { v: c.next.value.toString('base64'), c: c.next.createRevision, m: c.next.modRevision, l: c.next.lease } }
}

function fromJournalChange(j: JournalChange): Change {
  if (!j.next) return { key: j.key, prev: undefined, next: undefined }
  const next: Entry = { value: Buffer.from(j.next.v, 'base64'), createRevision: j.next.c, modRevision: j.next.m }
  if (j.next.l) next.lease = j.next.l
  return { key: j.key, prev: undefined, next }
}
