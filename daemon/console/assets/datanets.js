// The Datanets page (those held here: joined, owned and curated by me;
// create, join) and a Datanet's page (policy and its update, the review
// queue, all contributions, snapshots).

import {h, field, replace, say, short, bytes, time, badge, table, copyButton} from './dom.js';
import * as rpc from './rpc.js';
import * as wallet from './wallet.js';
import {preview} from './preview.js';
import {voteForm} from './vote.js';

const same = (a, b) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
const pageSize = 50;

// mine are the accounts that are "me": the node's operator and the wallet.
function mine() {
  return [rpc.current().account, wallet.connected()].filter(Boolean);
}

function roles(d, joined) {
  const r = [];
  if (joined.has(d.id)) r.push('joined');
  if (mine().some(a => same(a, d.owner))) r.push('owner');
  if ((d.curators || []).some(c => mine().some(a => same(a, c.address)))) r.push('curator');
  return r;
}

export function datanetsPage() {
  const list = h('div', {id: 'datanets'});
  const filter = h('select', {}, ['all', 'joined', 'owned', 'curated by me'].map(x => h('option', {value: x}, x)));
  let all = [], joined = new Set(), after = '';
  const more = h('button', {type: 'button', hidden: true, onclick: () => load(false)}, 'More Datanets');

  const draw = () => {
    const want = filter.value;
    const rows = all.filter(d => {
      const r = roles(d, joined);
      return want === 'all' || r.includes(want === 'owned' ? 'owner' : want === 'curated by me' ? 'curator' : 'joined');
    });
    replace(list, rows.length ? table(null, ['Datanet', 'ID', 'Version', 'Curators', 'Me'], rows.map(d => [
      h('a', {href: '#/datanet/' + encodeURIComponent(d.id)}, d.name || '(unnamed)'),
      h('code', {title: d.id}, short(d.id)),
      String(d.seq),
      String((d.curators || []).length),
      roles(d, joined).join(', '),
    ])) : h('p', {class: 'muted'}, 'No Datanet here matches.'));
  };
  const load = async (reset) => {
    if (reset) { all = []; after = ''; }
    const [ds, js] = await Promise.all([
      rpc.call('datanet_list', {after, limit: pageSize}),
      rpc.call('datanet_joined'),
    ]);
    joined = new Set(js || []);
    all = all.concat(ds || []);
    after = ds && ds.length === pageSize ? ds[ds.length - 1].id : '';
    more.hidden = !after;
    draw();
  };
  filter.addEventListener('change', draw);

  const el = h('section', {},
    h('h1', {}, 'Datanets'),
    field('Show', filter),
    list, more,
    createForm(),
    joinForm());
  return {el, refresh: (evs) => {
    if (evs && !evs.some(e => ['datanet', 'session', 'reconnected', 'lagged'].includes(e.kind))) return;
    return load(true);
  }};
}

function curatorsOf(text) {
  return text.split(/[\s,]+/).filter(Boolean).map(x => {
    const [address, w] = x.split(':');
    return {address, weight: Number(w || 1)};
  });
}

function createForm() {
  const name = h('input', {type: 'text', required: true, id: 'create-name'});
  const desc = h('input', {type: 'text'});
  const license = h('input', {type: 'text', placeholder: 'CC-BY-4.0'});
  const kinds = h('input', {type: 'text', placeholder: 'txt, md, csv'});
  const curators = h('textarea', {rows: 2, placeholder: '0xADDRESS:weight, one a line'});
  const quorum = h('input', {type: 'number', min: 0});
  const threshold = h('input', {type: 'number', min: 0.01, max: 100, step: 0.01, placeholder: '50.01'});
  const windowH = h('input', {type: 'number', min: 0, placeholder: '0 = none'});
  const form = h('form', {class: 'card', id: 'create', onsubmit: async (e) => {
    e.preventDefault();
    const spec = {name: name.value, description: desc.value, license: license.value,
      kinds: kinds.value.split(/[\s,]+/).filter(Boolean), curators: curatorsOf(curators.value)};
    if (quorum.value) spec.quorum = Number(quorum.value);
    if (threshold.value) spec.threshold_bps = Math.round(Number(threshold.value) * 100);
    if (windowH.value) spec.window = Math.round(Number(windowH.value) * 3600);
    try {
      const d = await rpc.call('datanet_create', spec);
      say(`Datanet ${d.name} created: ${d.id}`);
      location.hash = '#/datanet/' + encodeURIComponent(d.id);
    } catch (err) {
      say('Create failed: ' + err.message, true);
    }
  }},
  h('h2', {}, 'Create a Datanet'),
  h('p', {class: 'muted'}, 'Signed by the node\'s operator key: needs a sign login. Without curators the owner alone curates.'),
  field('Name', name), field('Description', desc), field('License', license), field('File kinds', kinds),
  field('Curators', curators), field('Quorum (weight)', quorum, 'default: a majority of the curators\' weight'),
  field('Approval threshold (%)', threshold), field('Voting window (hours)', windowH),
  h('button', {type: 'submit'}, 'Create Datanet'));
  return form;
}

