// Hash routing: `#/fleet`, `#/resources/locations/api`, ... Each view renders into the outlet
// and may return a dispose function (timers, listeners), called when the user leaves it.

/**
 * Starts routing. `routes` are `{path: ['resources', ':kind'], title, view}`; a view is
 * `(outlet, params) => dispose | undefined | Promise<...>`. `guard(route)` may return another
 * hash to go to instead (sign-in when there is no token).
 */
export function startRouter({ routes, outlet, fallback, guard }) {
  let dispose = null
  let generation = 0

  async function show() {
    const segments = location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((s) => s !== '')
      .map(safeDecode)
    const match = matchRoute(routes, segments)
    if (match === null) {
      location.replace(fallback)
      return
    }
    const redirect = guard?.(match.route)
    if (redirect && redirect !== location.hash) {
      location.replace(redirect)
      return
    }
    if (typeof dispose === 'function') dispose()
    dispose = null
    const mine = ++generation
    // Each view gets its own container: a slow view that finishes after the user left writes into a detached node.
    const container = document.createElement('div')
    container.className = 'view'
    outlet.replaceChildren(container)
    document.title = `${match.route.title} · Fleetgate`
    markCurrentLink(segments[0])
    const result = await match.route.view(container, match.params)
    if (mine === generation) dispose = result ?? null
    else if (typeof result === 'function') result()
  }

  window.addEventListener('hashchange', show)
  show()
  return { refresh: show }
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function matchRoute(routes, segments) {
  for (const route of routes) {
    if (route.path.length !== segments.length) continue
    const params = {}
    let ok = true
    route.path.forEach((part, i) => {
      if (part.startsWith(':')) params[part.slice(1)] = segments[i]
      else if (part !== segments[i]) ok = false
    })
    if (ok) return { route, params }
  }
  return null
}

function markCurrentLink(first) {
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === `#/${first}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
}
