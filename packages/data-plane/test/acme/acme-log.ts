// A pino logger that keeps its JSON lines, for asserting what ACME logged (and what it never logged).
import pino, { type Logger } from 'pino'

/** A debug-level logger and the lines it wrote. */
export function capturedLogger(): { logger: Logger; lines: string[]; messages(msg: string): Array<Record<string, unknown>> } {
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) })
  return {
    logger,
    lines,
    messages: (msg) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg),
  }
}
