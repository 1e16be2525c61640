// Cache purge: POST /api/v1/cache/purge with {"url"} or {"prefix": "URL*"} and an optional plugin name.
import { apiCall } from '../api.js'
import { h, replace } from '../elements.js'
import { errorBox, successBox } from '../notices.js'
import { canWrite } from '../session.js'

/** Renders the purge form. */
export function renderCachePurge(view) {
  const mode = h(
    'select',
    { id: 'purge-mode' },
    h('option', { value: 'url', text: 'One URL' }),
    h('option', { value: 'prefix', text: 'Every URL under a prefix (ends with *)' }),
  )
  const target = h('input', {
    id: 'purge-target',
    type: 'text',
    required: true,
    spellcheck: 'false',
    placeholder: 'https://example.com/path',
  })
  const plugin = h('input', { id: 'purge-plugin', type: 'text', spellcheck: 'false', 'aria-describedby': 'purge-plugin-hint' })
  const result = h('div', { class: 'result', 'aria-live': 'polite' })
  const writable = canWrite()
  const button = h('button', { type: 'submit', id: 'purge', text: 'Purge', disabled: !writable })
  const form = h(
    'form',
    { class: 'editor card', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'purge-mode', text: 'What to purge' }), mode),
    h('div', { class: 'field' }, h('label', { for: 'purge-target', text: 'URL or prefix' }), target),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'purge-plugin', text: 'Cache plugin (optional)' }),
      plugin,
      h('p', { id: 'purge-plugin-hint', class: 'hint', text: 'The [plugins.NAME] of one cache; empty purges every cache.' }),
    ),
    h('div', { class: 'actions' }, button),
    writable ? null : h('p', { class: 'hint', text: 'Read-only token: purging needs an admin token.' }),
    result,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    replace(result)
    const body = { [mode.value]: target.value.trim() }
    if (plugin.value.trim() !== '') body.plugin = plugin.value.trim()
    button.disabled = true
    try {
      const res = await apiCall('POST', '/cache/purge', { json: body })
      const d = res.data
      replace(
        result,
        successBox(
          `Purge ${d.id} sent to the fleet: ${d.target?.url ?? d.target?.prefix ?? ''}${d.plugin ? ` (plugin ${d.plugin})` : ''}.`,
        ),
      )
    } catch (err) {
      replace(result, errorBox(err, 'Purge failed'))
    } finally {
      button.disabled = !writable
    }
  })
  view.append(h('h1', { text: 'Cache purge' }), form)
}
