// Rewards: the fee parameters, the reward epochs, an account's claimable
// amount and its claim.

import {h, field, replace, say, short, time, table} from './dom.js';
import * as rpc from './rpc.js';
import * as wallet from './wallet.js';

export function rewardsPage() {
  const params = h('div', {id: 'params'});
  const epochs = h('div', {id: 'epochs'});
  const account = h('input', {type: 'text', size: 44, placeholder: 'empty: the node\'s operator'});
  const claim = h('div', {id: 'claim', 'aria-live': 'polite'});

  const show = (c) => replace(claim, h('dl', {class: 'policy'},
    h('dt', {}, 'Address'), h('dd', {}, h('code', {}, c.address)),
    h('dt', {}, 'Epoch'), h('dd', {}, String(c.epoch)),
    h('dt', {}, 'Cumulative (wei)'), h('dd', {}, c.cumulative),
    h('dt', {}, 'Claimed (wei)'), h('dd', {}, c.claimed),
    h('dt', {}, 'Claimable (wei)'), h('dd', {class: 'claimable'}, c.claimable),
    c.tx ? [h('dt', {}, 'Claim transaction'), h('dd', {}, h('code', {}, c.tx))] : null));
  const load = async () => {
    try {
      const p = await rpc.call('rewards_params');
      replace(params, h('p', {}, p.formula), h('p', {class: 'muted'}, `distributor ${p.distributor || 'none'} · token ${p.token || 'none'} · chain ${p.chain_id || '—'}`));
    } catch (err) {
      replace(params, h('p', {class: 'muted'}, err.message));
    }
    try {
      const es = await rpc.call('rewards_epochs');
      replace(epochs, es.length ? table(null, ['Epoch', 'Records', 'Accounts', 'Total (wei)', 'Posted', 'Created'], es.map(e => [
        String(e.number), String(e.records), String(e.accounts), e.total, e.posted ? h('code', {title: e.post_tx}, short(e.post_tx)) : 'no', time(e.created)]))
        : h('p', {class: 'muted'}, 'No reward epoch yet.'));
    } catch (err) {
      replace(epochs, h('p', {class: 'muted'}, err.message));
    }
  };
  const addr = () => account.value.trim() || wallet.connected() || '';

  const el = h('section', {},
    h('h1', {}, 'Rewards'),
    params,
    h('h2', {}, 'Epochs'), epochs,
    h('p', {}, h('button', {type: 'button', onclick: async () => {
      try {
        const e = await rpc.call('rewards_closeEpoch');
        say(`Epoch ${e.number} closed: ${e.records} records, ${e.accounts} accounts.`);
        await load();
      } catch (err) {
        say('Close epoch: ' + err.message, true);
      }
    }}, 'Close an epoch'), ' ', h('span', {class: 'muted'}, 'sums this node\'s records since the last epoch and posts the root (sign login)')),
    h('form', {class: 'card', onsubmit: async (e) => {
      e.preventDefault();
      try { show(await rpc.call('rewards_show', addr())); } catch (err) { say('Rewards: ' + err.message, true); }
    }},
    h('h2', {}, 'My rewards'),
    field('Account', account, 'empty: your wallet if connected, else the node\'s operator'),
    h('button', {type: 'submit'}, 'Show claimable'), ' ',
    h('button', {type: 'button', onclick: async () => {
      try {
        const c = await rpc.call('rewards_claim', addr());
        show(c);
        say(`Claimed ${c.paid} wei for ${c.address}.`);
      } catch (err) {
        say('Claim failed: ' + err.message, true);
      }
    }}, 'Claim'), claim));
  return {el, refresh: (evs) => {
    if (evs && !evs.some(e => ['reconnected', 'lagged'].includes(e.kind))) return;
    return load();
  }};
}
