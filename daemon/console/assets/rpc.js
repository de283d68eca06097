// The console's client of the node: the session (login, CSRF token) and
// JSON-RPC calls with the session's permission. The API token given at
// login goes to the node once and is not kept: the session is an HttpOnly
// cookie that scripts cannot read.

const perms = ['read', 'write', 'sign', 'admin'];

let session = {perm: 'read', csrf: '', account: ''};

export class RPCError extends Error {
  constructor(message, code, name) {
    super(message);
    this.code = code;
    this.name = name || 'error';
  }
}

export function current() { return session; }

// can reports whether the session holds perm.
export function can(perm) {
  return perms.indexOf(session.perm) >= perms.indexOf(perm);
}

function changed() {
  document.dispatchEvent(new CustomEvent('session', {detail: session}));
}

async function post(path, body) {
  const headers = {'Content-Type': 'application/json'};
  if (session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const r = await fetch(path, {method: 'POST', headers, body, credentials: 'same-origin'});
  if (r.status === 401 && path !== '/console/login') {
    session = {perm: 'read', csrf: '', account: session.account};
    changed();
  }
  return r;
}

async function errorOf(r) {
  let msg = r.statusText;
  try { msg = (await r.json()).error || msg; } catch { /* not JSON */ }
  return new RPCError(msg, r.status, 'http');
}

export async function loadSession() {
  const r = await fetch('/console/session', {credentials: 'same-origin'});
  if (!r.ok) throw await errorOf(r);
  session = await r.json();
  changed();
  return session;
}

export async function login(token) {
  const r = await post('/console/login', JSON.stringify({token}));
  if (!r.ok) throw await errorOf(r);
  session = await r.json();
  changed();
}

export async function logout() {
  const r = await post('/console/logout', '{}');
  session = {perm: 'read', csrf: '', account: session.account};
  changed();
  if (!r.ok && r.status !== 401) throw await errorOf(r);
}

let nextID = 1;

// callRaw calls method with params already encoded as a JSON array and
// returns the result's JSON text as the node sent it.
export async function callRaw(method, paramsJSON) {
  const body = `{"jsonrpc":"2.0","id":${nextID++},"method":${JSON.stringify(method)},"params":${paramsJSON}}`;
  const r = await post('/console/rpc', body);
  if (!r.ok) throw await errorOf(r);
  const text = await r.text();
  const msg = JSON.parse(text);
  if (msg.error) throw new RPCError(msg.error.message, msg.error.code, msg.error.data);
  // go-ethereum writes the result last: {"jsonrpc":..,"id":..,"result":...}.
  const at = text.indexOf('"result":');
  return text.slice(at + 9, text.lastIndexOf('}')).trim();
}

// call calls method with params and returns its result.
export async function call(method, ...params) {
  return JSON.parse(await callRaw(method, JSON.stringify(params)));
}
