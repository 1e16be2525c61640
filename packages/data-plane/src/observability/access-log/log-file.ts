import { readdir, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import pino from 'pino'

/** When a log file is set aside for a new one, and how many old ones are kept. */
export interface Rotation {
  /** Rotate once the file reaches this many bytes; undefined: never by size. */
  maxBytes: number | undefined
  /** Rotate at local midnight. */
  daily: boolean
  /** Rotated files kept (the oldest beyond this are deleted). */
  maxFiles: number
}

/** An access-log destination: lines are buffered and written off the event loop's critical path. */
export interface LogFile {
  /** Appends a line; silently dropped once the file has failed (the failure was reported) or closed. */
  write(line: string): void
  /** True after a write or open error. */
  readonly failed: boolean
  /** Flushes what is buffered and closes the file. */
  close(): Promise<void>
}

/** Bytes gathered before they are handed to the file; a quiet log is flushed every FLUSH_MS anyway. */
const MIN_WRITE = 32 * 1024
/** Room of one batch: MIN_WRITE plus the longest line that still joins it (a longer one goes alone). */
const BATCH_ROOM = 2 * MIN_WRITE
const FLUSH_MS = 1000
/** Beyond this much unwritten data (a stalled disk), lines are dropped rather than held in memory. */
const MAX_BUFFER = 16 * 1024 * 1024

/**
 * Opens `path` (or stdout for "-") with pino's sonic-boom in async mode, so writes never block
 * the event loop. Rotation renames the file to `PATH.YYYYMMDD-HHMMSS.mmm` and reopens it; old
 * files beyond `maxFiles` are removed. Errors are passed to `onError` once and never thrown.
 */
export function openLogFile(path: string, rotation: Rotation, onError: (err: Error) => void): LogFile {
  const toStdout = path === '-'
  // Lines are encoded straight into a batch buffer and handed over MIN_WRITE bytes at a time:
  // sonic-boom in buffer mode then writes them as they are. Handed strings, it measured the byte
  // length of its whole pending string on every write (~7 µs a line), and even in batches the
  // lines made a rope that was flattened and encoded again on the way out.
  const dest = pino.destination({
    dest: toStdout ? 1 : path,
    sync: false,
    maxWrite: 4 * MIN_WRITE,
    maxLength: MAX_BUFFER,
    mkdir: !toStdout,
    contentMode: 'buffer',
  })
  let failed = false
  let closed = false
  let size = 0
  let batch = Buffer.allocUnsafe(BATCH_ROOM)
  let used = 0
  const handOver = () => {
    if (used === 0) return
    // sonic-boom keeps the buffer until it is written: the next batch gets a new one.
    const out = batch.subarray(0, used)
    batch = Buffer.allocUnsafe(BATCH_ROOM)
    used = 0
    if (!failed) dest.write(out as unknown as string)
  }
  // Rotation waits for the first open: renaming a file that does not exist yet would fail.
  let rotating = true
  dest.once('ready', () => {
    rotating = false
  })
  let lastStamp = 0
  let midnight: NodeJS.Timeout | undefined
  // sonic-boom's own periodicFlush would write to fd -1 after a failed open and throw from a timer.
  const flusher = setInterval(() => {
    if (failed || closed || (dest as unknown as { fd: number }).fd < 0) return
    handOver()
    dest.flush()
  }, FLUSH_MS).unref()
  dest.on('error', (err: Error) => {
    if (failed) return
    failed = true
    clearInterval(flusher)
    if (midnight)
      clearTimeout(midnight)
      // pino flushes its destinations synchronously at exit, which throws on a file that never
      // opened; marked destroyed, it is skipped (nothing is written to it after a failure anyway).
    ;(dest as unknown as { destroyed: boolean }).destroyed = true
    onError(err)
  })
  if (!toStdout) {
    stat(path).then(
      (s) => {
        size += s.size
      },
      () => {},
    )
  }

  const rotate = async () => {
    if (rotating || failed) return
    rotating = true
    // Lines written while the rotation runs are counted for the new file (some reach the old
    // one before it is reopened: the new file then rotates a little early, never late).
    const counted = size
    try {
      // What is buffered belongs to the file being set aside.
      handOver()
      await new Promise<void>((resolve) => dest.flush(() => resolve()))
      lastStamp = Math.max(Date.now(), lastStamp + 1)
      await rename(path, `${path}.${stamp(lastStamp)}`)
      size -= counted
      // The new file exists once sonic-boom has reopened it: a rotation before that would find
      // nothing to rename.
      const reopened = new Promise<void>((resolve) => {
        const done = () => {
          dest.off('ready', done)
          dest.off('error', done)
          resolve()
        }
        dest.once('ready', done)
        dest.once('error', done)
      })
      dest.reopen()
      await Promise.all([reopened, prune(path, rotation.maxFiles)])
    } catch (err) {
      onError(err as Error)
      return
    } finally {
      rotating = false
    }
    // The lines written while it ran may have filled the new file already: with no more lines to
    // come, nothing else would notice.
    if (!failed && maxBytes !== undefined && size >= maxBytes) void rotate()
  }
  const scheduleMidnight = () => {
    const next = new Date()
    next.setHours(24, 0, 0, 0)
    midnight = setTimeout(() => {
      void rotate()
      scheduleMidnight()
    }, next.getTime() - Date.now())
    midnight.unref()
  }
  if (rotation.daily && !toStdout) scheduleMidnight()
  const maxBytes = toStdout ? undefined : rotation.maxBytes

  return {
    write(line) {
      if (failed || closed) return
      // A UTF-16 unit is at most 3 bytes of UTF-8: a line that may not fit waits for the next batch.
      if (used + 3 * line.length > BATCH_ROOM) handOver()
      let bytes: number
      if (3 * line.length > BATCH_ROOM) {
        const alone = Buffer.from(line, 'utf8')
        bytes = alone.length
        dest.write(alone as unknown as string)
      } else {
        bytes = batch.write(line, used, 'utf8')
        used += bytes
        if (used >= MIN_WRITE) handOver()
      }
      size += bytes
      if (maxBytes !== undefined && size >= maxBytes && !rotating) void rotate()
    },
    get failed() {
      return failed
    },
    close() {
      if (midnight) clearTimeout(midnight)
      if (closed) return Promise.resolve()
      closed = true
      clearInterval(flusher)
      handOver()
      if (failed || toStdout) {
        if (!failed) dest.flush()
        return Promise.resolve()
      }
      return new Promise<void>((resolve) => {
        dest.once('close', () => resolve())
        dest.once('error', () => resolve())
        dest.end()
      })
    },
  }
}

/** Sortable local time with milliseconds: 20250131-235959.123 */
function stamp(ms: number): string {
  const d = new Date(ms)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

const ROTATED = /^\d{8}-\d{6}\.\d{3}$/

/** Deletes the oldest rotated files of `path` beyond `keep`. */
async function prune(path: string, keep: number): Promise<void> {
  const prefix = `${basename(path)}.`
  const dir = dirname(path)
  const rotated = (await readdir(dir)).filter((name) => name.startsWith(prefix) && ROTATED.test(name.slice(prefix.length))).sort()
  await Promise.all(rotated.slice(0, Math.max(rotated.length - keep, 0)).map((name) => unlink(join(dir, name)).catch(() => {})))
}
