/**
 * The offline evidence verifier (docs/EVIDENCE.md): one self-contained HTML
 * file (dist/verify-bundle.html, built by vite.verify.config.ts) that an
 * auditor opens from disk. It loads a bundle with a file input and checks it
 * with the log core's verifyEvidence (Ed25519 through WebCrypto, SHA-256 from
 * @noble/hashes) against a key the auditor pastes, or, with a loud warning,
 * the bundle's own key. It makes no request: its CSP forbids any.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createHasher, createVerifier, LogError, parseEvidence, verifyEvidence, type EvidenceResult } from '@stele/log';
import { h } from './dom.js';
import './verifyPage.css';

const hasher = createHasher(sha256);

const file = h('input', { type: 'file', id: 'bundle', accept: '.json,application/json', 'aria-label': 'Evidence bundle' }) as HTMLInputElement;
const key = h('input', { type: 'text', id: 'key', spellcheck: 'false', autocomplete: 'off', placeholder: 'example.com/audit+1a2b3c4d+AQ… (from a source you trust)', 'aria-label': 'Verifier key' }) as HTMLInputElement;
const button = h('button', { type: 'submit', id: 'verify' }, 'Verify');
const out = h('section', { id: 'result', 'aria-live': 'polite' });

const form = h(
  'form',
  {},
  h('label', {}, h('span', {}, 'Evidence bundle'), file),
  h('label', {}, h('span', {}, 'Verifier key'), key),
  button,
);
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void run();
});
file.addEventListener('change', () => void run());

document.body.append(
  h('h1', {}, 'Stele evidence verifier'),
  h('p.muted', {}, 'Checks a stele-evidence/1 bundle entirely in this browser: no server, no network. Paste the log\'s verifier key from a source you trust; without one the bundle is checked against its own key, which proves it intact but not who signed it.'),
  form,
  out,
);

async function run(): Promise<void> {
  const chosen = file.files?.[0];
  if (!chosen) return;
  out.replaceChildren(h('p.muted', {}, `Verifying ${chosen.name}…`));
  out.dataset.verdict = 'pending';
  let bundle: unknown;
  try {
    // Not JSON.parse alone: a key given twice reads as its first value and parses as its last.
    bundle = parseEvidence(await chosen.text());
  } catch (err) {
    if (err instanceof LogError) return fail(err.code, err.message);
    return fail('ERR_NOT_JSON', `${chosen.name} is not JSON: ${(err as Error).message}`);
  }
  const pasted = key.value.trim();
  try {
    const verifier = pasted ? await createVerifier(pasted) : undefined;
    const result = await verifyEvidence(bundle, { hasher, ...(verifier && { verifier }) });
    show(result, verifier === undefined);
  } catch (err) {
    if (err instanceof LogError) return fail(err.code, err.message);
    return fail('ERR_UNEXPECTED', (err as Error).message);
  }
}

function fail(code: string, message: string): void {
  out.dataset.verdict = 'failed';
  out.dataset.code = code;
  out.replaceChildren(h('p.mark.bad', { role: 'alert' }, `✗ NOT VERIFIED — ${code}: ${message}`));
}

function show(result: EvidenceResult, ownKey: boolean): void {
  const proven = result.events.filter((e) => e.ok).length;
  out.dataset.verdict = result.ok ? 'verified' : 'failed';
  delete out.dataset.code;
  const rows = result.events.map((e) =>
    h(
      `tr.${e.ok ? 'ok' : 'bad'}`,
      { 'data-index': String(e.index), 'data-ok': String(e.ok) },
      h('td', {}, String(e.index)),
      h('td', {}, e.id),
      h('td', {}, e.ok ? `✓ proven at size ${e.size}` : `✗ ${e.code}: ${e.message}`),
    ),
  );
  out.replaceChildren(
    h(
      `p.mark.${result.ok ? 'ok' : 'bad'}`,
      { role: result.ok ? 'status' : 'alert' },
      result.ok
        ? `✓ Verified: all ${proven} event${proven === 1 ? '' : 's'} proven in ${result.origin} at size ${result.sizes.join(' → ')}`
        : `✗ NOT VERIFIED: ${result.events.length - proven} of ${result.events.length} events not proven`,
    ),
    ownKey
      ? h('p.warning', { role: 'alert' }, `⚠ Checked against the key inside the bundle (${result.verifierKey}). This proves the bundle is intact, not who made it: paste the log's verifier key from a source you trust.`)
      : h('p.muted', {}, `Against the pasted key ${result.verifierKey}.`),
    h('p.muted', {}, `Root at size ${result.sizes[result.sizes.length - 1]}: ${result.root}`),
    h('table.events', {}, h('thead', {}, h('tr', {}, h('th', {}, 'index'), h('th', {}, 'id'), h('th', {}, 'result'))), h('tbody', {}, ...rows)),
  );
}
