import { parseBackendAddr, type UpstreamConfig } from '@fleetgate/schema'
import { createBackend, type UpstreamBackend } from '../../src/upstream/backend.ts'
import type { Logger } from '../../src/upstream/logger.ts'

/** An upstream config with the schema's defaults, overridden by `overrides`. */
export function upstreamConfig(overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    addrs: ['127.0.0.1:1'],
    algorithm: 'round_robin',
    connection_timeout: '1s',
    read_timeout: '2s',
    idle_timeout: '5s',
    max_retries: 2,
    max_connections: 8,
    circuit_break_failures: 5,
    circuit_break_open_duration: '10s',
    alpn: 'h1',
    tls: false,
    verify_cert: true,
    ...overrides,
  }
}

/** A logger that keeps what it is told, so tests can assert on state-change messages. */
export function recordingLogger(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = []
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg })
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
}

/** Real backends (pools that connect lazily) for "host:port [weight]" addresses. */
export function backendsFor(addrs: readonly string[], now?: () => number): UpstreamBackend[] {
  const config = upstreamConfig({ addrs: [...addrs] })
  return addrs.map((a) =>
    createBackend(parseBackendAddr(a), config, { logger: recordingLogger(), upstream: 'test', ...(now ? { now } : {}) }),
  )
}
