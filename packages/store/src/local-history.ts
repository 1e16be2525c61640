import type { Change, Entry } from './local-files.ts'

/** The changes one commit made. */
export interface Revision {
  revision: number
  changes: Change[]
}

/** Bounds on the history the local store keeps in memory. */
export interface HistoryLimits {
  /** Most revisions kept. */
  maxRevisions: number
  /** Most bytes of superseded values kept. */
  maxBytes: number
}

/**
 * The local store's MVCC history: the recent commits, in memory, so reads can be pinned to a past revision
 * and watches can start from one. Like etcd after compaction, anything older than the history is gone:
 * history starts at the revision the folder was opened at, and is trimmed by the limits or by `compact`.
 */
export class History {
  readonly #limits: HistoryLimits
  #revisions: Revision[] = []
  #bytes = 0
  /** Every commit after `#base` is kept. */
  #base: number
  /** Set by `compact`: reads and watches below it are refused even if the commit is still kept. */
  #compacted = 0

  constructor(openedAt: number, limits: HistoryLimits) {
    this.#base = openedAt
    this.#limits = limits
  }

  /** True if a read at `revision` can still be served. */
  canRead(revision: number): boolean {
    return revision >= this.#base && revision >= this.#compacted
  }

  /** True if every change from `revision` on is still kept. */
  canWatchFrom(revision: number): boolean {
    return revision > this.#base && revision >= this.#compacted
  }

  record(revision: Revision): void {
    this.#revisions.push(revision)
    this.#bytes += supersededBytes(revision)
    while (this.#revisions.length > this.#limits.maxRevisions || (this.#bytes > this.#limits.maxBytes && this.#revisions.length > 1)) {
      this.#dropOldest()
    }
  }

  /** Refuses reads below `revision` and watches from below it, as etcd's compaction does. */
  compact(revision: number): void {
    this.#compacted = Math.max(this.#compacted, revision)
    while (this.#revisions.length > 0 && (this.#revisions[0] as Revision).revision < revision) this.#dropOldest()
  }

  /** Commits from `revision` on, oldest first (check `canWatchFrom` first). */
  since(revision: number): Revision[] {
    return this.#revisions.filter((r) => r.revision >= revision)
  }

  /** The keys matching `inRange` as they were at `revision`, rebuilt by undoing later commits on `current`. */
  readAt(current: Map<string, Entry>, inRange: (key: string) => boolean, revision: number): Map<string, Entry> {
    const state = new Map<string, Entry>()
    for (const [key, entry] of current) if (inRange(key)) state.set(key, entry)
    for (let i = this.#revisions.length - 1; i >= 0; i--) {
      const r = this.#revisions[i] as Revision
      if (r.revision <= revision) break
      for (const change of r.changes.toReversed()) {
        if (!inRange(change.key)) continue
        if (change.prev) state.set(change.key, change.prev)
        else state.delete(change.key)
      }
    }
    return state
  }

  #dropOldest(): void {
    const oldest = this.#revisions.shift()
    if (!oldest) return
    this.#bytes -= supersededBytes(oldest)
    this.#base = oldest.revision
  }
}

function supersededBytes(r: Revision): number {
  let bytes = 0
  for (const change of r.changes) bytes += change.prev?.value.length ?? 0
  return bytes
}
