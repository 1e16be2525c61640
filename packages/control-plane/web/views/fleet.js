// Fleet: every data plane (GET /fleet) and the last publish attempt (GET /publish), refreshed
// every few seconds while the page is open.
import { apiCall } from '../api.js'
import { h, replace } from '../elements.js'
import { formatAgo, formatBytes, formatNumber, formatPercent, formatTime, shortSha } from '../format.js'
import { errorBox, errorList } from '../notices.js'

/** How often the page reloads its figures. */
const REFRESH_MS = 3000

/** Renders the fleet page; returns the function that stops its refresh timer. */
export function renderFleet(view) {
  const publish = h('section', { class: 'card', 'aria-labelledby': 'publish-title' })
  const summary = h('section', { class: 'card', 'aria-labelledby': 'summary-title' })
  const nodes = h('section', { class: 'card', 'aria-labelledby': 'nodes-title' })
  const updated = h('p', { class: 'hint', 'aria-live': 'off' })
  view.append(h('h1', { text: 'Fleet' }), updated, publish, summary, nodes)
  let timer = null
  let stopped = false

  async function refresh() {
    try {
      const [fleet, status] = await Promise.all([apiCall('GET', '/fleet'), apiCall('GET', '/publish')])
      if (stopped) return
      renderPublish(publish, status.data)
      renderSummary(summary, fleet.data.summary)
      renderNodes(nodes, fleet.data.nodes ?? [], status.data.generation)
      updated.textContent = `Updated ${formatTime(new Date().toISOString())}; refreshes every ${REFRESH_MS / 1000} s.`
    } catch (err) {
      if (!stopped) replace(updated, errorBox(err, 'Could not load the fleet'))
    } finally {
      if (!stopped) timer = setTimeout(refresh, REFRESH_MS)
    }
  }
  refresh()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

function renderPublish(section, status) {
  replace(
    section,
    h('h2', { id: 'publish-title', text: 'Publishing' }),
    h(
      'dl',
      { class: 'facts', id: 'publish-status' },
      fact('State', h('span', { class: `badge ${status.state === 'ok' ? 'ok' : 'bad'}`, text: status.state ?? '—' })),
      fact('Generation', status.generation ?? '—', 'publish-generation'),
      fact('Auto-publish', status.held ? 'held (after a rollback)' : 'on'),
      fact('Last attempt', formatTime(status.at)),
    ),
    Array.isArray(status.errors) && status.errors.length > 0
      ? h('div', { class: 'notice error' }, h('strong', { text: 'The desired config was not published:' }), errorList(status.errors))
      : null,
  )
}

function renderSummary(section, summary) {
  if (!summary) return replace(section, h('h2', { id: 'summary-title', text: 'Summary' }), h('p', { text: 'No summary.' }))
  const n = summary.nodes ?? {}
  replace(
    section,
    h('h2', { id: 'summary-title', text: 'Summary' }),
    h(
      'dl',
      { class: 'facts', id: 'fleet-summary' },
      fact('Nodes', n.total),
      fact('Current', n.current),
      fact('Behind', n.behind),
      fact('Rejected', n.rejected),
      fact('Stale', n.stale),
      fact('Reporting figures', summary.reporting),
      fact('Requests/s', formatNumber(summary.requestsPerSecond)),
      fact('5xx ratio', formatPercent(summary.errorRatio5xx)),
      fact('Worst p99', summary.maxP99Ms === null ? '—' : `${formatNumber(summary.maxP99Ms)} ms`),
      fact('Active requests', summary.activeRequests),
      fact('Memory (RSS)', formatBytes(summary.rssBytes)),
    ),
  )
}

function renderNodes(section, nodes, generation) {
  const heading = h('h2', { id: 'nodes-title', text: `Data planes (${nodes.length})` })
  if (nodes.length === 0) return replace(section, heading, h('p', { text: 'No data plane has reported yet.' }))
  const columns = ['Node', 'Address', 'Version', 'Applied', 'Rejected', 'Last seen', 'State', 'Req/s', 'p99', 'Active', 'RSS']
  replace(
    section,
    heading,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'nodes' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            columns.map((c) => h('th', { scope: 'col', text: c })),
          ),
        ),
        h(
          'tbody',
          {},
          nodes.map((node) => nodeRow(node, generation)),
        ),
      ),
    ),
  )
}

function nodeRow(node, generation) {
  const applied = node.applied
  const figures = node.figures?.recent
  const state = node.stale
    ? h('span', { class: 'badge bad', text: 'stale' })
    : applied && applied.generation === generation
      ? h('span', { class: 'badge ok', text: 'current' })
      : h('span', { class: 'badge warn', text: 'behind' })
  return h(
    'tr',
    { dataset: { node: node.id } },
    h('th', { scope: 'row', text: node.id }),
    h('td', { text: node.address ?? '—' }),
    h('td', { text: node.version ?? '—' }),
    h(
      'td',
      { class: 'applied' },
      applied ? [h('span', { class: 'gen', text: `gen ${applied.generation}` }), ' ', h('code', { text: shortSha(applied.sha256) })] : '—',
    ),
    h(
      'td',
      { class: node.rejected ? 'rejected has-rejection' : 'rejected' },
      node.rejected ? `gen ${node.rejected.generation}: ${node.rejected.error}` : '—',
    ),
    h('td', { title: formatTime(node.lastSeen), text: formatAgo(node.lastSeen) }),
    h('td', {}, state),
    h('td', { text: formatNumber(figures?.requestsPerSecond) }),
    h('td', { text: figures?.p99Ms == null ? '—' : `${formatNumber(figures.p99Ms)} ms` }),
    h('td', { text: formatNumber(node.figures?.activeRequests) }),
    h('td', { text: formatBytes(node.figures?.rssBytes) }),
  )
}

function fact(term, value, id) {
  return h('div', {}, h('dt', { text: term }), h('dd', id ? { id } : {}, value ?? '—'))
}
