// Entry point: wires the session, the navigation bar and the routes to their views.
import { apiCall, onUnauthorized } from './api.js'
import { flash } from './notices.js'
import { startRouter } from './router.js'
import { currentRole, currentToken, setIdentity, signOut } from './session.js'
import { renderCachePurge } from './views/cache-purge.js'
import { renderConfigText } from './views/config-text.js'
import { renderFleet } from './views/fleet.js'
import { renderResourceEditor } from './views/resource-editor.js'
import { renderKind, renderResources } from './views/resources.js'
import { renderSignIn } from './views/sign-in.js'
import { renderVersions } from './views/versions.js'

const routes = [
  { path: ['sign-in'], title: 'Sign in', view: renderSignIn, isPublic: true },
  { path: ['fleet'], title: 'Fleet', view: renderFleet },
  { path: ['resources'], title: 'Resources', view: renderResources },
  { path: ['resources', ':kind'], title: 'Resources', view: renderKind },
  { path: ['resources', ':kind', ':name'], title: 'Resource', view: (el, p) => renderResourceEditor(el, p) },
  { path: ['new', ':kind'], title: 'New resource', view: (el, p) => renderResourceEditor(el, { kind: p.kind, isNew: true }) },
  { path: ['config'], title: 'Config', view: renderConfigText },
  { path: ['versions'], title: 'Versions', view: renderVersions },
  { path: ['cache'], title: 'Cache purge', view: renderCachePurge },
]

function showChrome() {
  const role = currentRole()
  // With a token whose role is unknown (the control plane did not answer /whoami), pages still work; writes stay disabled.
  const signedIn = currentToken() !== null
  document.getElementById('nav').hidden = !signedIn
  document.getElementById('who').hidden = !signedIn
  document.getElementById('role').textContent = role === 'admin' ? 'admin' : role === 'readonly' ? 'read-only token' : ''
}

async function main() {
  // After a reload the token is still in sessionStorage: ask the API which role it has.
  if (currentToken() !== null && currentRole() === null) {
    try {
      setIdentity((await apiCall('GET', '/whoami')).data)
    } catch (err) {
      if (err.status === 401) signOut()
    }
  }
  showChrome()
  document.getElementById('sign-out').addEventListener('click', () => {
    signOut()
    showChrome()
    flash('Signed out.')
    location.hash = '#/sign-in'
  })
  onUnauthorized((err) => {
    signOut()
    showChrome()
    flash(`Signed out: ${err.message}`, 'error')
    location.hash = '#/sign-in'
  })
  window.addEventListener('fleetgate:signed-in', showChrome)
  const router = startRouter({
    routes,
    outlet: document.getElementById('main'),
    fallback: currentToken() === null ? '#/sign-in' : '#/fleet',
    guard: (route) => (route.isPublic || currentToken() !== null ? null : '#/sign-in'),
  })
  // Clicking the link of the page already open reloads it (no hashchange fires then).
  document.getElementById('nav').addEventListener('click', (event) => {
    const link = event.target.closest('a')
    if (link && link.getAttribute('href') === location.hash) router.refresh()
  })
}

main()
