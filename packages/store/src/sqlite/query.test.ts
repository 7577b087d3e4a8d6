import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { validateEvent } from '@stele/log';
import { initStore, openStore } from '../dataDir.js';
import type { QueryFilter } from '../driver.js';
import { recordMatcher } from '../filter.js';
import { indexRowOf } from '../indexRow.js';
import { parseRecord } from '../log.js';
import { tokenize } from '../text.js';

const root = mkdtempSync(join(tmpdir(), 'stele-query-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Characters where tokenizers, lower-casing and JSON escaping part ways.
const tricky = ['a', 'B', 'z', '0', ' ', '.', '-', '@', '/', '"', '\\', '\n', '\t', '\u0001', 'é', 'E\u0301', 'ß', 'Σ', 'ς', 'İ', '\u212a', 'ǅ', '\u00a0', '\ue000', '😀', '中', '٣', '\u0307', '\ufeff'];
const text = fc.string({ unit: fc.oneof(fc.constantFrom(...tricky), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })), minLength: 1, maxLength: 16 });
const event = fc.record(
  {
    source: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/),
    action: fc.stringMatching(/^[a-z0-9_-]{1,5}(\.[a-z0-9_-]{1,5}){0,2}$/),
    actor: fc.record({ id: text, email: fc.constantFrom('alice@example.com', 'Bob@Example.com', 'zoë@exämple.org') }, { requiredKeys: ['id'] }),
    target: fc.record({ type: fc.constant('file'), id: text, name: text }, { requiredKeys: ['type', 'id'] }),
    outcome: fc.constantFrom('success', 'failure', 'unknown'),
    reason: text,
    details: fc.record({ note: text, list: fc.array(text, { maxLength: 2 }) }),
  },
  { requiredKeys: ['source', 'action', 'actor', 'outcome'] },
);

let stores = 0;

describe('queries of the SQLite driver', () => {
  test('never miss a match of any filter built from an event (tricky Unicode, quotes, controls)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(20), fc.nat(), async (raw, pick, cut, from) => {
        const events = raw.map((e, i) => ({ ...e, id: `q-${i}`, time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() })).filter((e) => validateEvent(e).ok);
        if (events.length === 0) return;
        const dir = join(root, `store-${stores++}`);
        await initStore(dir, 'example.com/query');
        const store = await openStore(dir);
        try {
          // Commits of a few sizes, so that units start where commits do.
          for (let i = 0; i < events.length; i += 7) await store.log.append(events.slice(i, i + 7));
          const index = pick % events.length;
          const record = parseRecord((await store.log.driver.readEntries(index, index + 1))[0]!.bytes);
          const tokens = tokenize(indexRowOf(record).text);
          const at = tokens.length > 0 ? from % tokens.length : 0;
          const filters: QueryFilter[] = [
            { actor: record.actor.id!, limit: 100 },
            { source: record.source, outcome: record.outcome, action: record.action, limit: 100 },
            { action: `${record.action.slice(0, cut)}*`, limit: 100 },
            ...(record.actor.email ? [{ actor: record.actor.email, limit: 100 }] : []),
            ...(record.target ? [{ target: record.target.id!, limit: 100 }] : []),
            ...(record.target?.name ? [{ target: record.target.name, limit: 100 }] : []),
            ...(tokens.length > 0 ? [{ text: tokens.slice(at, at + 2).join('-'), limit: 100 }] : []),
            ...(tokens.length > 0 ? [{ text: tokens[at]!.toUpperCase(), actor: record.actor.id!, since: Date.parse(record.time), limit: 100 }] : []),
          ];
          for (const filter of filters) {
            // The log service's exact check decides what a match is; the driver's candidates must hold it.
            if (!recordMatcher(filter)(record)) continue;
            const found = (await store.log.query(filter)).map((e) => e.index);
            expect(found, JSON.stringify(filter)).toContain(index);
          }
        } finally {
          await store.log.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
