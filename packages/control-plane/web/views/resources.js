// Resources: every kind the schema names, with the names of its resources (from GET /config),
// and one kind's list at #/resources/KIND (a singleton section opens its editor directly).
import { apiCall, loadSchema } from '../api.js'
import { h, routeHref } from '../elements.js'
import { errorBox } from '../notices.js'
import { canWrite } from '../session.js'
import { renderResourceEditor } from './resource-editor.js'

/** Renders the overview of every kind and singleton section. */
export async function renderResources(view) {
  view.append(h('h1', { text: 'Resources' }))
  try {
    const [schema, config] = await Promise.all([loadSchema(), apiCall('GET', '/config')])
    for (const kind of schema.kinds) view.append(kindSection(kind, config.data[kind], 'h2'))
    view.append(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'singletons-title' },
        h('h2', { id: 'singletons-title', text: 'Sections' }),
        h(
          'ul',
          { class: 'names' },
          schema.singletons.map((section) =>
            h('li', {}, h('a', { href: routeHref('resources', section), text: section }), config.data[section] ? '' : ' (not set)'),
          ),
        ),
      ),
    )
  } catch (err) {
    view.append(errorBox(err, 'Could not load the config'))
  }
}

/** Renders one kind's list, or a singleton section's editor. */
export async function renderKind(view, { kind }) {
  try {
    const schema = await loadSchema()
    if (schema.singletons.includes(kind)) return await renderResourceEditor(view, { kind })
    if (!schema.kinds.includes(kind)) {
      view.append(h('h1', { text: 'Unknown kind' }), errorBox({ status: 404, message: `There is no resource kind "${kind}".` }))
      return
    }
    const resources = await apiCall('GET', `/${encodeURIComponent(kind)}`)
    view.append(h('p', { class: 'crumbs' }, h('a', { href: '#/resources', text: 'Resources' })), kindSection(kind, resources.data, 'h1'))
  } catch (err) {
    view.append(errorBox(err, `Could not load ${kind}`))
  }
}

function kindSection(kind, resources, headingTag) {
  const names = Object.keys(resources ?? {}).sort()
  const titleId = `kind-${kind}-title`
  return h(
    'section',
    { class: 'card', 'aria-labelledby': titleId, dataset: { kind } },
    h('div', { class: 'row' }, h(headingTag, { id: titleId }, h('a', { href: routeHref('resources', kind), text: kind })), newLink(kind)),
    names.length === 0
      ? h('p', { class: 'hint', text: `No ${kind} yet.` })
      : h(
          'ul',
          { class: 'names' },
          names.map((name) => h('li', {}, h('a', { href: routeHref('resources', kind, name), text: name }))),
        ),
  )
}

function newLink(kind) {
  if (!canWrite()) return h('span', { class: 'hint', text: 'read-only token' })
  return h('a', { class: 'button', href: routeHref('new', kind), text: `New ${kind.replace(/s$/, '')}` })
}
