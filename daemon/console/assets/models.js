// Models and attribution: the models held here, attributing an output
// (its spans highlighted with the contributions and weights credited), and
// a record with its proofs.

import {h, field, replace, say, short, time, table, cidOf} from './dom.js';
import * as rpc from './rpc.js';

const scale = 1e18; // weights are parts of 10^18

function pct(parts) {
  return (Number(parts) * 100 / scale).toFixed(2) + ' %';
}

// highlight renders output with the record's spans (byte offsets into its
// UTF-8) as marks naming the contribution and contributor credited.
export function highlight(output, spans, colour) {
  const bytes = new TextEncoder().encode(output);
  const dec = new TextDecoder();
  const sorted = spans.map((s, i) => ({...s, i})).sort((a, b) => a.start - b.start);
  const out = h('p', {class: 'attributed'});
  let at = 0;
  for (const s of sorted) {
    if (s.start < at) continue; // overlapping spans keep the first
    if (s.start > at) out.append(dec.decode(bytes.slice(at, s.start)));
    const contribution = cidOf(s.contribution);
    out.append(h('mark', {
      class: 'c' + colour(s.contributor),
      dataset: {contributor: s.contributor, contribution, span: s.i},
      title: `contribution ${contribution}, contributor ${s.contributor}, ${s.count} occurrence(s) in the data`,
    }, dec.decode(bytes.slice(s.start, s.end))));
    at = s.end;
  }
  if (at < bytes.length) out.append(dec.decode(bytes.slice(at)));
  return out;
}

function recordView(view, output) {
  const r = view.record;
  const palette = new Map();
  const colour = (a) => {
    if (!palette.has(a)) palette.set(a, palette.size % 6);
    return palette.get(a);
  };
  const spans = r.spans || [];
  const text = output ?? '';
  return h('div', {class: 'record', dataset: {cid: view.cid}},
    h('h2', {}, 'Record ', h('code', {}, short(view.cid))),
    h('p', {class: 'muted'}, h('code', {}, view.cid)),
    text ? highlight(text, spans, colour) : h('ol', {}, (view.texts || []).map(t => h('li', {}, h('mark', {}, t)))),
    table('Credited contributors', ['Contributor', 'Weight'], (r.weights || []).map(w => [
      h('span', {class: 'swatch c' + colour(w.address)}, h('code', {}, w.address)), pct(w.parts)])),
    table('Spans', ['Text', 'Contribution', 'Contributor', 'Bytes', 'Occurrences'], spans.map((s, i) => [
      (view.texts || [])[i] || '', h('a', {href: '#/contribution/' + encodeURIComponent(cidOf(s.contribution))}, short(cidOf(s.contribution))),
      h('code', {}, short(s.contributor)), `${s.start}–${s.end}`, String(s.count)])),
    table('Payouts', ['Address', 'Role', 'Amount (wei)'], (r.payouts || []).map(p => [h('code', {}, p.address), p.role, String(p.amount)])),
    h('details', {}, h('summary', {}, 'The signed record and its proofs (JSON)'), h('pre', {}, JSON.stringify(r, null, 2))),
    verifyButton(view.cid));
}

// verifyButton recomputes the record on this node (attribution_verify,
// write): the same spans and weights, byte for byte, and valid proofs.
function verifyButton(cid) {
  const verdict = h('span', {class: 'verdict', 'aria-live': 'polite'});
  return h('p', {}, h('button', {type: 'button', class: 'verify', onclick: async () => {
    verdict.textContent = 'recomputing…';
    try {
      const v = await rpc.call('attribution_verify', cid);
      verdict.dataset.ok = v.ok;
      verdict.textContent = v.ok ? `recomputed here, identical: ${v.checked}` : `FAILED: ${v.problem}`;
    } catch (err) {
      verdict.dataset.ok = false;
      verdict.textContent = 'verify failed: ' + err.message;
    }
  }}, 'Recompute and verify here'), ' ', verdict);
}

export function modelsPage() {
  const models = h('div', {id: 'models'});
  const model = h('select', {required: true});
  const output = h('textarea', {rows: 6, required: true});
  const tokensIn = h('input', {type: 'number', min: 0, value: 0});
  const result = h('div', {id: 'attribution'});
  const recordID = h('input', {type: 'text', required: true, size: 60});

  const load = async () => {
    const ms = await rpc.call('model_list');
    replace(models, ms.length ? table(null, ['Model', 'Base', 'Owner', 'Snapshots', 'Records', 'Registered'], ms.map(m => [
      h('span', {title: m.cid}, m.name), m.base || '', h('code', {}, short(m.owner)),
      m.snapshots.map(s => h('div', {}, h('code', {}, short(s.snapshot)), s.indexed ? ' indexed' : ' not indexed')),
      String(m.records), time(m.created)])) : h('p', {class: 'muted'}, 'No model registered here.'));
    const keep = model.value;
    replace(model, ms.map(m => h('option', {value: m.cid}, `${m.name} (${short(m.cid)})`)));
    if (keep) model.value = keep;
  };

  const el = h('section', {},
    h('h1', {}, 'Models and attribution'),
    models,
    h('form', {class: 'card', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const view = await rpc.call('attribution_attribute', {model: model.value, output: output.value, tokens_in: Number(tokensIn.value)});
        replace(result, recordView(view, output.value));
        say(`Attributed: ${(view.record.spans || []).length} spans, record ${view.cid}.`);
      } catch (err) {
        say('Attribution failed: ' + err.message, true);
      }
    }},
    h('h2', {}, 'Attribute an output'),
    h('p', {class: 'muted'}, 'Finds the spans of the output that occur verbatim in the model\'s snapshots and signs a record (sign login).'),
    field('Model', model), field('Model output', output), field('Prompt tokens', tokensIn),
    h('button', {type: 'submit'}, 'Attribute')),
    h('form', {class: 'card', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const view = await rpc.call('attribution_get', recordID.value.trim());
        replace(result, recordView(view));
      } catch (err) {
        say('Record: ' + err.message, true);
      }
    }}, h('h2', {}, 'Look up a record'), field('Record CID', recordID), h('button', {type: 'submit'}, 'Show record')),
    result);
  return {el, refresh: (evs) => {
    if (evs && !evs.some(e => ['model', 'reconnected', 'lagged'].includes(e.kind))) return;
    return load();
  }};
}
