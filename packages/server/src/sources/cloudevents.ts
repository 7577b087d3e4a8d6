import { actorOf, capValue, clean, cleanReason, fitEvent, objectOf, PayloadError, stableId, stringOf, ticketsIn, type PayloadProblem, type SourceEvent } from './normalize.js';

/**
 * CloudEvents 1.0 in structured JSON mode: one event
 * (`application/cloudevents+json`) or a batch
 * (`application/cloudevents-batch+json`). The CloudEvent's `source` + `id`
 * identify it (the spec says a consumer may treat equal pairs as
 * duplicates), so that pair is the Stele id.
 */

/** Options of {@link cloudEvents}. */
export interface CloudEventsOptions {
  /** `data` larger than this (canonical JSON bytes) is replaced by its SHA-256. */
  maxObjectBytes: number;
  tickets: readonly RegExp[];
}

/** The context attributes the spec defines; any other top-level member is an extension. */
const CONTEXT = new Set(['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema', 'data', 'data_base64']);
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const OUTCOMES = new Set(['success', 'failure', 'unknown']);
const ACTION = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** A CloudEvents `type` as a Stele action: lower-cased, other characters as `-`; undefined if nothing is left. */
export function actionOfType(type: string): string | undefined {
  const action = type
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .split('.')
    .filter((part) => part !== '')
    .join('.')
    .slice(0, 128)
    .replace(/\.$/, '');
  return ACTION.test(action) ? action : undefined;
}

/**
 * Maps structured-mode CloudEvents onto Stele events: source `cloudevents`,
 * action from `type`, actor from the Auth Context extension (`authid`) or
 * else the producing `source`, target from `subject`.
 *
 * @param body - one CloudEvent object, or an array of them (batch mode)
 * @throws PayloadError when any of them lacks a required attribute or has a malformed one
 */
export function cloudEvents(body: unknown, batch: boolean, options: CloudEventsOptions): SourceEvent[] {
  const items = batch ? body : [body];
  if (!Array.isArray(items)) throw new PayloadError([{ item: -1, field: '', message: 'a batch is a JSON array of CloudEvents' }]);
  const problems: PayloadProblem[] = [];
  const events: SourceEvent[] = [];
  items.forEach((raw, item) => {
    const problem = (field: string, message: string) => problems.push({ item, field, message });
    const ce = objectOf(raw);
    if (!ce) return problem('', 'a CloudEvent must be a JSON object');
    if (ce.specversion !== '1.0') problem('specversion', 'must be "1.0"');
    const id = stringOf(ce.id);
    const source = stringOf(ce.source);
    const type = stringOf(ce.type);
    if (!id) problem('id', 'is required (a non-empty string)');
    if (!source) problem('source', 'is required (a non-empty URI-reference)');
    if (!type) problem('type', 'is required (a non-empty string)');
    const action = type ? actionOfType(type) : undefined;
    if (type && !action) problem('type', 'has no letters or digits to make an action of');
    if (ce.time !== undefined && typeof ce.time !== 'string') problem('time', 'must be an RFC 3339 timestamp');
    if (ce.subject !== undefined && !stringOf(ce.subject)) problem('subject', 'must be a non-empty string');
    if (ce.data !== undefined && ce.data_base64 !== undefined) problem('data_base64', 'cannot come with data');
    if (ce.data_base64 !== undefined && (typeof ce.data_base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(ce.data_base64))) problem('data_base64', 'must be base64');
    const extensions: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(ce)) {
      if (CONTEXT.has(name)) continue;
      if (!EXTENSION_NAME.test(name)) problem(name, 'is not a CloudEvents attribute name (lower-case letters and digits, at most 20)');
      else extensions[name] = capValue(value, 1024);
    }
    if (problems.some((p) => p.item === item)) return;
    const actor = actorOf({ id: typeof ce.authid === 'string' ? ce.authid : source }) ?? actorOf({ id: stableId('cloudevents', source!) });
    const subject = clean(ce.subject, 4096);
    const found = ticketsIn([subject, typeof ce.data === 'string' ? ce.data : undefined, ...Object.values(extensions)], options.tickets);
    const reason = typeof extensions.reason === 'string' ? cleanReason(extensions.reason) : undefined;
    events.push(
      fitEvent({
        id: stableId('ce', source!, id!),
        ...(typeof ce.time === 'string' && { time: ce.time }),
        source: 'cloudevents',
        action: action!,
        actor: actor!,
        ...(subject && { target: { type: 'subject', id: subject } }),
        outcome: typeof extensions.outcome === 'string' && OUTCOMES.has(extensions.outcome) ? extensions.outcome : 'unknown',
        ...(reason && { reason }),
        details: {
          ...(found.length > 0 && { tickets: found }),
          operation: type!,
          service: source!,
          requestId: id!,
          cloudevents: {
            specversion: '1.0',
            id: id!,
            source: source!,
            type: type!,
            ...(subject && { subject }),
            ...(typeof ce.datacontenttype === 'string' && { datacontenttype: ce.datacontenttype }),
            ...(typeof ce.dataschema === 'string' && { dataschema: ce.dataschema }),
            ...(Object.keys(extensions).length > 0 && { extensions }),
            ...(ce.data !== undefined && { data: capValue(ce.data, options.maxObjectBytes) }),
            ...(ce.data_base64 !== undefined && { data_base64: capValue(ce.data_base64, options.maxObjectBytes) }),
          },
        },
      }),
    );
  });
  if (problems.length > 0) throw new PayloadError(problems);
  return events;
}
