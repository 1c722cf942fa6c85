/* DOM helpers of the dashboard. Server text always goes in through textContent, never as HTML. */

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/** A new element: `attrs.text` becomes its textContent, `attrs.className` its class, the rest attributes. */
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
  for (var k in attrs || {}) {
    if (k === 'text') node.textContent = attrs[k];
    else if (k === 'className') node.className = attrs[k];
    else node.setAttribute(k, attrs[k]);
  }
  (children || []).forEach(function (c) {
    if (c) node.appendChild(c);
  });
  return node;
}

var SVG_NS = 'http://www.w3.org/2000/svg';

/** A new SVG element with these attributes and, when given, this text. */
export function svg(tag, attrs, text) {
  var node = document.createElementNS(SVG_NS, tag);
  for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
  if (text !== undefined) node.textContent = text;
  return node;
}

var toastTimer = null;

/** Shows a message at the bottom of the page for four seconds. */
export function toast(message) {
  var t = $('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () {
    t.hidden = true;
  }, 4000);
}

/** One legend entry: a colour swatch and its text. */
export function legend(color, text) {
  var i = el('i');
  i.style.background = color;
  return el('span', {}, [i, document.createTextNode(text)]);
}
