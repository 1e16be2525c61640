/** Removes query parameter `name` from a request target ("/p?a=1&key=x" -> "/p?a=1"). */
export function stripQueryParam(target: string, name: string): string {
  const q = target.indexOf('?')
  if (q < 0) return target
  const params = new URLSearchParams(target.slice(q + 1))
  if (!params.has(name)) return target
  params.delete(name)
  const rest = params.toString()
  return rest === '' ? target.slice(0, q) : `${target.slice(0, q)}?${rest}`
}