function joinForm() {
  const id = h('input', {type: 'text', required: true, size: 40});
  return h('form', {class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await rpc.call('datanet_join', id.value.trim());
      say('Joined; the Datanet syncs from peers.');
    } catch (err) {
      say('Join failed: ' + err.message, true);
    }
  }}, h('h2', {}, 'Join a Datanet'), field('Datanet ID', id), h('button', {type: 'submit'}, 'Join'));
}

function policy(d) {
  return h('dl', {class: 'policy'},
    h('dt', {}, 'Owner'), h('dd', {}, h('code', {}, d.owner)),
    h('dt', {}, 'License'), h('dd', {}, d.license || '—'),
    h('dt', {}, 'File kinds'), h('dd', {}, (d.kinds || []).join(', ') || 'any'),
    h('dt', {}, 'Version'), h('dd', {}, String(d.seq)),
    h('dt', {}, 'Quorum'), h('dd', {}, String(d.quorum)),
    h('dt', {}, 'Approval threshold'), h('dd', {}, (d.threshold_bps / 100).toFixed(2) + ' %'),
    h('dt', {}, 'Voting window'), h('dd', {}, d.window ? (d.window / 3600).toFixed(1) + ' h' : 'none'),
    h('dt', {}, 'Curators'), h('dd', {}, h('ul', {}, (d.curators || []).map(c =>
      h('li', {}, h('code', {}, c.address), ` weight ${c.weight}`, mine().some(a => same(a, c.address)) ? ' (me)' : '')))));
}

function updateForm(id, onDone) {
  const quorum = h('input', {type: 'number', min: 0});
  const threshold = h('input', {type: 'number', min: 0.01, max: 100, step: 0.01});
  const windowH = h('input', {type: 'number', min: 0});
  const add = h('input', {type: 'text', placeholder: '0xADDRESS:weight', id: 'update-add'});
  const remove = h('input', {type: 'text', placeholder: '0xADDRESS'});
  return h('form', {class: 'card', id: 'update', onsubmit: async (e) => {
    e.preventDefault();
    const u = {};
    if (quorum.value) u.quorum = Number(quorum.value);
    if (threshold.value) u.threshold_bps = Math.round(Number(threshold.value) * 100);
    if (windowH.value) u.window = Math.round(Number(windowH.value) * 3600);
    if (add.value.trim()) u.set_curators = curatorsOf(add.value);
    if (remove.value.trim()) u.remove_curators = remove.value.split(/[\s,]+/).filter(Boolean);
    if (!Object.keys(u).length) {
      say('Nothing to update: fill in a field.', true);
      return;
    }
    try {
      const d = await rpc.call('datanet_update', id, u);
      say(`Policy updated: version ${d.seq}.`);
      for (const x of [quorum, threshold, windowH, add, remove]) x.value = '';
      onDone();
    } catch (err) {
      say('Update failed: ' + err.message, true);
    }
  }},
  h('h2', {}, 'Update the policy'),
  h('p', {class: 'muted'}, 'Owner only; only the fields filled in change.'),
  field('Quorum (weight)', quorum), field('Approval threshold (%)', threshold),
  field('Voting window (hours)', windowH), field('Add or reweigh a curator', add), field('Remove a curator', remove),
  h('button', {type: 'submit'}, 'Sign and publish the update'));
}

