/**
 * The logging surface upstreams need: a pino logger fits, and so does any object with
 * these four methods taking (fields, message).
 */
export interface Logger {
  error(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}
