import {
  actorOf, capValue, clean, digestOf, fitEvent, idPart, objectOf, PayloadError, stringOf, ticketsIn,
  type PayloadProblem, type SourceEvent,
} from './normalize.js';

/**
 * The Kubernetes API server's audit webhook (`--audit-webhook-config-file`):
 * an `audit.k8s.io/v1` `EventList`, one Stele event per audit event and
 * stage. The body is hostile until each field's type was checked here; the
 * bearer token only says which service sent it.
 */

/** Options of {@link kubernetesEvents}. */
export interface KubernetesOptions {
  /** Request and response objects larger than this (canonical JSON bytes) are replaced by their SHA-256. */
  maxObjectBytes: number;
  /** The cluster's name (`?cluster=` on the webhook URL): part of every id and the events' `host`. */
  cluster?: string;
  /** Ticket patterns (normalize.ts ticketMatchers). */
  tickets: readonly RegExp[];
}

const STAGES = new Set(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']);
const LEVELS = new Set(['None', 'Metadata', 'Request', 'RequestResponse']);
const READ_VERBS = new Set(['get', 'list', 'watch']);
/** Subresources that run code in, or open a channel into, a container. */
const SHELL_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
const VERB = /^[a-z][a-z0-9_-]{0,62}$/;
const TYPE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
/** A cluster name as the `cluster` query parameter may give it. */
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9.-]{0,39}$/;

/** Why a request was privileged, or undefined: shells into pods, secrets, RBAC and impersonation, token requests. */
export function kubernetesPrivilege(verb: string, ref: { resource?: string; subresource?: string; apiGroup?: string } | undefined): string | undefined {
  if (verb === 'impersonate') return 'impersonation';
  if (verb === 'escalate' || verb === 'bind') return 'rbac';
  if (!ref) return undefined;
  if (ref.resource === 'pods' && ref.subresource !== undefined && SHELL_SUBRESOURCES.has(ref.subresource)) return ref.subresource;
  if (ref.resource === 'pods' && ref.subresource === 'ephemeralcontainers' && !READ_VERBS.has(verb)) return 'ephemeralcontainers';
  if (ref.resource === 'secrets' && !ref.apiGroup) return 'secrets';
  if (ref.apiGroup === 'rbac.authorization.k8s.io' && !READ_VERBS.has(verb)) return 'rbac';
  if (ref.resource === 'serviceaccounts' && ref.subresource === 'token' && verb === 'create') return 'token';
  return undefined;
}

/** The exec/attach command from a request URI's `command` parameters. */
function commandOf(requestURI: string): string[] | undefined {
  const query = requestURI.indexOf('?');
  if (query < 0) return undefined;
  const command = new URLSearchParams(requestURI.slice(query + 1)).getAll('command').map((c) => clean(c, 1024)).filter((c): c is string => c !== undefined);
  return command.length > 0 ? command.slice(0, 64) : undefined;
}

/** The object path a reference names: `[group/]namespaces/<ns>/<resource>/<name>[/<subresource>]`. */
function objectPath(ref: Record<string, string | undefined>): string {
  const parts: string[] = [];
  if (ref.apiGroup) parts.push(ref.apiGroup);
  if (ref.namespace) parts.push('namespaces', ref.namespace);
  if (ref.resource) parts.push(ref.resource);
  if (ref.name) parts.push(ref.name);
  if (ref.subresource) parts.push(ref.subresource);
  return parts.join('/');
}