// queueItem is one pending contribution of the review queue:
// {el, update(item)}. An update redraws the tally and the previews and
// keeps the vote form, so live updates never wipe what a curator types.
function queueItem(d, item, reload) {
  const c = item.tally.contribution;
  const status = h('span');
  const meta = h('p', {class: 'muted'});
  const body = h('div');
  const update = (item) => {
    const t = item.tally;
    replace(status, badge(t.status));
    meta.textContent = `by ${item.contributor} · ${bytes(item.size)} · ${time(t.created)} · ` +
      `approve ${t.approve} / reject ${t.reject} of quorum ${t.quorum}`;
    const dup = item.repeats > 0
      ? h('p', {class: 'dup', role: 'note'}, item.repeats >= 0.999
        ? 'Duplicate: all of its bytes are in accepted contributions.'
        : `Near duplicate: ${(item.repeats * 100).toFixed(0)} % of its bytes are in accepted contributions.`)
      : null;
    // A node holds a contribution's object as soon as it is announced, its
    // files only once fetched.
    const missing = item.files.filter(f => !f.local).reduce((n, f) => n + f.size, 0);
    const fetchButton = missing ? h('button', {type: 'button', class: 'fetch', onclick: async () => {
      fetchButton.disabled = true;
      try {
        await rpc.call('content_fetch', c);
        await reload();
      } catch (err) {
        say('Fetch failed: ' + err.message, true);
        fetchButton.disabled = false;
      }
    }}, `Fetch the files to preview (${bytes(missing)})`) : null;
    replace(body, dup, fetchButton, item.files.map(f => h('figure', {},
      h('figcaption', {}, `${f.path} · ${f.kind || 'file'} · ${bytes(f.size)}`),
      preview(c, f))));
  };
  update(item);
  const el = h('article', {class: 'item', dataset: {cid: c}},
    h('h3', {}, h('a', {href: '#/contribution/' + encodeURIComponent(c)}, short(c)), ' ', status),
    meta, body,
    voteForm(c, d, reload));
  return {el, update};
}

