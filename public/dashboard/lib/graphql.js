/*
 * The dashboard's GraphQL client. Operations are never written here or in the panels: a panel names
 * one with `operation(file, name)`, a named operation of client/<file>.graphql, which the server
 * serves at /dashboard/operations/<file>.graphql (read once at its start-up); the client fetches each
 * file once and sends `{ query, operationName, variables }` with the text of that one operation and
 * the fragments it uses (see operations.js for why not the whole file). src/http/dashboard.spec.ts
 * checks every `operation(...)` of the panels against the schema.
 */
import { extractOperation } from './operations.js';
import { session } from './session-state.js';

/** A GraphQL error answer: its `extensions.code` and message. */
export function GraphQLFailure(code, message) {
  this.code = code;
  this.message = message;
}

/** A named operation of a served document (`file` without `.graphql`). */
export function operation(file, name) {
  return { file: file, name: name };
}

var documents = {};

/** The text of a served document, fetched once (a failed fetch is tried again next time). */
function documentText(file) {
  if (!documents[file]) {
    documents[file] = fetch('/dashboard/operations/' + file + '.graphql').then(function (res) {
      if (!res.ok) throw new GraphQLFailure('OPERATIONS_UNAVAILABLE', 'Could not load ' + file + '.graphql');
      return res.text();
    });
    documents[file].catch(function () {
      delete documents[file];
    });
  }
  return documents[file];
}

/** `{ query, operationName }` of an operation. */
function payloadOf(op) {
  return documentText(op.file).then(function (text) {
    return { query: extractOperation(text, op.name), operationName: op.name };
  });
}

/** Runs a query or mutation over HTTP with the session's token; resolves with `data`, rejects with a GraphQLFailure. */
export function request(op, variables) {
  return payloadOf(op)
    .then(function (payload) {
      return fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + session.token },
        body: JSON.stringify({
          query: payload.query,
          operationName: payload.operationName,
          variables: variables || {},
        }),
      });
    })
    .then(function (res) {
      return res.json();
    })
    .then(function (body) {
      if (body.errors && body.errors.length) {
        var e = body.errors[0];
        throw new GraphQLFailure((e.extensions && e.extensions.code) || 'ERROR', e.message);
      }
      return body.data;
    });
}

/**
 * Subscribes over a graphql-ws client once the operation's text is known; `sink` gets `next`,
 * `error` and `complete` as graphql-ws calls them. Returns the function that unsubscribes.
 */
export function subscribe(client, op, variables, sink) {
  var dispose = null;
  var cancelled = false;
  payloadOf(op).then(
    function (payload) {
      if (!cancelled)
        dispose = client.subscribe(
          { query: payload.query, operationName: payload.operationName, variables: variables || {} },
          sink,
        );
    },
    function (error) {
      sink.error(error);
    },
  );
  return function () {
    cancelled = true;
    if (dispose) dispose();
  };
}
