import { type FSWatcher, watch } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ChallengeSession } from './acme-order.ts'
import type { ChallengeAnswers } from './memory-challenges.ts'

/**
 * Challenges shared by the worker processes of one file-mode proxy: the worker that orders writes
 * `<acme dir>/challenges/<token>`, and every worker mirrors that folder into its answers, since the
 * kernel hands the CA's connections to any of them (SO_REUSEPORT).
 */
export function challengeFolder(acmeDir: string): string {
  return join(acmeDir, 'challenges')
}

const TOKEN = /^[A-Za-z0-9_-]+$/
const POLL_MS = 1000

/** Keeps `answers` equal to the challenge folder: fs.watch, plus a 1 s poll as a fallback. */
export function mirrorFolderChallenges(acmeDir: string, answers: ChallengeAnswers, logger: Logger): { close(): void } {
  const dir = challengeFolder(acmeDir)
  let watcher: FSWatcher | undefined
  let reading = false
  let again = false
  const refresh = async (): Promise<void> => {
    if (reading) {
      again = true
      return
    }
    reading = true
    try {
      const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => TOKEN.test(n))
      const read = await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8').catch(() => undefined)] as const))
      answers.clear()
      for (const [token, value] of read) if (value !== undefined) answers.set(token, value)
    } finally {
      reading = false
      if (again) {
        again = false
        void refresh()
      }
    }
  }
  void mkdir(dir, { recursive: true, mode: 0o700 })
    .then(() => {
      watcher = watch(dir, () => void refresh())
      watcher.on('error', () => {})
    })
    .catch((err: Error) => logger.warn({ reason: err.message }, 'ACME: cannot watch the challenge folder'))
    .finally(() => void refresh())
  const poll = setInterval(() => void refresh(), POLL_MS)
  poll.unref()
  return {
    close() {
      watcher?.close()
      clearInterval(poll)
    },
  }
}

/** A session that writes key authorizations into the challenge folder; `settleMs` lets the other workers see them. */
export function folderChallengeSession(acmeDir: string, answers: ChallengeAnswers, settleMs: number): ChallengeSession {
  const dir = challengeFolder(acmeDir)
  const mine = new Set<string>()
  const remove = async (token: string) => {
    mine.delete(token)
    answers.delete(token)
    await rm(join(dir, token), { force: true })
  }
  return {
    async publish(token, keyAuthorization) {
      mine.add(token)
      answers.set(token, keyAuthorization)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await writeFile(join(dir, token), keyAuthorization, { mode: 0o600 })
      await new Promise((resolve) => setTimeout(resolve, settleMs))
    },
    withdraw: remove,
    async close() {
      await Promise.all([...mine].map(remove))
    },
  }
}
