// Versions: the history (GET /versions), a diff of any two, and rollback / restore / release of
// the auto-publish hold, each behind a confirm step.
import { apiCall } from '../api.js'
import { confirmAction } from '../confirm.js'
import { h, replace } from '../elements.js'
import { formatTime, shortSha } from '../format.js'
import { errorBox, publishedText, successBox } from '../notices.js'
import { canWrite } from '../session.js'
import { renderDiff } from './version-diff.js'

/** How many versions the page lists. */
const LIMIT = 200

/** Renders the history page. */
export async function renderVersions(view) {
  const result = h('div', { class: 'result', 'aria-live': 'polite' })
  const status = h('section', { class: 'card', 'aria-labelledby': 'hold-title' })
  const diffArea = h('section', { class: 'card', 'aria-labelledby': 'diff-title' })
  const list = h('section', { class: 'card', 'aria-labelledby': 'history-title' })
  view.append(h('h1', { text: 'Versions' }), result, status, diffArea, list)

  async function load() {
    try {
      const [versions, publish] = await Promise.all([apiCall('GET', `/versions?limit=${LIMIT}`), apiCall('GET', '/publish')])
      renderStatus(status, publish.data, act)
      renderDiffForm(diffArea, versions.data.versions)
      renderHistory(list, versions.data.versions, publish.data.generation, act)
    } catch (err) {
      replace(result, errorBox(err, 'Could not load the history'))
    }
  }

  /** Runs a write after its confirm step, shows the generation it published, and reloads the page's data. */
  async function act({ title, details, action, call, verb }) {
    replace(result)
    if (!(await confirmAction({ title, details, action }))) return
    try {
      const res = await call()
      replace(result, successBox(publishedText(res.data, verb)))
    } catch (err) {
      replace(result, errorBox(err, `${verb} failed`))
    }
    await load()
  }

  await load()
}

function renderStatus(section, publish, act) {
  const release = h('button', {
    type: 'button',
    id: 'release-hold',
    class: 'secondary',
    text: 'Release hold',
    disabled: !canWrite() || !publish.held,
  })
  release.addEventListener('click', () =>
    act({
      title: 'Release the auto-publish hold?',
      details: ['The desired config is published again if it differs from the current generation.'],
      action: 'Release',
      verb: 'Released',
      call: () => apiCall('POST', '/publish/release'),
    }),
  )
  replace(
    section,
    h('h2', { id: 'hold-title', text: 'Publishing' }),
    h(
      'p',
      { id: 'hold-state' },
      `Current generation ${publish.generation ?? '—'}; auto-publish ${publish.held ? 'is held after a rollback' : 'is on'}.`,
    ),
    release,
  )
}

function renderDiffForm(section, versions) {
  const options = (selected) =>
    versions.map((v) => h('option', { value: String(v.generation), text: String(v.generation), selected: v.generation === selected }))
  const from = h('select', { id: 'diff-from' }, options(versions[1]?.generation ?? versions[0]?.generation))
  const to = h('select', { id: 'diff-to' }, options(versions[0]?.generation))
  const output = h('div', { 'aria-live': 'polite' })
  const button = h('button', { type: 'submit', id: 'show-diff', text: 'Show diff', disabled: versions.length === 0 })
  const form = h(
    'form',
    { class: 'inline-form' },
    h('label', { for: 'diff-from', text: 'From' }),
    from,
    h('label', { for: 'diff-to', text: 'To' }),
    to,
    button,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    try {
      const res = await apiCall('GET', `/versions/${Number(from.value)}/diff/${Number(to.value)}`)
      replace(output, renderDiff(res.data))
    } catch (err) {
      replace(output, errorBox(err, 'Diff failed'))
    }
  })
  replace(section, h('h2', { id: 'diff-title', text: 'Compare two versions' }), form, output)
}

function renderHistory(section, versions, current, act) {
  const columns = ['Generation', 'Parent', 'Rollback of', 'Author', 'Message', 'Created', 'SHA-256', 'Actions']
  const writable = canWrite()
  const rows = versions.map((v) => {
    const gen = v.generation
    const rollback = h('button', {
      type: 'button',
      class: 'secondary small',
      text: 'Roll back to this',
      disabled: !writable || gen === current,
    })
    rollback.dataset.action = 'rollback'
    rollback.addEventListener('click', () =>
      act({
        title: `Roll back to generation ${gen}?`,
        details: [`Its content is published as a new generation, and auto-publish is held until you release it or restore a version.`],
        action: 'Roll back',
        verb: 'Rolled back',
        call: () => apiCall('POST', '/rollback', { json: { to: gen } }),
      }),
    )
    const restore = h('button', { type: 'button', class: 'secondary small', text: 'Restore into desired', disabled: !writable })
    restore.dataset.action = 'restore'
    restore.addEventListener('click', () =>
      act({
        title: `Restore generation ${gen} into the desired config?`,
        details: ['The editable config is replaced by this version and the hold is released.'],
        action: 'Restore',
        verb: 'Restored',
        call: () => apiCall('POST', `/versions/${gen}/restore`),
      }),
    )
    return h(
      'tr',
      { dataset: { generation: String(gen) }, class: gen === current ? 'current' : null },
      h('th', { scope: 'row' }, String(gen), gen === current ? h('span', { class: 'badge ok', text: 'current' }) : null),
      h('td', { class: 'parent', text: v.parent ?? '—' }),
      h('td', { class: 'rollback-of', text: v.rollbackOf ?? '—' }),
      h('td', { text: v.author ?? '—' }),
      h('td', { class: 'message', text: v.message ?? '' }),
      h('td', { text: formatTime(v.createdAt) }),
      h('td', {}, h('code', { text: shortSha(v.sha256) })),
      h('td', { class: 'row-actions' }, rollback, restore),
    )
  })
  replace(
    section,
    h('h2', { id: 'history-title', text: `History (${versions.length})` }),
    versions.length === 0
      ? h('p', { text: 'Nothing published yet.' })
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'versions' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                columns.map((c) => h('th', { scope: 'col', text: c })),
              ),
            ),
            h('tbody', {}, rows),
          ),
        ),
  )
}
