import pino, { type Logger } from 'pino'

/** The process logger: JSON lines on stdout; secrets under common key names are redacted. */
export function createLogger(level: string = process.env.FLEETGATE_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'secret',
        '*.secret',
        'password',
        '*.password',
        'tls_key',
        '*.tls_key',
      ],
      censor: '[redacted]',
    },
  })
}
