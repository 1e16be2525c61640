// The confirm step of destructive actions: an in-page modal <dialog> (not window.confirm, which
// blocks the page and cannot be styled), with the action named on its button.
import { h } from './elements.js'

/**
 * Asks the user to confirm; resolves true when they press the action button, false on Cancel or Escape.
 * `details` are extra lines (strings or nodes) shown under the question.
 */
export function confirmAction({ title, details = [], action }) {
  return new Promise((resolve) => {
    const confirmButton = h('button', { type: 'submit', value: 'confirm', class: 'danger', text: action })
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title', text: title }),
        details.map((d) => h('p', {}, d)),
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'cancel', class: 'secondary', text: 'Cancel' }), confirmButton),
      ),
    )
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm')
      dialog.remove()
    })
    document.body.append(dialog)
    dialog.showModal()
    confirmButton.focus()
  })
}
