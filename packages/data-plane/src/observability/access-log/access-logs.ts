import type { ServerConfig } from '@fleetgate/schema'
import { parseSize } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { compileAccessLogFormat, type LineFormatter } from './format.ts'
import { type LogFile, openLogFile, type Rotation } from './log-file.ts'

/** A server's compiled access log: how a line looks and where it goes. */
export interface AccessLog {
  readonly format: LineFormatter
  readonly file: LogFile
}

/** The open access-log files of a process, shared by servers and kept across reloads. */
export interface AccessLogs {
  /**
   * Compiles the access logs of `servers` (name -> config) and opens the files they need;
   * servers without `access_log` / `access_log_path` get none. Throws on a bad format,
   * before opening anything. Files no server uses any more are closed after `drainMs`.
   */
  compile(servers: Readonly<Record<string, ServerConfig>>, drainMs: number): Map<string, AccessLog>
  /** Flushes and closes every file. */
  close(): Promise<void>
}

function rotationOf(server: ServerConfig): Rotation {
  return {
    maxBytes: server.access_log_max_size === undefined ? undefined : parseSize(server.access_log_max_size),
    daily: server.access_log_rotate_daily,
    maxFiles: server.access_log_max_files,
  }
}

/** Creates the set of access-log files; failures are logged on `logger` once per file. */
export function createAccessLogs(logger: Logger): AccessLogs {
  const files = new Map<string, LogFile>()

  const open = (key: string, path: string, rotation: Rotation): LogFile => {
    const existing = files.get(key)
    // A file that failed is retried on the next config apply (the path may have been fixed).
    if (existing !== undefined && !existing.failed) return existing
    const file = openLogFile(path, rotation, (err) =>
      logger.error({ err, path }, 'access log cannot be written; its lines are dropped until the next config apply'),
    )
    files.set(key, file)
    return file
  }

  return {
    compile(servers, drainMs) {
      const formats = new Map<string, { format: LineFormatter; path: string; rotation: Rotation }>()
      for (const [name, server] of Object.entries(servers)) {
        if (server.access_log === undefined && server.access_log_path === undefined) continue
        const format = compileAccessLogFormat(server.access_log ?? 'combined')
        formats.set(name, { format, path: server.access_log_path ?? '-', rotation: rotationOf(server) })
      }
      const logs = new Map<string, AccessLog>()
      const used = new Set<string>()
      for (const [name, { format, path, rotation }] of formats) {
        const key = `${path}\0${JSON.stringify(rotation)}`
        used.add(key)
        logs.set(name, { format, file: open(key, path, rotation) })
      }
      for (const [key, file] of files) {
        if (used.has(key)) continue
        files.delete(key)
        // Requests of the retiring config may still log to it for a while.
        setTimeout(() => void file.close(), drainMs).unref()
      }
      return logs
    },
    async close() {
      await Promise.all([...files.values()].map((f) => f.close()))
      files.clear()
    },
  }
}
