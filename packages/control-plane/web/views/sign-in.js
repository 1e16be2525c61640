// Sign-in: a pasted token is checked with GET /whoami before it is kept (sessionStorage only).
import { apiCall } from '../api.js'
import { h } from '../elements.js'
import { clearFlash, errorBox } from '../notices.js'
import { signIn } from '../session.js'

/** Renders the sign-in form; on success stores the token and goes to the fleet page. */
export function renderSignIn(view) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-hint',
  })
  const result = h('div', { class: 'result', 'aria-live': 'polite' })
  const button = h('button', { type: 'submit', text: 'Sign in' })
  const form = h(
    'form',
    { class: 'sign-in card', novalidate: true },
    h('h1', { text: 'Sign in' }),
    h('label', { for: 'token', text: 'API token' }),
    input,
    h('p', {
      id: 'token-hint',
      class: 'hint',
      text: 'An admin or read-only token of this control plane. It is kept in this tab only (sessionStorage) and sent as a Bearer header.',
    }),
    button,
    result,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const token = input.value.trim()
    result.replaceChildren()
    if (token === '') {
      result.append(errorBox({ status: 400, message: 'Paste a token first.' }))
      input.focus()
      return
    }
    button.disabled = true
    try {
      const who = (await apiCall('GET', '/whoami', { token })).data
      signIn(token, who)
      input.value = ''
      clearFlash()
      window.dispatchEvent(new Event('fleetgate:signed-in'))
      location.hash = '#/fleet'
    } catch (err) {
      result.append(errorBox(err, 'Sign-in failed'))
      input.select()
    } finally {
      button.disabled = false
    }
  })
  view.append(form)
  input.focus()
}
