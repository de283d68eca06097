// Node status: identity, peers, storage, the anchoring queue and the
// chain.

import {h, replace, bytes, table} from './dom.js';
import * as rpc from './rpc.js';

function dl(pairs) {
  return h('dl', {class: 'policy'}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v == null || v === '' ? '—' : String(v))]));
}

// section fills a box from one call; a failure (no network, no chain)
// shows its message instead.
async function section(box, title, load) {
  try {
    replace(box, h('h2', {}, title), await load());
  } catch (err) {
    replace(box, h('h2', {}, title), h('p', {class: 'muted'}, err.message));
  }
}

export function nodePage() {
  const boxes = ['id', 'peers', 'repo', 'anchor', 'chain'].map(x => h('div', {id: 'node-' + x}));
  const [id, peers, repo, anchor, chain] = boxes;
  const load = () => Promise.all([
    section(id, 'Node', async () => {
      const n = await rpc.call('node_id');
      return [dl([['Peer ID', n.peer_id], ['Operator account', n.account], ['API', n.api], ['Version', n.version]]),
        h('ul', {}, n.addrs.map(a => h('li', {}, h('code', {}, a))))];
    }),
    section(peers, 'Peers', async () => {
      const ps = await rpc.call('node_peers');
      return table(`${ps.length} connected`, ['Peer', 'Latency', 'Addresses'], ps.map(p => [h('code', {}, p.id), p.latency || '', p.addrs.join(' ')]));
    }),
    section(repo, 'Storage', async () => {
      const s = await rpc.call('repo_stat');
      return dl([['Shards', `${s.shards} (${bytes(s.shard_bytes)})`], ['Objects', `${s.objects} (${bytes(s.object_bytes)})`],
        ['Pins', s.pins], ['Quota', s.quota_bytes ? bytes(s.quota_bytes) : 'none'], ['Badger LSM / value log', `${bytes(s.lsm_bytes)} / ${bytes(s.vlog_bytes)}`]]);
    }),
    section(anchor, 'Anchoring', async () => {
      const a = await rpc.call('anchor_status');
      return dl([['Enabled', a.enabled ? 'yes' : 'no'], ['Registry', a.registry], ['Queued', a.queued], ['In flight', a.in_flight],
        ['Anchored', a.anchored], ['Last error', a.last_error]]);
    }),
    section(chain, 'Chain', async () => {
      const c = await rpc.call('chain_status');
      return dl([['RPC', c.rpc], ['Chain ID', c.chain_id], ['Head', c.head], ['Account', c.account], ['Balance (wei)', c.balance],
        ['Anchor registry', c.anchor_registry], ['Registry deployed', c.registry_deployed ? 'yes' : 'no']]);
    }),
  ]);
  const el = h('section', {}, h('h1', {}, 'Node status'), boxes,
    h('p', {}, h('button', {type: 'button', onclick: load}, 'Refresh')));
  return {el, refresh: (evs) => {
    if (evs && !evs.some(e => ['reconnected', 'lagged'].includes(e.kind))) return;
    return load();
  }};
}