export function datanetPage(id) {
  const head = h('div');
  const counts = h('p', {class: 'counts'});
  const queue = h('div', {id: 'queue'});
  const nav = h('div', {class: 'pager'});
  const contributions = h('div', {id: 'contributions'});
  const snapshots = h('div', {id: 'snapshots'});
  const update = h('div');
  let d = null;
  // The queue's pages: cursors of the pages before the current one.
  let cursors = [''], at = 0;
  const qsize = 10;

  // The items shown, by contribution CID, kept across refreshes.
  let shown = new Map();
  const loadQueue = async () => {
    const items = await rpc.call('curation_pending', id, {after: cursors[at], limit: qsize});
    const next = new Map();
    for (const it of items) {
      const c = it.tally.contribution;
      const q = shown.get(c);
      if (q) q.update(it);
      next.set(c, q || queueItem(d, it, loadAll));
    }
    const same = next.size === shown.size && [...next.keys()].every((c, i) => [...shown.keys()][i] === c);
    shown = next;
    if (!same || !items.length) {
      replace(queue, items.length ? [...next.values()].map(q => q.el) : h('p', {class: 'muted'}, 'Nothing awaits a decision.'));
    }
    cursors.length = at + 1;
    if (items.length === qsize) cursors.push(items[items.length - 1].tally.contribution);
    replace(nav,
      h('button', {type: 'button', id: 'queue-previous', disabled: at === 0, onclick: () => { at--; loadQueue(); }}, 'Previous page'),
      ` page ${at + 1} `,
      h('button', {type: 'button', id: 'queue-next', disabled: cursors.length <= at + 1, onclick: () => { at++; loadQueue(); }}, 'Next page'));
  };
  const loadContributions = async () => {
    const show = await rpc.call('datanet_show', id, {limit: pageSize});
    const c = show.counts;
    counts.textContent = `${c.pending} pending · ${c.accepted} accepted · ${c.rejected} rejected · ${c.expired} expired · ` +
      `${c.votes} votes · ${bytes(c.bytes)} · ${c.snapshots} snapshots`;
    replace(contributions, table('Contributions (oldest first)', ['Contribution', 'Status', 'Size', 'Approve', 'Reject', 'Created'],
      show.contributions.map(k => [
        h('a', {href: '#/contribution/' + encodeURIComponent(k.cid), dataset: {cid: k.cid}}, short(k.cid)),
        h('span', {class: 'status', dataset: {cid: k.cid, status: k.status}}, badge(k.status)),
        bytes(k.size), String(k.approve), String(k.reject), time(k.created)])));
  };
  const loadSnapshots = async () => {
    const snaps = await rpc.call('snapshot_list', id, {limit: pageSize});
    replace(snapshots, snaps.length ? snaps.map(s => snapshotRow(s)) : h('p', {class: 'muted'}, 'No snapshot yet.'));
  };
  const loadHead = async () => {
    const prev = d;
    d = await rpc.call('datanet_show', id, {limit: 1}).then(x => x.datanet);
    // A new version may change who curates: rebuild the vote forms.
    if (prev && prev.seq !== d.seq) shown = new Map();
    replace(head, h('h1', {}, d.name || '(unnamed)'), h('p', {}, d.description || ''),
      h('p', {class: 'muted'}, 'ID ', h('code', {}, id), ' ', copyButton(id, 'Copy ID')), policy(d));
    // Built once: a refresh must not wipe what the owner is typing.
    const owner = mine().some(a => same(a, d.owner));
    if (!owner) replace(update);
    else if (!update.firstChild) replace(update, updateForm(id, loadAll));
  };
  const loadAll = async () => {
    await loadHead();
    await Promise.all([loadQueue(), loadContributions(), loadSnapshots()]);
  };
  const cut = h('button', {type: 'button', id: 'cut', onclick: async () => {
    cut.disabled = true;
    try {
      const s = await rpc.call('snapshot_cut', id);
      say(`Snapshot ${s.cid} cut: ${s.contributions} contributions, ${s.votes} votes.`);
      await loadSnapshots();
    } catch (err) {
      say('Cut failed: ' + err.message, true);
    } finally {
      cut.disabled = false;
    }
  }}, 'Cut a snapshot');

  const el = h('section', {},
    head, counts,
    h('h2', {}, 'Review queue'), queue, nav,
    h('h2', {}, 'All contributions'), contributions,
    h('h2', {}, 'Snapshots'), h('p', {}, cut, ' ', h('span', {class: 'muted'}, 'the accepted contributions with their votes, signed by this node (sign login)')),
    snapshots,
    update);
  return {el, refresh: async (evs) => {
    if (!evs) return loadAll();
    const kinds = new Set(evs.filter(e => !e.datanet || e.datanet === id).map(e => e.kind));
    if (kinds.has('datanet') || kinds.has('session') || kinds.has('reconnected') || kinds.has('lagged')) return loadAll();
    const work = [];
    if (kinds.has('contribution') || kinds.has('vote')) work.push(loadQueue(), loadContributions());
    if (kinds.has('snapshot')) work.push(loadSnapshots(), loadContributions());
    await Promise.all(work);
  }};
}

function snapshotRow(s) {
  const verdict = h('span', {class: 'verdict', 'aria-live': 'polite'});
  const get = `openledger get ${s.cid} -o ./data`;
  return h('article', {class: 'item snapshot', dataset: {cid: s.cid}},
    h('h3', {}, `Version ${s.version} · `, h('code', {}, short(s.cid))),
    h('p', {class: 'muted'}, `${s.contributions} contributions · ${s.votes} votes · cut by ${s.cutter} · ${time(s.created)}`),
    h('p', {}, 'Root ', h('code', {}, s.root)),
    h('p', {},
      h('button', {type: 'button', class: 'verify', onclick: async () => {
        verdict.textContent = 'verifying…';
        try {
          const v = await rpc.call('snapshot_verify', s.cid);
          verdict.dataset.ok = v.ok;
          verdict.textContent = v.ok ? `verified: ${v.checked}` : `FAILED: ${v.problem}`;
        } catch (err) {
          verdict.dataset.ok = false;
          verdict.textContent = 'verify failed: ' + err.message;
        }
      }}, 'Verify'), ' ', verdict),
    h('p', {}, h('a', {href: '/content/' + encodeURIComponent(s.cid), target: '_blank', rel: 'noopener noreferrer'}, 'Files (JSON listing)'),
      ' · ', h('code', {}, get), ' ', copyButton(get, 'Copy get command')));
}
