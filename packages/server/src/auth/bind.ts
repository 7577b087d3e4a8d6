import { canonicalize, EventValidationError, validateEvent, type Actor, type FieldError, type Submitter } from '@stele/log';
import type { Principal } from './guard.js';
import { submitterOf } from './identity.js';

/**
 * Keys of an event's `details` that the collector sets and clients may not:
 * `claimedActor` (the actor a client sent, when Stele wrote another),
 * `groupsOverage` (the IdP left the person's groups out) and `authorizedAs`
 * (an admin route's own event, such as `device.retire`: devices/action.ts).
 */
export const BOUND_DETAILS = ['claimedActor', 'groupsOverage', 'authorizedAs'] as const;

/**
 * The source of Stele's own events (token and device administration, gaps,
 * identity links, start and stop): the collector appends them itself, and
 * what reads them (the device table, the identity map, auditors) must be able
 * to trust that no client wrote one.
 */
export const RESERVED_SOURCE = 'stele';

/** The record's `submitter` for a principal. */
export function submitterFor(principal: Principal | undefined): Submitter {
  if (principal?.kind === 'token') return { type: 'token', id: principal.token.id, name: principal.token.name };
  if (principal?.kind === 'oidc') return submitterOf(principal.identity);
  return { type: 'anonymous', id: 'anonymous' };
}

/** `stele` and the names under it (`stele.audit`): a client's event may not pass for one of the collector's own. */
const isReservedSource = (source: unknown): boolean =>
  source === RESERVED_SOURCE || (typeof source === 'string' && source.startsWith(`${RESERVED_SOURCE}.`));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Binds each event's actor to what the credential proves (docs/IDENTITY.md):
 *
 * - a person's OIDC token: the actor becomes the token's identity, verified,
 *   with the issuer as `idp`; what the client sent, when it differs, moves to
 *   `details.claimedActor`, and an IdP's groups overage sets `details.groupsOverage`;
 * - an API token, a service's OIDC token, no authentication: the actor stays
 *   the payload's, but never `verified` (Stele did not check it); a client's
 *   `verified: true` is kept only as a claim, in `details.claimedActor`.
 *
 * The events are hostile input: only an event whose actor and details are
 * well-formed is rewritten; any other is passed on unchanged for the store to
 * reject with its own per-field errors (so a person's event can never be
 * stored with the client's actor). The inputs are not modified.
 *
 * @throws EventValidationError when a client sets a collector-owned details key
 */
export function bindEvents(events: readonly unknown[], principal: Principal | undefined): unknown[] {
  const person = principal?.kind === 'oidc' && principal.identity.kind === 'person' ? principal.identity : undefined;
  const errors: Array<FieldError & { event: number }> = [];
  const out = events.map((raw, i) => {
    if (!isObject(raw)) return raw;
    if (isReservedSource(raw.source)) {
      errors.push({ event: i, field: 'source', code: 'reserved', message: `is reserved for the collector's own events (${RESERVED_SOURCE} and ${RESERVED_SOURCE}.*)` });
    }
    const details = raw.details;
    if (isObject(details)) {
      for (const key of BOUND_DETAILS) {
        if (key in details) errors.push({ event: i, field: `details.${key}`, code: 'store_field', message: 'is set by the collector, not the client' });
      }
    } else if (details !== undefined) {
      return raw;
    }
    const sent = raw.actor;
    // Service callers: nothing to do unless the client claims verification (the cheap, common path).
    if (!person && !(isObject(sent) && sent.verified === true)) return raw;
    const checked = validateEvent({ source: 'stele', action: 'bind', actor: sent });
    if (!checked.ok) return raw;
    const claimed = checked.event.actor;
    const bound: Actor = person ? person.actor : { ...claimed, verified: false };
    const extra: Record<string, unknown> = {};
    if (canonicalize(claimed) !== canonicalize(bound)) extra.claimedActor = claimed;
    if (person?.groupsOverage) extra.groupsOverage = true;
    const event: Record<string, unknown> = { ...raw, actor: bound };
    if (Object.keys(extra).length > 0) event.details = { ...(details as Record<string, unknown> | undefined), ...extra };
    return event;
  });
  if (errors.length > 0) throw new EventValidationError(errors);
  return out;
}

/**
 * The event as its device sent it, recovered from a stored record: the
 * store's fields removed, the claimed actor put back, the collector's details
 * keys removed, and an empty `details` left out. The device chain (`prev`)
 * hashes this form, which the device computed before Stele bound its actor.
 */
export function sentForm(record: Record<string, unknown>): Record<string, unknown> {
  const { v: _v, received: _received, index: _index, submitter: _submitter, ...event } = record;
  if (isObject(event.details)) {
    const details = { ...event.details };
    if (isObject(details.claimedActor)) event.actor = details.claimedActor;
    for (const key of BOUND_DETAILS) delete details[key];
    if (Object.keys(details).length === 0) delete event.details;
    else event.details = details;
  }
  return event;
}
