/**
 * The pieces every source shares: ticket references, e-mails inside
 * identifiers, ids, text fitting, and making any event fit one log entry.
 */
import { describe, expect, test } from 'vitest';
import { canonicalBytes, validateEvent } from '@stele/log';
import { actorOf, capValue, clean, DEFAULT_TICKET_PATTERNS, emailIn, EVENT_BUDGET, fitEvent, fitPush, idPart, ticketMatchers, ticketsIn, type SourceEvent } from './normalize.js';

const tickets = ticketMatchers(DEFAULT_TICKET_PATTERNS);

describe('ticketsIn', () => {
  test('Jira-style keys, upper-cased, in order, each once; not inside longer words', () => {
    expect(ticketsIn(['fix INC-42 and OPS2-7, again INC-42', undefined, 3, 'see [CHG-9]'], tickets)).toEqual(['INC-42', 'OPS2-7', 'CHG-9']);
    expect(ticketsIn(['UTF-8 is no ticket? it is: UTF-8', 'x-1 lower', 'ABC-'], tickets)).toEqual(['UTF-8']);
    expect(ticketsIn(['PREFIXINC-42'], tickets)).toEqual(['PREFIXINC-42']);
  });

  test('configured patterns add their own shapes; at most 32', () => {
    const custom = ticketMatchers([...DEFAULT_TICKET_PATTERNS, '#\\d{3,}']);
    expect(ticketsIn(['PR #1234 for INC-1'], custom)).toEqual(['INC-1', '#1234']);
    expect(ticketsIn([Array.from({ length: 40 }, (_, i) => `TK-${i}`).join(' ')], tickets)).toHaveLength(32);
  });
});

describe('identities', () => {
  test('emailIn finds an e-mail as the identifier or its last part', () => {
    expect(emailIn('alice@example.com')).toBe('alice@example.com');
    expect(emailIn('oidc:alice@example.com')).toBe('alice@example.com');
    expect(emailIn('arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_1/carol@example.com')).toBe('carol@example.com');
    expect(emailIn('system:serviceaccount:prod:deployer')).toBeUndefined();
    expect(emailIn('alice@localhost')).toBeUndefined();
  });

  test('actorOf fits what a source says to the schema, or gives up without an id or an e-mail', () => {
    const actor = actorOf({ id: 'a\u0000b', groups: ['x', 7, '', 'y'], name: 'N'.repeat(300) })!;
    expect(actor).toEqual({ id: 'ab', groups: ['x', '7', 'y'], name: 'N'.repeat(256), verified: false });
    expect(validateEvent({ source: 's', action: 'a', actor }).ok).toBe(true);
    expect(actorOf({ name: 'nobody' })).toBeUndefined();
    expect(actorOf({ id: '\u0007' })).toBeUndefined();
  });

  test('clean removes control characters and lone surrogates, and cuts by code points', () => {
    expect(clean('a\u0001b\ud800c', 10)).toBe('ab\ufffdc');
    expect(clean('😀😀😀', 2)).toBe('😀😀');
    expect(clean({}, 5)).toBeUndefined();
  });
});

describe('ids and sizes', () => {
  test('idPart keeps id-safe text and hashes the rest', () => {
    expect(idPart('7e2d3c1a-5f7b-4c8e-9a0d-1b2c3d4e5f60')).toBe('7e2d3c1a-5f7b-4c8e-9a0d-1b2c3d4e5f60');
    expect(idPart('a/b')).toMatch(/^[0-9a-f]{40}$/);
    expect(idPart('x'.repeat(81))).toMatch(/^[0-9a-f]{40}$/);
  });

  test('capValue keeps small values and digests large ones', () => {
    expect(capValue({ a: 1 }, 100)).toEqual({ a: 1 });
    expect(capValue({ a: 'x'.repeat(200) }, 100)).toMatchObject({ omitted: true, bytes: canonicalBytes({ a: 'x'.repeat(200) }).length });
  });

  test('fitEvent makes any event fit the validation budget, naming what it replaced', () => {
    const event: SourceEvent = {
      source: 'kubernetes',
      action: 'k8s.create',
      actor: { id: 'alice', verified: false },
      reason: 'r'.repeat(4096),
      details: { privileged: true, tickets: ['INC-1'], small: 'kept', kubernetes: { annotations: { a: 'x'.repeat(40_000), b: 'y'.repeat(40_000) }, ok: 1 }, blob: ['z'.repeat(30_000)] },
    };
    const fitted = fitEvent(event);
    expect(canonicalBytes(fitted).length).toBeLessThanOrEqual(EVENT_BUDGET);
    expect(validateEvent(fitted).ok).toBe(true);
    expect(fitted.details).toMatchObject({ privileged: true, tickets: ['INC-1'], small: 'kept' });
    expect((fitted.details.truncated as string[]).length).toBeGreaterThan(0);
    const small = { ...event, reason: 'r', details: { a: 1 } };
    expect(fitEvent(small)).toBe(small);
  });

  test('fitPush lists fewer commits rather than dropping them all', () => {
    const commits = Array.from({ length: 100 }, (_, i) => ({ id: i.toString(16).padStart(40, '0'), message: 'm'.repeat(1000) }));
    const event: SourceEvent = { source: 'github', action: 'vc.push', actor: { id: 'a', verified: false }, details: { git: { commits, commitCount: 100 } } };
    const fitted = fitPush(event);
    const git = fitted.details.git as { commits: unknown[]; commitsOmitted: number };
    expect(canonicalBytes(fitted).length).toBeLessThanOrEqual(EVENT_BUDGET);
    expect(git.commits.length).toBeGreaterThan(40);
    expect(git.commits.length + git.commitsOmitted).toBe(100);
  });
});
