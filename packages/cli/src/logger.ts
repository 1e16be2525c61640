import pino, { type Logger } from 'pino'

/** pino's levels, quietest last. */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/**
 * The process logger: JSON lines on stdout; secrets under common key names are redacted.
 * `FLEETGATE_LOG_FORMAT=pretty` prints colored, human-readable lines for a terminal instead
 * (pino-pretty in a worker thread, loaded only then).
 */
export function createLogger(level: string = process.env.FLEETGATE_LOG_LEVEL ?? 'info', format = process.env.FLEETGATE_LOG_FORMAT): Logger {
  if (!LEVELS.includes(level)) throw new Error(`log level must be one of ${LEVELS.join(', ')}; got "${level}"`)
  const options: pino.LoggerOptions = {
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
  }
  if (format === undefined || format === '' || format === 'json') return pino(options)
  if (format !== 'pretty') throw new Error(`FLEETGATE_LOG_FORMAT must be "json" or "pretty", got "${format}"`)
  return pino(
    options,
    pino.transport({ target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l' } }),
  )
}
