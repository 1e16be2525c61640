// Building DOM nodes from data. Everything the API returns is user-controlled config, so text
// only ever goes in through textContent / text nodes, never through HTML parsing.

/** Properties set as DOM properties rather than attributes. */
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple', 'required', 'readOnly'])

/**
 * Creates an element: `props` are attributes (`class`, `for`, `aria-*` ...), `text` (textContent),
 * `on<event>` listeners, `dataset`, or the DOM properties above; `children` are nodes or strings
 * (added as text nodes), nested arrays allowed, null/false skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue
    if (key === 'class') el.className = value
    else if (key === 'text') el.textContent = String(value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (PROPERTIES.has(key)) el[key] = value
    else if (value !== false) el.setAttribute(key, value === true ? '' : String(value))
  }
  appendChildren(el, children)
  return el
}

/** Appends nodes or strings (as text) to `el`. */
export function appendChildren(el, children) {
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

/** Replaces all of `el`'s children. */
export function replace(el, ...children) {
  el.replaceChildren()
  return appendChildren(el, children)
}

/** A hash link to a UI route built from path segments, each URI-encoded. */
export function routeHref(...segments) {
  return `#/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`
}

/** An id safe for `id` / `for` attributes, derived from arbitrary text. */
export function safeId(...parts) {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)).join('-')
}
