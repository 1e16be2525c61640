// The signed-in token and its role. The token lives in sessionStorage only: never in the URL,
// a cookie or localStorage, so it goes away with the tab.

const TOKEN_KEY = 'fleetgate.token'

let role = null
let name = null

/** The current token, or null when signed out. */
export function currentToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

/** Stores a token checked against the API, with the role `/whoami` answered. */
export function signIn(token, who) {
  sessionStorage.setItem(TOKEN_KEY, token)
  setIdentity(who)
}

/** Sets the role and author name (after a reload, from `/whoami`). */
export function setIdentity(who) {
  role = who.role === 'admin' ? 'admin' : 'readonly'
  name = typeof who.name === 'string' ? who.name : role
  document.body.dataset.role = role
}

/** Forgets the token and the role. */
export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY)
  role = null
  name = null
  delete document.body.dataset.role
}

/** 'admin', 'readonly', or null before `/whoami` answered. */
export function currentRole() {
  return role
}

/** The author name the API records for this token. */
export function currentName() {
  return name
}

/** True when the token may write; buttons that change state are disabled otherwise. */
export function canWrite() {
  return role === 'admin'
}
