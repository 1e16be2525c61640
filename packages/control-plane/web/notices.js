// How outcomes are shown: error boxes (with the API's {path, message} list), success lines
// naming the published generation, and the page-wide flash line.
import { h, replace } from './elements.js'

/** One sentence for a failed call, naming the role problem for 403 and staleness for 412. */
export function describeError(err) {
  const message = err?.message ?? String(err)
  switch (err?.status) {
    case 0:
      return message
    case 403:
      return `Read-only token: this action needs an admin token (${message}).`
    case 409:
      return `Refused (conflict): ${message}`
    case 412:
      return 'Someone else changed the config since you loaded it. Reload to see their version, then edit again.'
    case 429:
      return `Too many attempts: ${message}`
    default:
      return message
  }
}

/** An error box: the sentence, then every `{path, message}` the API listed. */
export function errorBox(err, title) {
  const errors = Array.isArray(err?.errors) ? err.errors : []
  return h(
    'div',
    { class: 'notice error', role: 'alert', dataset: { status: String(err?.status ?? '') } },
    title ? h('strong', { text: `${title}: ` }) : null,
    h('span', { class: 'message', text: describeError(err) }),
    errors.length > 0 ? errorList(errors) : null,
  )
}

/** A list of config errors as "path: message". */
export function errorList(errors) {
  return h(
    'ul',
    { class: 'error-list' },
    errors.map((e) =>
      h('li', {}, e.path ? h('code', { class: 'path', text: String(e.path) }) : null, e.path ? ': ' : '', String(e.message ?? '')),
    ),
  )
}

/** A success box. */
export function successBox(text) {
  return h('div', { class: 'notice ok', role: 'status', text })
}

/** What a successful write did: the generation it published (or that nothing changed), and a hold. */
export function publishedText(result, verb = 'Saved') {
  if (!result || typeof result.generation !== 'number') return `${verb}.`
  const what =
    result.published === false
      ? `${verb}: nothing changed, generation ${result.generation} stays current`
      : `${verb}: published generation ${result.generation}`
  return result.held ? `${what} (auto-publish is held after a rollback: release it on the Versions page)` : `${what}.`
}

let flashTimer = null

/** Shows a line at the top of the page for a while (survives one navigation, e.g. after a delete). */
export function flash(text, kind = 'ok') {
  const box = document.getElementById('flash')
  if (!box) return
  clearTimeout(flashTimer)
  replace(box, h('div', { class: `notice ${kind}`, text }))
  flashTimer = setTimeout(() => box.replaceChildren(), 10_000)
}

/** Removes the flash line. */
export function clearFlash() {
  clearTimeout(flashTimer)
  document.getElementById('flash')?.replaceChildren()
}
