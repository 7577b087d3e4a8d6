/** An event's page: who, what, when, why, the raw record, and the Verified mark the browser earns. */
import { sha256 } from '@noble/hashes/sha2.js';
import { fetchConsistency, fetchEvent, fetchVerifierKey } from './api.js';
import { h } from './dom.js';
import { actorOf, targetOf } from './searchView.js';
import { PIN_KEY, verifyEvent, type Verdict } from './verify.js';

const EXPLAIN: Record<string, string> = {
  ERR_KEY_CHANGED: 'The server presents a different verifier key from the one this browser pinned. Someone may be impersonating the log.',
  ERR_SIGNATURE: 'The checkpoint is not signed by the pinned verifier key.',
  ERR_CHECKPOINT: 'The checkpoint is malformed or does not match the proof.',
  ERR_LEAF: 'The record shown is not the entry the log holds.',
  ERR_INCLUSION: 'The inclusion proof does not lead to the signed root: the record is not proven to be in the log.',
  ERR_CONSISTENCY: 'The log does not extend the one this browser saw before: its history was rewritten or forked.',
};

function mark(verdict: Verdict): HTMLElement {
  if (verdict.ok) {
    return h(
      'div.mark.verified',
      { 'data-verdict': 'verified', title: `checkpoint size ${verdict.size}, root ${verdict.root}` },
      h('strong', {}, '✔ Verified'),
      ` in the log of size ${verdict.size}, signed by the pinned key${verdict.pinnedNow ? ' (pinned now, on first use)' : ''}.`,
    );
  }
  const el = h(
    'div.mark.failed',
    { 'data-verdict': 'failed', 'data-code': verdict.code, role: 'alert' },
    h('strong', {}, '✘ NOT VERIFIED'),
    ` ${EXPLAIN[verdict.code] ?? ''} `,
    h('code', {}, verdict.code),
    h('div.detail', {}, verdict.message),
  );
  if (verdict.code === 'ERR_KEY_CHANGED') {
    const repin = h('button', { type: 'button' }, 'Trust the new key');
    repin.addEventListener('click', () => {
      if (confirm('Only trust the new key if the log operator announced a key change. Trust it?')) {
        localStorage.removeItem(PIN_KEY);
        location.reload();
      }
    });
    el.append(repin);
  }
  return el;
}

const field = (label: string, ...value: (Node | string | null | undefined)[]) => [h('dt', {}, label), h('dd', {}, ...value)];

/** Renders the event `id` into `root`. */
export async function renderEvent(root: HTMLElement, id: string): Promise<void> {
  root.replaceChildren(h('p.status', {}, 'Loading…'));
  const answer = await fetchEvent(id);
  const e = answer.event;
  const markSlot = h('div.mark.pending', { 'data-verdict': 'pending' }, 'Verifying…');
  const ticketOf = (e.details as { tickets?: unknown } | undefined)?.tickets;
  root.replaceChildren(
    h('p.back', {}, h('a', { href: '#/' }, '← search')),
    h('h1', {}, e.action, ' ', h('span.muted', {}, 'by'), ' ', actorOf(e)),
    markSlot,
    h(
      'dl.facts',
      {},
      ...field('who', actorOf(e), e.actor.verified ? ` (verified by ${e.actor.idp ?? 'the identity provider'})` : ' (claimed, not verified)'),
      ...field('what', e.action, targetOf(e) ? ` on ${targetOf(e)}` : ''),
      ...field('when', e.time, e.received !== e.time ? ` (received ${e.received})` : ''),
      ...field('why', e.reason ?? h('span.muted', {}, 'no reason given')),
      ...field('outcome', e.outcome),
      ...field('source', e.source, e.host ? ` on ${e.host}` : ''),
      ...field('device', e.device ? `${e.device.id} #${e.device.seq}` : h('span.muted', {}, '—')),
      ...field('submitted by', e.submitter ? `${e.submitter.type} ${e.submitter.name ?? e.submitter.id}` : '—'),
      ...field('index', String(answer.index), ` of ${answer.size}`),
      ...(Array.isArray(ticketOf) ? field('tickets', ticketOf.join(', ')) : []),
    ),
    h('h2', {}, 'Raw record'),
    h('pre.raw', {}, JSON.stringify(e, null, 2)),
    h('h2', {}, 'Checkpoint'),
    h('pre.raw', {}, answer.checkpoint),
  );
  const verdict = await verifyEvent(answer, { sha256, pins: localStorage, servedKey: fetchVerifierKey, consistency: fetchConsistency });
  markSlot.replaceWith(mark(verdict));
}
