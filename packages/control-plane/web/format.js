// Display formatting of API values: times, digests, figures. Pure functions of their input.

/** "2026-11-22 09:01:02" in the browser's time zone, or "—" for nothing. */
export function formatTime(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** "5 s ago", "3 min ago", ... relative to `now`. */
export function formatAgo(iso, now = Date.now()) {
  const t = new Date(iso).getTime()
  if (!iso || Number.isNaN(t)) return '—'
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

/** The first 12 hex digits of a sha256. */
export function shortSha(sha) {
  return typeof sha === 'string' ? sha.slice(0, 12) : '—'
}

/** A number with at most `digits` decimals, or "—" for null/undefined. */
export function formatNumber(n, digits = 1) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—'
  return Number.isInteger(n) ? String(n) : n.toFixed(digits)
}

/** A ratio as a percentage. */
export function formatPercent(ratio) {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)} %` : '—'
}

/** Bytes as KiB / MiB / GiB. */
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