/** The string members of an object, each fitted (a plain string map such as annotations). */
function stringMap(value: unknown, maxValue = 4096): Record<string, string> | undefined {
  const object = objectOf(value);
  if (!object) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(object).slice(0, 64)) {
    const text = typeof v === 'string' ? Array.from(v).slice(0, maxValue).join('') : undefined;
    if (text !== undefined) out[Array.from(key).slice(0, 256).join('')] = text;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A user info (`authentication.k8s.io/v1` UserInfo), fitted. */
function userInfo(value: Record<string, unknown>): Record<string, unknown> {
  const groups = Array.isArray(value.groups) ? value.groups.filter((g): g is string => typeof g === 'string').slice(0, 64) : undefined;
  return {
    ...(typeof value.username === 'string' && { username: value.username }),
    ...(typeof value.uid === 'string' && { uid: value.uid }),
    ...(groups && { groups }),
    ...(objectOf(value.extra) && { extra: capValue(value.extra, 2048) }),
  };
}

/**
 * Maps an audit EventList onto Stele events: actor = the authenticated user
 * (the impersonated one goes to details), target = the object, outcome from
 * the response code (unknown before the response), id = (cluster, auditID,
 * stage) so a retried batch is recorded once.
 *
 * @param body - the parsed request body (hostile)
 * @throws PayloadError when the body or an item is not of the schema
 */
export function kubernetesEvents(body: unknown, options: KubernetesOptions): SourceEvent[] {
  const list = objectOf(body);
  if (!list || list.kind !== 'EventList' || list.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(list.items)) {
    throw new PayloadError([{ item: -1, field: '', message: 'expected an audit.k8s.io/v1 EventList with items' }]);
  }
  const problems: PayloadProblem[] = [];
  const events: SourceEvent[] = [];
  list.items.forEach((raw, item) => {
    const problem = (field: string, message: string) => problems.push({ item, field, message });
    const e = objectOf(raw);
    if (!e) return problem('', 'an audit event must be an object');
    const auditID = stringOf(e.auditID);
    const stage = stringOf(e.stage);
    const verb = stringOf(e.verb);
    const requestURI = stringOf(e.requestURI);
    const user = objectOf(e.user);
    const time = stringOf(e.stageTimestamp) ?? stringOf(e.requestReceivedTimestamp);
    if (!auditID) problem('auditID', 'is required');
    if (!stage || !STAGES.has(stage)) problem('stage', 'must be RequestReceived, ResponseStarted, ResponseComplete or Panic');
    if (!verb || !VERB.test(verb)) problem('verb', 'must be a lower-case verb');
    if (!requestURI) problem('requestURI', 'is required');
    if (!user) problem('user', 'is required');
    if (!time) problem('stageTimestamp', 'is required');
    if (e.level !== undefined && !LEVELS.has(e.level as string)) problem('level', 'must be None, Metadata, Request or RequestResponse');
    const refObject = e.objectRef === undefined ? undefined : objectOf(e.objectRef);
    if (e.objectRef !== undefined && !refObject) problem('objectRef', 'must be an object');
    const ref: Record<string, string | undefined> | undefined = refObject && {
      resource: stringOf(refObject.resource),
      subresource: stringOf(refObject.subresource),
      namespace: stringOf(refObject.namespace),
      name: stringOf(refObject.name),
      apiGroup: stringOf(refObject.apiGroup),
      apiVersion: stringOf(refObject.apiVersion),
      uid: stringOf(refObject.uid),
      resourceVersion: stringOf(refObject.resourceVersion),
    };
    const actor = user && actorOf({ id: user.username, groups: user.groups });
    if (user && !actor) problem('user.username', 'is required');
    if (!auditID || !stage || !STAGES.has(stage) || !verb || !VERB.test(verb) || !requestURI || !actor || !time || (e.objectRef !== undefined && !ref)) return;

    const privilege = kubernetesPrivilege(verb, ref);
    const shell = ref?.resource === 'pods' && ref.subresource !== undefined && SHELL_SUBRESOURCES.has(ref.subresource);
    const type = ref?.resource ? [ref.resource, ref.subresource].filter(Boolean).join('/') : 'nonResourceURL';
    if (!TYPE.test(type)) return problem('objectRef.resource', 'is not a resource name');
    const status = objectOf(e.responseStatus);
    const code = typeof status?.code === 'number' ? status.code : undefined;
    // Secrets never enter the log, whatever their size: only their digest does.
    const secret = ref?.resource === 'secrets' && !ref.apiGroup;
    const object = (value: unknown) => (value === undefined ? undefined : secret ? digestOf(value) : capValue(value, options.maxObjectBytes));
    const impersonated = objectOf(e.impersonatedUser);
    const annotations = stringMap(e.annotations);
    const requestObject = objectOf(e.requestObject);
    const objectAnnotations = stringMap(objectOf(objectOf(requestObject?.metadata)?.annotations));
    const command = shell ? commandOf(requestURI) : undefined;
    const tickets = ticketsIn([...Object.values(annotations ?? {}), ...Object.values(objectAnnotations ?? {})], options.tickets);
    const sourceIPs = Array.isArray(e.sourceIPs) ? e.sourceIPs.filter((ip): ip is string => typeof ip === 'string').slice(0, 16) : undefined;

    const kubernetes: Record<string, unknown> = {
      ...(options.cluster && { cluster: options.cluster }),
      auditID,
      stage,
      ...(typeof e.level === 'string' && { level: e.level }),
      requestURI: Array.from(requestURI).slice(0, 4096).join(''),
      ...(ref && { objectRef: Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== undefined)) }),
      user: userInfo(user!),
      ...(impersonated && { impersonatedUser: userInfo(impersonated) }),
      ...(command && { command }),
      ...(annotations && { annotations }),
      ...(typeof e.requestReceivedTimestamp === 'string' && { requestReceivedTimestamp: e.requestReceivedTimestamp }),
      ...(typeof e.stageTimestamp === 'string' && { stageTimestamp: e.stageTimestamp }),
      ...(e.requestObject !== undefined && { requestObject: object(e.requestObject) }),
      ...(e.responseObject !== undefined && { responseObject: object(e.responseObject) }),
    };
    const details: Record<string, unknown> = {
      ...(privilege && { privileged: true, privilege }),
      ...(tickets.length > 0 && { tickets }),
      operation: verb,
      service: 'kubernetes',
      requestId: auditID,
      ...(sourceIPs && sourceIPs.length > 0 && { sourceIPs }),
      ...(typeof e.userAgent === 'string' && { userAgent: Array.from(e.userAgent).slice(0, 1024).join('') }),
      ...(status && {
        status: {
          ...(code !== undefined && { code }),
          ...(typeof status.status === 'string' && { status: status.status }),
          ...(typeof status.reason === 'string' && { reason: status.reason }),
          ...(typeof status.message === 'string' && { message: Array.from(status.message).slice(0, 1024).join('') }),
        },
      }),
      kubernetes,
    };
    const cluster = options.cluster;
    events.push(
      fitEvent({
        id: cluster ? `k8s/${cluster}/${idPart(auditID)}/${stage}` : `k8s/${idPart(auditID)}/${stage}`,
        time,
        source: 'kubernetes',
        action: shell ? `k8s.${ref!.subresource}` : `k8s.${verb}`,
        actor: actor!,
        target: ref?.resource
          ? { type, id: Array.from(objectPath(ref)).slice(0, 4096).join(''), ...(ref.name && { name: Array.from(ref.name).slice(0, 1024).join('') }) }
          : { type, id: Array.from(requestURI.split('?')[0]!).slice(0, 4096).join('') },
        outcome: code === undefined ? 'unknown' : code < 400 ? 'success' : 'failure',
        ...(cluster && { host: cluster }),
        details,
      }),
    );
  });
  if (problems.length > 0) throw new PayloadError(problems);
  return events;
}
