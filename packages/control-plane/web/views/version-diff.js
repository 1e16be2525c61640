// A per-resource diff of two versions (GET /versions/{a}/diff/{b}) as three lists.
import { h } from '../elements.js'

/** Renders `{from, to, added, removed, changed}` as added / removed / changed lists with the changed keys. */
export function renderDiff(diff) {
  const label = (entry) => (entry.name === undefined ? entry.kind : `${entry.kind}.${entry.name}`)
  const group = (title, cls, entries, detail) =>
    h(
      'section',
      { class: `diff-group ${cls}` },
      h('h3', { text: `${title} (${entries.length})` }),
      entries.length === 0
        ? h('p', { class: 'hint', text: 'none' })
        : h(
            'ul',
            {},
            entries.map((e) => h('li', {}, h('code', { text: label(e) }), detail ? detail(e) : null)),
          ),
    )
  return h(
    'div',
    { class: 'diff', id: 'diff' },
    h('h2', { text: `Changes from generation ${diff.from} to ${diff.to}` }),
    group('Added', 'added', diff.added ?? []),
    group('Removed', 'removed', diff.removed ?? []),
    group('Changed', 'changed', diff.changed ?? [], (e) => [
      ': ',
      (e.keys ?? []).map((k, i) => [i > 0 ? ', ' : '', h('code', { class: 'key', text: k })]),
    ]),
  )
}
