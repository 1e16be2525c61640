import { type FSWatcher, watch } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'

/**
 * Calls `onChange` when the file at `path` changes: fs.watch on its folder (so editors'
 * atomic renames and Kubernetes ConfigMap symlink swaps are seen) plus a 1 s stat poll as a
 * fallback; debounced so one save is one call.
 */
export function watchConfigFile(path: string, onChange: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined
  let last = ''
  const fire = () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      // The poll must not report again a change the watcher already did: a big file would be
      // parsed and validated twice.
      last = await signature()
      onChange()
    }, 100)
  }
  const signature = async () => {
    try {
      const s = await stat(path)
      return `${s.ino}:${s.size}:${s.mtimeMs}`
    } catch {
      return 'missing'
    }
  }
  void signature().then((s) => {
    last = s
  })
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path) || name.startsWith('..')) fire()
    })
    watcher.on('error', () => {})
  } catch {
    watcher = undefined
  }
  const poll = setInterval(async () => {
    const s = await signature()
    if (s !== last) {
      last = s
      fire()
    }
  }, 1000)
  poll.unref()
  return {
    close() {
      watcher?.close()
      clearInterval(poll)
      clearTimeout(timer)
    },
  }
}
