/** The content codings the compression plugin produces. */
export type Coding = 'zstd' | 'br' | 'gzip'

/** Negotiated codings remembered per distinct Accept-Encoding value (clients send few distinct ones). */
const MEMO_SIZE = 256

/**
 * Compiles Accept-Encoding negotiation for `offered` (server preference order): the coding
 * with the highest q-value the client accepts ("*" counts for codings it does not name,
 * "x-gzip" is gzip, q=0 refuses), ties going to the earlier offered; undefined for identity.
 * Results are memoized by header value, so a request does not parse the header again.
 */
export function compileNegotiation(offered: readonly Coding[]): (accept: string | undefined) => Coding | undefined {
  const memo = new Map<string, Coding | undefined>()
  return (accept) => {
    if (accept === undefined || accept === '') return undefined
    if (memo.has(accept)) return memo.get(accept)
    const chosen = negotiate(accept, offered)
    if (memo.size >= MEMO_SIZE) memo.clear()
    memo.set(accept, chosen)
    return chosen
  }
}

function negotiate(accept: string, offered: readonly Coding[]): Coding | undefined {
  const weights = new Map<string, number>()
  for (const part of accept.split(',')) {
    const [rawName, ...params] = part.split(';')
    let name = (rawName as string).trim().toLowerCase()
    if (name === '') continue
    if (name === 'x-gzip') name = 'gzip'
    let q = 1
    for (const param of params) {
      // A malformed q-value counts as 0: the coding is not taken on a guess.
      const m = /^\s*q\s*=\s*(\S*)\s*$/i.exec(param)
      if (m !== null) q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(m[1] as string) ? Number(m[1]) : 0
    }
    weights.set(name, Math.max(q, weights.get(name) ?? 0))
  }
  const star = weights.get('*')
  let best: Coding | undefined
  let bestQ = 0
  for (const coding of offered) {
    const q = weights.get(coding) ?? star ?? 0
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  return best
}
