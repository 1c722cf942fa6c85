/* Sign-in and sign-out: the token form, the role check, the header's session line. */
import { $ } from '../lib/dom.js';
import { GraphQLFailure, operation, request } from '../lib/graphql.js';
import { forgetToken, rememberToken, session } from '../lib/session-state.js';

var ME = operation('dashboard', 'DashboardMe');

/** Shows the sign-in form (and hides the dashboard) with an optional message. */
export function showSignIn(message) {
  $('sign-in-panel').hidden = false;
  $('dashboard').hidden = true;
  $('session').hidden = true;
  $('sign-in-error').textContent = message || '';
}

/**
 * Wires the sign-in form and the sign-out button. `hooks.start()` runs once a token is accepted (the
 * dashboard is shown; it connects and loads, returning a promise); `hooks.stop()` when the session
 * ends. Returns `{ signIn, signOut }`.
 */
export function initSession(hooks) {
  function signIn(token) {
    session.token = token;
    return request(ME)
      .then(function (data) {
        // The dashboard shows monitoring figures: roles without them get a message, not a blank page.
        if (data.me.permissions.indexOf('READ_MONITORING') < 0) {
          throw new GraphQLFailure(
            'FORBIDDEN',
            'Your role (' +
              data.me.role.toLowerCase() +
              ') cannot read monitoring figures. This dashboard is for technicians, radiologists and admins; ' +
              'integrators read results through the API.',
          );
        }
        session.permissions = data.me.permissions;
        rememberToken(token);
        $('who').textContent = data.me.displayName + ' (' + data.me.role.toLowerCase() + ')';
        $('sign-in-panel').hidden = true;
        $('dashboard').hidden = false;
        $('session').hidden = false;
        return hooks.start();
      })
      .catch(function (error) {
        forgetToken();
        session.permissions = [];
        showSignIn(
          error.code === 'UNAUTHENTICATED'
            ? 'That token is not valid (expired, revoked or mistyped).'
            : error.message || 'Sign-in failed.',
        );
      });
  }

  function signOut() {
    forgetToken();
    hooks.stop();
    showSignIn('Signed out.');
  }

  $('sign-in-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = $('token-input')
      .value.trim()
      .replace(/^Bearer\s+/i, '');
    if (token) signIn(token);
  });
  $('sign-out').addEventListener('click', signOut);
  return { signIn: signIn, signOut: signOut };
}
