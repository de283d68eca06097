// The console: a page per route (#/, #/datanet/ID, #/contribution/CID,
// #/models, #/rewards, #/node), the session bar (log in with an API token
// or stay read-only; connect a wallet), and live updates from the node's
// datanet_subscribe("objects") stream.

import {h, field, replace, say, short} from './dom.js';
import * as rpc from './rpc.js';
import * as wallet from './wallet.js';
import {datanetsPage, datanetPage} from './datanets.js';
import {contributionPage} from './contribution.js';
import {modelsPage} from './models.js';
import {rewardsPage} from './rewards.js';
import {nodePage} from './node.js';

const routes = [
  [/^#?\/?$/, () => datanetsPage()],
  [/^#\/datanet\/([^/]+)$/, (m) => datanetPage(decodeURIComponent(m[1]))],
  [/^#\/contribution\/([^/]+)$/, (m) => contributionPage(decodeURIComponent(m[1]))],
  [/^#\/models$/, () => modelsPage()],
  [/^#\/rewards$/, () => rewardsPage()],
  [/^#\/node$/, () => nodePage()],
];

// page is the current page: {refresh(event)} from its constructor.
let page = null;

async function route() {
  const main = document.getElementById('main');
  const hash = location.hash || '#/';
  for (const a of document.querySelectorAll('nav a')) {
    a.toggleAttribute('aria-current', a.getAttribute('href') === hash);
  }
  for (const [re, make] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    page = null;
    main.setAttribute('aria-busy', 'true');
    replace(main, h('p', {}, 'Loading…'));
    try {
      const p = make(m);
      replace(main, p.el);
      page = p;
      await p.refresh();
    } catch (e) {
      replace(main, h('p', {class: 'error'}, e.message));
    } finally {
      main.setAttribute('aria-busy', 'false');
    }
    return;
  }
  replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', {href: '#/'}, 'Datanets')));
}

function sessionBar() {
  const box = document.getElementById('session');
  const s = rpc.current();
  const parts = [];
  if (s.csrf) {
    parts.push(h('span', {class: 'who', 'data-perm': s.perm}, `Logged in (${s.perm}) · node account ${short(s.account)}`),
      h('button', {type: 'button', class: 'small', onclick: async () => {
        try { await rpc.logout(); say('Logged out: read-only.'); } catch (e) { say(e.message, true); }
      }}, 'Log out'));
  } else {
    const token = h('input', {type: 'password', autocomplete: 'off', required: true, size: 18});
    parts.push(h('form', {class: 'login', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await rpc.login(token.value.trim());
        token.value = '';
        say(`Logged in with ${rpc.current().perm} permission.`);
      } catch (err) {
        say('Login failed: ' + err.message, true);
      }
    }}, h('span', {class: 'who', 'data-perm': 'read'}, 'Read-only'),
    field('API token', token, 'openledger auth create-token --perm sign'),
    h('button', {type: 'submit'}, 'Log in')));
  }
  if (wallet.available()) {
    const w = wallet.connected();
    parts.push(w
      ? h('span', {class: 'wallet'}, `Wallet ${short(w)} `, h('button', {type: 'button', class: 'small', onclick: wallet.disconnect}, 'Forget wallet'))
      : h('button', {type: 'button', class: 'small', onclick: async () => {
        try { await wallet.connect(); } catch (e) { say('wallet: ' + e.message, true); }
      }}, 'Connect wallet'));
  }
  replace(box, parts);
}

// Live updates: a page refreshes what an object of interest changes, at
// most every 300 ms. EventSource reconnects by itself; after a reconnect or
// a "lagged" event the page reloads, since events may have been missed.
function listen() {
  let timer = null, pending = [];
  const poke = (ev) => {
    pending.push(ev);
    if (timer) return;
    timer = setTimeout(async () => {
      const evs = pending;
      pending = [];
      timer = null;
      if (!page) return;
      try {
        await page.refresh(evs);
      } catch (e) {
        say(e.message, true);
      }
    }, 300);
  };
  const es = new EventSource('/console/events');
  let opened = false;
  es.addEventListener('open', () => {
    if (opened) poke({kind: 'reconnected'});
    opened = true;
  });
  es.addEventListener('object', (e) => poke(JSON.parse(e.data)));
}

document.addEventListener('session', () => {
  sessionBar();
  if (page) page.refresh([{kind: 'session'}]);
});
document.addEventListener('wallet', sessionBar);
window.addEventListener('hashchange', route);

(async () => {
  try {
    await rpc.loadSession();
  } catch (e) {
    say('Cannot reach the node: ' + e.message, true);
  }
  sessionBar();
  listen();
  await route();
})();
