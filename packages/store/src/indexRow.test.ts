import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseTime, type EventRecord } from '@stele/log';
import { indexRowOf } from './indexRow.js';

/** The free text as first written: parts collected in an array and joined. */
function referenceText(record: EventRecord): string {
  const parts: unknown[] = [record.action];
  const push = (value: unknown) => {
    if (value) parts.push(value);
  };
  push(record.actor.name);
  push(record.actor.email);
  push(record.actor.id);
  push(record.target?.id);
  push(record.target?.name);
  push(record.reason);
  push(record.host);
  const collect = (value: unknown, depth: number): void => {
    if (depth > 4) return;
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) for (const v of value) collect(v, depth + 1);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v, depth + 1);
  };
  if (record.details) collect(record.details, 0);
  const text = parts.join(' ');
  return text.length > 4096 ? text.slice(0, 4096) : text;
}

function outcome(run: () => string): { text: string } | { threw: string } {
  try {
    return { text: run() };
  } catch (err) {
    return { threw: String(err) };
  }
}

const base = {
  v: 1,
  id: 'x',
  index: 0,
  time: '2026-01-01T00:00:00.000Z',
  received: '2026-01-01T00:00:01.000Z',
  source: 'emacs',
  action: 'file.save',
  actor: { id: 'alice', email: 'alice@example.com', name: 'Alice', verified: false },
  target: { type: 'file', id: '/a/b.el', name: 'b.el' },
  outcome: 'success',
} as unknown as EventRecord;

describe('indexRowOf', () => {
  test('derives the row of a record', () => {
    const row = indexRowOf({ ...base, reason: 'why', details: { a: ['x', { b: 'y' }], n: 1 } } as EventRecord);
    expect(row).toEqual({
      time: parseTime(base.time),
      received: parseTime(base.received),
      source: 'emacs',
      action: 'file.save',
      actorId: 'alice',
      actorEmail: 'alice@example.com',
      targetType: 'file',
      targetId: '/a/b.el',
      targetName: 'b.el',
      outcome: 'success',
      text: 'file.save Alice alice@example.com alice /a/b.el b.el why x y',
    });
  });

  // Verification derives rows from records that merely parsed: any JSON may sit anywhere.
  test('writes the free text of any parsed record as the array join did', () => {
    const any = fc.jsonValue({ maxDepth: 6 });
    fc.assert(
      fc.property(
        fc.record({ action: any, name: any, email: any, id: any, target: any, reason: any, host: any, details: any }),
        (r) => {
          const record = {
            ...base,
            action: r.action,
            actor: { name: r.name, email: r.email, id: r.id },
            target: r.target,
            reason: r.reason,
            host: r.host,
            details: r.details,
          } as unknown as EventRecord;
          // An object whose "toString" member is not a function cannot be written: both throw.
          expect(outcome(() => indexRowOf(record).text)).toEqual(outcome(() => referenceText(record)));
        },
      ),
    );
  });

  test('parses the received time of each record, however they alternate', () => {
    const times = ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2025-06-30T12:00:00+02:00'];
    for (const received of [...times, ...times.reverse(), times[0]!, times[0]!]) {
      expect(indexRowOf({ ...base, received } as EventRecord).received).toBe(parseTime(received));
    }
    expect(() => indexRowOf({ ...base, received: 'yesterday' } as EventRecord)).toThrow();
    expect(indexRowOf(base).received).toBe(parseTime(base.received));
  });

  test('lists details members as Object.values does, whatever their prototype', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { b: 'x', a: 'y', 1: 'z' });
    class Details {
      own = 'own';
    }
    (Details.prototype as unknown as Record<string, unknown>).inherited = 'inherited';
    for (const details of [nullProto, new Details(), JSON.parse('{"__proto__":"p","q":["r"]}')]) {
      const record = { ...base, details } as unknown as EventRecord;
      expect(indexRowOf(record).text).toBe(referenceText(record));
    }
  });

  test('caps the free text at 4,096 characters', () => {
    const record = { ...base, reason: 'w '.repeat(5000) } as EventRecord;
    expect(indexRowOf(record).text).toBe(referenceText(record));
    expect(indexRowOf(record).text).toHaveLength(4096);
  });
});
