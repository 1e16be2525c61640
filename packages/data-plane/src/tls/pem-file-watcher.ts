import { type FSWatcher, statSync, watch } from 'node:fs'
import { basename, dirname } from 'node:path'

/** Stops a file watch. */
export type StopWatching = () => void

/** Timing of a file watch. */
export interface WatchTiming {
  /** How often files are stat'ed in case fs.watch missed an event (network filesystems, some containers). */
  pollIntervalMs: number
  /** Quiet time after the last event before `onChange` runs: a cert and key written one after the other count once. */
  debounceMs: number
}

/** Defaults: stat every 10 s, settle for 200 ms. */
export const DEFAULT_WATCH_TIMING: WatchTiming = { pollIntervalMs: 10_000, debounceMs: 200 }

function signature(path: string): string {
  try {
    const s = statSync(path)
    return `${s.ino}:${s.size}:${s.mtimeMs}`
  } catch {
    return 'missing'
  }
}

/**
 * Calls `onChange` when any of `paths` is replaced (atomic rename), rewritten in place or
 * removed. Watches each parent directory (a rename replaces the inode a file watch would
 * follow) and stats the files every `pollIntervalMs` as a fallback.
 */
export function watchPemFiles(paths: readonly string[], onChange: () => void, timing: WatchTiming = DEFAULT_WATCH_TIMING): StopWatching {
  const files = [...new Set(paths)]
  const seen = new Map(files.map((p) => [p, signature(p)]))
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(check, timing.debounceMs)
    timer.unref()
  }
  const check = () => {
    timer = undefined
    let changed = false
    for (const path of files) {
      const now = signature(path)
      if (now !== seen.get(path)) {
        seen.set(path, now)
        changed = true
      }
    }
    if (changed) onChange()
  }
  const watchers: FSWatcher[] = []
  const byDir = new Map<string, Set<string>>()
  for (const path of files) {
    const dir = dirname(path)
    const names = byDir.get(dir) ?? new Set<string>()
    names.add(basename(path))
    byDir.set(dir, names)
  }
  for (const [dir, names] of byDir) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name.toString())) schedule()
      })
      // A vanished directory only ends the watch; the poll keeps going.
      watcher.on('error', () => watcher.close())
      watchers.push(watcher)
    } catch {
      // The poll covers directories fs.watch cannot watch.
    }
  }
  const poll = setInterval(check, timing.pollIntervalMs)
  poll.unref()
  return () => {
    clearInterval(poll)
    if (timer !== undefined) clearTimeout(timer)
    for (const watcher of watchers) watcher.close()
  }
}
