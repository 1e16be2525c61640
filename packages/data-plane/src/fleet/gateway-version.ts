import { readFileSync } from 'node:fs'

let version: string | undefined

/** The data-plane package version, reported in `nodes/<id>` and stamped into the cache file. */
export function gatewayVersion(): string {
  // Read on first use, not at import: modules stay pure.
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return version
}
