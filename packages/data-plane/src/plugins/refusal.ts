import type { PluginReply } from './types.ts'

/**
 * The answers plugins refuse requests with: one stable code each, with its status. The body has
 * the same shape as the gateway's own errors, and the code is in `x-fleetgate-error`.
 */
export const PLUGIN_REFUSALS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_INFLIGHT: 429,
} as const satisfies Record<string, number>

/** A stable refusal code. */
export type RefusalCode = keyof typeof PLUGIN_REFUSALS

/** A JSON refusal reply with `code`'s status, `message`, and extra headers. */
export function refuse(code: RefusalCode, message: string, headers: Record<string, string> = {}): PluginReply {
  const status = PLUGIN_REFUSALS[code]
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-fleetgate-error': code, ...headers },
    body: `${JSON.stringify({ error: { code, status, message } })}\n`,
  }
}
