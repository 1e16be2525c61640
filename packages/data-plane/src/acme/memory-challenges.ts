import type { ChallengeSession } from './acme-order.ts'

/** token -> key authorization: what a node answers at `/.well-known/acme-challenge/<token>`. */
export type ChallengeAnswers = Map<string, string>

/** A session that answers from this process's memory only (file mode: the process that orders serves). */
export function memoryChallengeSession(answers: ChallengeAnswers): ChallengeSession {
  const mine = new Set<string>()
  return {
    async publish(token, keyAuthorization) {
      mine.add(token)
      answers.set(token, keyAuthorization)
    },
    async withdraw(token) {
      mine.delete(token)
      answers.delete(token)
    },
    async close() {
      for (const token of mine) answers.delete(token)
      mine.clear()
    },
  }
}
