// Previews of contributed files, built as DOM nodes from text: markdown is
// rendered by a small parser of its own that only ever makes text nodes and
// a fixed set of elements, CSV and JSONL become tables of their first rows,
// images are thumbnails, and anything else is named by kind and size.

import {h, bytes} from './dom.js';

const imageKinds = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp', 'avif']);
const maxRows = 20;

export function contentURL(contribution, path) {
  return '/content/' + encodeURIComponent(contribution) + '/' + path.split('/').map(encodeURIComponent).join('/');
}

// readHead fetches up to n bytes of a file held here, as text, without a
// partial last line when the file goes on.
export async function readHead(contribution, path, n) {
  const r = await fetch(contentURL(contribution, path), {headers: {Range: `bytes=0-${n - 1}`}});
  if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
  const text = new TextDecoder().decode(await r.arrayBuffer());
  const total = /\/(\d+)$/.exec(r.headers.get('Content-Range') || '');
  const whole = r.status === 200 || !total || Number(total[1]) <= n;
  return whole ? text : text.slice(0, Math.max(0, text.lastIndexOf('\n')));
}

// preview renders file {path, kind, size, head, local} of contribution.
// text, when given, replaces the file's head (a longer read).
export function preview(contribution, file, text) {
  const body = text ?? file.head ?? '';
  const kind = (file.kind || '').toLowerCase();
  const box = h('div', {class: 'preview', dataset: {kind}});
  if (!file.local) {
    box.append(h('p', {class: 'muted'}, `${kind || 'file'} · ${bytes(file.size)} · not held on this node yet`));
    return box;
  }
  if (imageKinds.has(kind)) {
    // An <img> never runs a script, an SVG's included.
    box.append(h('img', {class: 'thumb', src: contentURL(contribution, file.path), alt: `preview of ${file.path}`, loading: 'lazy'}));
    return box;
  }
  if (!body) {
    box.append(h('p', {class: 'muted'}, `${kind || 'file'} · ${bytes(file.size)}`));
    return box;
  }
  switch (kind) {
    case 'md': box.append(markdown(body)); break;
    case 'csv': box.append(rowsTable(parseDelimited(body, ','))); break;
    case 'tsv': box.append(rowsTable(parseDelimited(body, '\t'))); break;
    case 'jsonl': box.append(jsonlTable(body)); break;
    default: box.append(h('pre', {}, body));
  }
  return box;
}

// parseDelimited parses CSV (RFC 4180 quoting) into rows.
export function parseDelimited(text, sep) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === sep) { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell.replace(/\r$/, '')); rows.push(row); row = []; cell = ''; }
    else cell += c;
    if (rows.length > maxRows) break;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows.slice(0, maxRows + 1);
}

function rowsTable(rows) {
  if (!rows.length) return h('p', {class: 'muted'}, 'empty');
  const [head, ...rest] = rows;
  return h('table', {class: 'data'},
    h('thead', {}, h('tr', {}, head.map(x => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rest.map(r => h('tr', {}, r.map(x => h('td', {}, x))))));
}

function jsonlTable(text) {
  const objs = [];
  for (const line of text.split('\n').slice(0, maxRows)) {
    if (!line.trim()) continue;
    try { objs.push(JSON.parse(line)); } catch { objs.push({'(not JSON)': line}); }
  }
  const cols = [];
  for (const o of objs) {
    for (const k of Object.keys(o && typeof o === 'object' ? o : {value: o})) {
      if (!cols.includes(k) && cols.length < 12) cols.push(k);
    }
  }
  const cell = (v) => typeof v === 'string' ? v : JSON.stringify(v);
  return rowsTable([cols, ...objs.map(o => cols.map(k => {
    const src = o && typeof o === 'object' ? o : {value: o};
    return k in src ? cell(src[k]) : '';
  }))]);
}

// markdown renders a subset of CommonMark: headings, paragraphs, lists,
// block quotes, fenced code, and inline code, emphasis and links (http and
// https only). Raw HTML in the source stays text.
export function markdown(src) {
  const out = h('div', {class: 'md'});
  const lines = src.replace(/\r/g, '').split('\n');
  let para = [], list = null;
  const flush = () => {
    if (para.length) out.append(h('p', {}, inline(para.join(' '))));
    para = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if (/^```/.test(line)) {
      flush();
      const code = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      out.append(h('pre', {}, h('code', {}, code.join('\n'))));
    } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flush();
      // Headings of a preview sit below the page's own.
      out.append(h('h' + Math.min(6, m[1].length + 2), {}, inline(m[2])));
    } else if ((m = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line))) {
      if (para.length) flush();
      const tag = m[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag, {});
        out.append(list);
      }
      list.append(h('li', {}, inline(m[2])));
    } else if ((m = /^>\s?(.*)$/.exec(line))) {
      flush();
      out.append(h('blockquote', {}, inline(m[1])));
    } else if (!line.trim()) {
      flush();
    } else {
      list = null;
      para.push(line.trim());
    }
  }
  flush();
  return out;
}

function inline(text) {
  const nodes = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|_([^_]+)_|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) nodes.push(text.slice(last, m.index));
    if (m[1] !== undefined) nodes.push(h('code', {}, m[1]));
    else if (m[2] !== undefined) nodes.push(h('strong', {}, m[2]));
    else if (m[3] !== undefined || m[4] !== undefined) nodes.push(h('em', {}, m[3] ?? m[4]));
    else if (/^https?:\/\//i.test(m[6])) nodes.push(h('a', {href: m[6], rel: 'noopener noreferrer nofollow', target: '_blank'}, m[5]));
    else nodes.push(m[5]);
    last = re.lastIndex;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
