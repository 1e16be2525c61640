import { didYouMean } from './did-you-mean.ts'
import { sourceNameProblem } from './header-field.ts'

/** A balancing algorithm as parsed from `upstreams.NAME.algorithm`. */
export type Algorithm =
  | { kind: 'round_robin' | 'least_conn' | 'ip_hash' | 'random' }
  | { kind: 'hash'; source: 'header' | 'cookie' | 'query'; name: string }

const SIMPLE = ['round_robin', 'least_conn', 'ip_hash', 'random'] as const
/** The algorithm names accepted, for messages and the UI. */
export const ALGORITHM_FORMS = [...SIMPLE, 'hash:header:NAME', 'hash:cookie:NAME', 'hash:query:NAME']

/** Parses an algorithm string; throws with the accepted forms when unknown. */
export function parseAlgorithm(text: string): Algorithm {
  const simple = SIMPLE.find((s) => s === text)
  if (simple) return { kind: simple }
  const m = /^hash:(header|cookie|query):(.+)$/.exec(text)
  if (m) {
    const source = m[1] as 'header' | 'cookie' | 'query'
    const problem = sourceNameProblem(source, m[2] as string)
    if (problem !== undefined) throw new Error(problem)
    return { kind: 'hash', source, name: source === 'header' ? (m[2] as string).toLowerCase() : (m[2] as string) }
  }
  throw new Error(`unknown algorithm "${text}"${didYouMean(text, SIMPLE)} (use ${ALGORITHM_FORMS.join(', ')})`)
}
