import { existsSync, readFileSync } from 'node:fs'
import { waitFor } from './wait.ts'

// What tests read of a running gateway's own records: access log files (written asynchronously,
// so read until what is awaited is there) and the /metrics text.

/** The non-empty lines of `file` once it has at least `n` of them. */
export async function logLines(file: string, n: number, timeoutMs = 5_000): Promise<string[]> {
  let got: string[] = []
  await waitFor(
    `${n} lines in ${file}`,
    () => {
      got = readLines(file)
      return got.length >= n
    },
    timeoutMs,
  )
  return got
}

/** The first entry of a JSON access log (`access_log = "json"`) whose path is `path`, once written. */
export async function jsonLogEntry<T extends { path: string }>(file: string, path: string, timeoutMs = 5_000): Promise<T> {
  return waitFor(
    `a line for ${path} in ${file}`,
    () =>
      readLines(file)
        .map((l) => JSON.parse(l) as T)
        .find((entry) => entry.path === path),
    timeoutMs,
  )
}

/** The value of the first /metrics sample line matching `line` at `statusUrl`, 0 when none does. */
export async function metricValue(statusUrl: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${statusUrl}/metrics`)).text()
  const found = text.split('\n').find((l) => line.test(l))
  return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1))
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
}
