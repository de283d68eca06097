// The vote form: a decision, a reason, and who signs — the node's
// operator key (curation_vote, which needs a sign session) or the
// curator's own wallet (curation_typedData, eth_signTypedData_v4 on that
// exact document, then curation_submitVote). The account that will sign is
// shown before anything is signed.

import {h, field, say} from './dom.js';
import * as rpc from './rpc.js';
import * as wallet from './wallet.js';

const same = (a, b) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

// voteForm returns the form voting on contribution, a contribution of
// Datanet d (for its curators); onVoted gets the curation result.
export function voteForm(contribution, d, onVoted) {
  const weight = (addr) => (d.curators || []).find(c => same(c.address, addr))?.weight || 0;
  const name = 'vote-' + contribution.slice(-8);
  const approve = h('input', {type: 'radio', name: name + '-decision', value: 'approve', checked: true});
  const reject = h('input', {type: 'radio', name: name + '-decision', value: 'reject'});
  const reason = h('input', {type: 'text', maxlength: 512, placeholder: 'why', class: 'reason'});
  const byNode = h('input', {type: 'radio', name: name + '-signer', value: 'node'});
  const byWallet = h('input', {type: 'radio', name: name + '-signer', value: 'wallet'});
  const nodeLabel = h('span');
  const walletLabel = h('span');
  const signer = h('p', {class: 'signer', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit'}, 'Sign and submit vote');
  const connect = h('button', {type: 'button', class: 'small connect', onclick: async () => {
    try { await wallet.connect(); } catch (e) { say('wallet: ' + e.message, true); }
  }}, 'Connect wallet');

  const update = () => {
    const s = rpc.current();
    const op = s.account;
    const nodeOK = rpc.can('sign') && weight(op) > 0;
    byNode.disabled = !nodeOK;
    nodeLabel.textContent = `this node's key, ${op}` + (!rpc.can('sign') ? ' (log in with a sign token)' : weight(op) ? '' : ' (not a curator)');
    const w = wallet.connected();
    const walletOK = !!w && rpc.can('write') && weight(w) > 0;
    byWallet.disabled = !walletOK;
    walletLabel.textContent = w ? `my wallet, ${w}` + (!rpc.can('write') ? ' (log in with a write token to submit)' : weight(w) ? '' : ' (not a curator)')
      : (wallet.available() ? 'my wallet (not connected)' : 'my wallet (no EIP-1193 wallet in this browser)');
    connect.hidden = !wallet.available() || !!w;
    if (byNode.disabled && byNode.checked) byNode.checked = false;
    if (byWallet.disabled && byWallet.checked) byWallet.checked = false;
    if (!byNode.checked && !byWallet.checked) {
      if (walletOK) byWallet.checked = true;
      else if (nodeOK) byNode.checked = true;
    }
    const who = byNode.checked ? op : byWallet.checked ? w : '';
    signer.textContent = who ? `This vote will be signed by ${who} (${byNode.checked ? "the node's operator key" : 'your wallet'}), weight ${weight(who)}.`
      : 'No account here can sign a vote on this Datanet: log in with a token, or connect a curator\'s wallet.';
    signer.dataset.account = who || '';
    submit.disabled = !who;
  };
  byNode.addEventListener('change', update);
  byWallet.addEventListener('change', update);
  // Follow logins and wallets while the form is on the page.
  const follow = () => {
    if (form.isConnected) return update();
    document.removeEventListener('session', follow);
    document.removeEventListener('wallet', follow);
  };
  document.addEventListener('session', follow);
  document.addEventListener('wallet', follow);

  const form = h('form', {class: 'vote', onsubmit: async (e) => {
    e.preventDefault();
    const args = {contribution, decision: approve.checked ? 'approve' : 'reject', reason: reason.value};
    submit.disabled = true;
    try {
      let res;
      if (byNode.checked) {
        res = await rpc.call('curation_vote', args);
      } else {
        args.curator = wallet.connected();
        const doc = await rpc.callRaw('curation_typedData', JSON.stringify([args]));
        await wallet.ensureChain(JSON.parse(doc).domain.chainId);
        const sig = await wallet.signTypedData(doc);
        res = JSON.parse(await rpc.callRaw('curation_submitVote',
          `[{"typed_data":${doc},"signature":${JSON.stringify(sig)}}]`));
      }
      say(`Vote recorded (${args.decision}); the contribution is ${res.tally.status}.`);
      reason.value = '';
      onVoted?.(res);
    } catch (err) {
      say('Vote failed: ' + err.message, true);
    } finally {
      update();
    }
  }},
  h('fieldset', {},
    h('legend', {}, 'Decision'),
    h('label', {}, approve, ' Approve'),
    h('label', {}, reject, ' Reject')),
  field('Reason', reason),
  h('fieldset', {},
    h('legend', {}, 'Sign with'),
    h('label', {}, byNode, ' ', nodeLabel),
    h('label', {}, byWallet, ' ', walletLabel),
    connect),
  signer,
  submit);
  update();
  return form;
}
