// DOM helpers. Every string becomes a text node or an attribute value:
// nothing is ever parsed as HTML, so content from the network cannot
// inject markup.

// h builds an element: h('a', {href: '#/'}, 'text', child, [more]).
// Attributes named on* are event listeners; false and null are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;

// field is a labelled control: the label names the input, as screen
// readers and tests find it.
export function field(label, control, hint) {
  if (!control.id) control.id = 'f' + (++ids);
  const parts = [h('label', {for: control.id}, label), control];
  if (hint) {
    const hid = control.id + '-hint';
    control.setAttribute('aria-describedby', hid);
    parts.push(h('small', {id: hid}, hint));
  }
  return h('div', {class: 'field'}, parts);
}

// cidOf reads a CID as the API encodes it: a string, or {"/": "..."}.
export function cidOf(x) {
  if (typeof x === 'string') return x;
  return x && x['/'] ? x['/'] : '';
}

export function short(s) {
  s = String(s || '');
  return s.length > 16 ? s.slice(0, 8) + '…' + s.slice(-6) : s;
}

export function bytes(n) {
  n = Number(n || 0);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function time(t) {
  if (!t) return '';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function badge(status) {
  return h('span', {class: 'badge ' + status}, status);
}

// table renders rows under headers; cells may be nodes or strings.
export function table(caption, headers, rows) {
  return h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map(x => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows.map(r => h('tr', {}, r.map(c => h('td', {}, c))))));
}

// copyButton copies text to the clipboard.
export function copyButton(text, label) {
  return h('button', {type: 'button', class: 'small', onclick: async (e) => {
    try {
      await navigator.clipboard.writeText(text);
      e.target.textContent = 'Copied';
    } catch {
      e.target.textContent = 'Select and copy';
    }
  }}, label || 'Copy');
}

// say announces a message in the status region (aria-live).
export function say(msg, isError) {
  const s = document.getElementById('status');
  s.className = isError ? 'error' : 'ok';
  s.textContent = msg;
}
