// A contribution's page: its tally against the quorum and threshold, who
// voted what and why (votes counted and ignored), its files and shards with
// previews, and the vote form.

import {h, replace, short, bytes, time, badge, table} from './dom.js';
import * as rpc from './rpc.js';
import {preview, readHead, contentURL} from './preview.js';
import {voteForm} from './vote.js';

const previewed = 4;
const previewBytes = 16 << 10;

function meter(label, value, max) {
  return h('p', {}, `${label}: ${value} of ${max} `,
    h('meter', {min: 0, max: Math.max(1, max), value, 'aria-label': label}));
}

function voteRows(votes) {
  return votes.map(v => [h('code', {}, v.curator), badge(v.decision), v.reason || '—', String(v.seq), time(v.created)]);
}

export function contributionPage(c) {
  const tally = h('div', {id: 'tally'});
  const votes = h('div', {id: 'votes'});
  const files = h('div', {id: 'files'});
  const vote = h('div');
  let datanet = '';

  const loadTally = async () => {
    const t = await rpc.call('curation_show', c);
    const approvePct = t.cast ? (t.approve * 100 / t.cast).toFixed(2) : '0.00';
    replace(tally,
      h('p', {}, 'Status ', h('span', {class: 'status', dataset: {status: t.status}}, badge(t.status)),
        ' in Datanet ', h('a', {href: '#/datanet/' + encodeURIComponent(t.datanet)}, short(t.datanet))),
      meter('Weight cast against the quorum', t.cast, t.quorum),
      h('p', {}, `Approving share ${approvePct} % against the threshold ${(t.threshold_bps / 100).toFixed(2)} % ` +
        `(approve ${t.approve}, reject ${t.reject}, curators' total weight ${t.total_weight})`),
      h('p', {class: 'muted'}, `Created ${time(t.created)}` + (t.window_ends ? ` · voting closes ${time(t.window_ends)}` : ' · no voting deadline')));
    replace(votes,
      table('Votes counted', ['Curator', 'Decision', 'Reason', 'Seq', 'Signed'], voteRows(t.counted)),
      t.ignored.length ? table('Votes ignored', ['Curator', 'Decision', 'Reason', 'Seq', 'Signed', 'Ignored because'],
        t.ignored.map(i => [...voteRows([i.vote])[0], i.reason])) : null);
    if (t.datanet !== datanet) {
      datanet = t.datanet;
      const d = (await rpc.call('datanet_show', datanet, {limit: 1})).datanet;
      replace(vote, h('h2', {}, 'Vote'), voteForm(c, d, loadTally));
    }
  };
  const loadFiles = async () => {
    const ls = await rpc.call('content_ls', c, {limit: 100});
    const list = ls.files || [];
    replace(files,
      h('p', {class: 'muted'}, `${list.length} files · ${bytes(ls.size)}` + (ls.next ? ' (first page)' : '')),
      table(null, ['File', 'Size', 'Shards', 'Raw'], list.map(f => [
        f.path, bytes(f.size),
        h('details', {}, h('summary', {}, String(f.shards.length)),
          h('ol', {start: 0}, f.shards.slice(0, 100).map(s => h('li', {}, h('code', {}, s)))),
          f.shards.length > 100 ? h('p', {class: 'muted'}, `and ${f.shards.length - 100} more`) : null),
        // Contributed files open as sandboxed documents of their own
        // origin (Content-Security-Policy: sandbox): no script, no session.
        h('a', {href: contentURL(c, f.path), target: '_blank', rel: 'noopener noreferrer', class: 'raw'}, 'open')])),
      list.slice(0, previewed).map(f => {
        const kind = f.path.includes('.') ? f.path.split('.').pop().toLowerCase() : '';
        const fig = h('figure', {}, h('figcaption', {}, f.path));
        const file = {path: f.path, kind, size: f.size, local: true};
        fig.append(preview(c, file, ''));
        if (!/^(png|jpe?g|gif|webp|svg|bmp|avif)$/.test(kind) && f.size > 0) {
          readHead(c, f.path, previewBytes)
            .then(text => fig.replaceChildren(fig.firstChild, preview(c, file, text)))
            .catch(err => fig.append(h('p', {class: 'error'}, err.message)));
        }
        return fig;
      }));
  };

  const el = h('section', {},
    h('h1', {}, 'Contribution ', h('code', {title: c}, short(c))),
    h('p', {class: 'muted'}, h('code', {}, c)),
    tally, vote,
    h('h2', {}, 'Votes'), votes,
    h('h2', {}, 'Files'), files);
  return {el, refresh: async (evs) => {
    if (!evs) return Promise.all([loadTally(), loadFiles()]);
    if (evs.some(e => e.contribution === c || ['datanet', 'session', 'reconnected', 'lagged'].includes(e.kind))) {
      return loadTally();
    }
  }};
}
