/*
 * Picks one named operation out of a GraphQL document (a client/*.graphql file), with the fragments
 * it uses, so the server parses, validates and charges exactly what runs. Sending the whole file with
 * an operationName would also execute correctly, but the server validates every definition of a
 * document: each request would pay for parsing the whole file (and count its tokens against the
 * parser's limit), and one operation over the depth or cost limit, or a broken one, would refuse every
 * other operation of its file. No DOM here: the test suite runs this module too.
 */

/**
 * The document with comments and string contents blanked to spaces (same length, same offsets), so
 * braces and `...` inside them count for nothing.
 */
function codeOnly(text) {
  var out = '';
  var i = 0;
  while (i < text.length) {
    var c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') {
        out += ' ';
        i++;
      }
    } else if (text.startsWith('"""', i)) {
      var end = i + 3;
      while (end < text.length && !text.startsWith('"""', end)) end += text.startsWith('\\"""', end) ? 4 : 1;
      end = Math.min(end + 3, text.length);
      out += '"' + text.slice(i + 1, end - 1).replace(/[^\n]/g, ' ') + '"';
      i = end;
    } else if (c === '"') {
      var stop = i + 1;
      while (stop < text.length && text[stop] !== '"' && text[stop] !== '\n')
        stop += text[stop] === '\\' ? 2 : 1;
      stop = Math.min(stop + 1, text.length);
      out += '"' + ' '.repeat(Math.max(stop - i - 2, 0)) + (stop - i > 1 ? '"' : '');
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * The top-level definitions of a document: `{ kind, name, text }` with kind `query`, `mutation`,
 * `subscription` or `fragment`; a definition runs from its keyword to the brace that closes its
 * selection set (braces inside parentheses, as in an object default value, do not end it).
 * Anonymous operations have the name null.
 */
export function definitions(text) {
  var code = codeOnly(text);
  var found = [];
  var word = /[_A-Za-z][_0-9A-Za-z]*/y;
  var i = 0;
  while (i < code.length) {
    var c = code[i];
    if (c === '{' || /[_A-Za-z]/.test(c)) {
      var start = i;
      var kind = 'query';
      var name = null;
      if (c !== '{') {
        word.lastIndex = i;
        kind = word.exec(code)[0];
        var rest = /\s*([_A-Za-z][_0-9A-Za-z]*)?/y;
        rest.lastIndex = word.lastIndex;
        var named = rest.exec(code);
        name = named && named[1] && named[1] !== 'on' ? named[1] : null;
      }
      var braces = 0;
      var parens = 0;
      var j = i;
      for (; j < code.length; j++) {
        var d = code[j];
        if (d === '(') parens++;
        else if (d === ')') parens--;
        else if (d === '{') braces++;
        else if (d === '}') {
          braces--;
          if (braces === 0 && parens === 0) break;
        }
      }
      if (j >= code.length) throw new Error('GraphQL document: unbalanced braces after ' + (name || kind));
      found.push({ kind: kind, name: name, text: text.slice(start, j + 1), code: code.slice(start, j + 1) });
      i = j + 1;
    } else i++;
  }
  return found;
}

var OPERATION_KINDS = ['query', 'mutation', 'subscription'];

/** Names of the fragments a definition spreads (`...Name`, not `... on Type`). */
function spreads(code) {
  var names = [];
  var re = /\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)/g;
  var m;
  while ((m = re.exec(code))) if (m[1] !== 'on') names.push(m[1]);
  return names;
}

/**
 * The text to send for operation `name` of `document`: that operation, then every fragment it uses
 * (directly or through other fragments) in document order, and nothing else (an unused fragment
 * would fail the server's validation). Throws when the document has no such operation or lacks a
 * fragment.
 */
export function extractOperation(document, name) {
  var defs = definitions(document);
  var op = defs.find(function (d) {
    return OPERATION_KINDS.indexOf(d.kind) >= 0 && d.name === name;
  });
  if (!op) throw new Error('GraphQL document has no operation ' + name);
  var fragments = {};
  defs.forEach(function (d) {
    if (d.kind === 'fragment') fragments[d.name] = d;
  });
  var used = {};
  var queue = spreads(op.code);
  while (queue.length) {
    var next = queue.shift();
    if (used[next]) continue;
    if (!fragments[next])
      throw new Error('GraphQL document has no fragment ' + next + ' (used by ' + name + ')');
    used[next] = true;
    queue = queue.concat(spreads(fragments[next].code));
  }
  return [op.text]
    .concat(
      defs
        .filter(function (d) {
          return d.kind === 'fragment' && used[d.name];
        })
        .map(function (d) {
          return d.text;
        }),
    )
    .join('\n\n');
}
