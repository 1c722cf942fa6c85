/* Who is signed in: the bearer token (kept in sessionStorage) and the role's permissions. */

var TOKEN_KEY = 'careCompanion.token';

/** The signed-in session; `token` is null when nobody is. */
export var session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  permissions: [],
};

/** Keeps the token for this tab (after the server accepted it). */
export function rememberToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token (sign-out, or a token the server refused). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
}

/** True when the signed-in role holds `permission` (from `me.permissions`). */
export function may(permission) {
  return (session.permissions || []).indexOf(permission) >= 0;
}
