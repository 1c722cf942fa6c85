/*
 * The live connection: one graphql-ws client per sign-in (the library's browser build is served at
 * /dashboard/vendor/graphql-ws.js and sets window.graphqlWs), and the header's live indicator.
 */
import { $ } from './dom.js';

/** Sets the header's live indicator (`data-state` live, connecting or closed). */
export function setLive(stateName, text) {
  var s = $('live-status');
  s.dataset.state = stateName;
  s.textContent = text;
}

/** Opens the socket to /graphql with the token (null when the browser build did not load). */
export function connectLive(token) {
  if (!window.graphqlWs) {
    setLive('closed', 'live updates unavailable');
    return null;
  }
  var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  return window.graphqlWs.createClient({
    url: url,
    connectionParams: { authorization: 'Bearer ' + token },
    lazy: false,
    retryAttempts: 1000,
    on: {
      connected: function () {
        setLive('live', 'live');
      },
      closed: function () {
        setLive('closed', 'reconnecting');
      },
    },
  });
}
