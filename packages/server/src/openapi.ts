/**
 * The HTTP API, described once (OpenAPI 3.1): served at /openapi.json and
 * rendered at /docs without any outside script.
 */

const error = { $ref: '#/components/schemas/Error' };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'error', ...json(error) }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'malformed request: a malformed or repeated parameter, a malformed URL or request line (ERR_BAD_REQUEST), or body (ERR_MALFORMED_JSON)',
  401: 'no or bad credential (ERR_AUTH_MISSING, ERR_AUTH_INVALID, ERR_TOKEN_*, ERR_SIGNATURE_*: see docs/API.md)',
  403: 'the credential lacks the scope or role (ERR_FORBIDDEN)',
  404: 'not found (ERR_NOT_FOUND)',
  409: 'the id is in the log with other content (ERR_ID_CONFLICT)',
  413: 'too large (ERR_BODY_TOO_LARGE, ERR_TOO_MANY_EVENTS)',
  415: 'not JSON or NDJSON (ERR_UNSUPPORTED_MEDIA_TYPE)',
  422: 'schema violations, each event and field named in details (ERR_EVENT_INVALID, ERR_PAYLOAD_INVALID)',
  503: 'queue full, shutting down, or the identity provider unreachable, with Retry-After (ERR_OVERLOADED, ERR_UNAVAILABLE, ERR_IDP_UNAVAILABLE)',
};
/** The 400 of the search routes, which refuse what would otherwise match everything or nothing. */
const searchErrors = (...codes: number[]) => ({
  ...errors(...codes),
  400: {
    description:
      'ERR_BAD_REQUEST: a malformed parameter, one given twice, one this route does not take (the message lists those it does), an outcome other than success, failure or unknown, since after until, or a search word without letters or digits',
    ...json(error),
  },
});
const param = (name: string, description: string, required = false) => ({ name, in: 'query', required, description, schema: { type: 'string' } });
const filters = [
  param('actor', "the actor's id or email"),
  param('action', 'an action, or a prefix ending in * (package.*)'),
  param('source', 'emacs, git, kubernetes, cloudtrail, stele, ...'),
  param('target', "the target's id or name"),
  param('outcome', 'success, failure or unknown (anything else is 400)'),
  param('since', 'RFC 3339, or a duration back from now (15m, 2h, 7d); after until is 400'),
  param('until', 'RFC 3339, or a duration back from now'),
  param('q', 'free text: every word must occur (a word with punctuation is a phrase: init.el); a word without letters or digits is 400'),
  param('ticket', 'events that name this ticket (details.tickets, the reason or the target): INC-42'),
];
const bearer = [{ bearer: [] }];

/** The OpenAPI document. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Stele collector', version: '1', description: 'Who did what, when, and why: events in, verifiable answers out.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (stele token create)' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
        Event: { type: 'object', description: 'an event as a client sends it (docs/EVENT.md)', required: ['source', 'action', 'actor'] },
        Record: { type: 'object', description: 'a stored record: the event plus v, id, received, index, submitter' },
      },
    },
    security: bearer,
    paths: {
      '/v1/events': {
        post: {
          summary: 'Append events (scope ingest). Answers only once they are durable and covered by the returned signed checkpoint.',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/Event' }, { type: 'array', items: { $ref: '#/components/schemas/Event' } }] } },
              'application/x-ndjson': { schema: { type: 'string', description: 'one event per line' } },
            },
          },
          responses: {
            201: { description: 'appended (or already there: duplicate)', ...json({ type: 'object', properties: { entries: { type: 'array' }, size: { type: 'integer' }, checkpoint: { type: 'string' } } }) },
            ...errors(400, 401, 403, 409, 413, 415, 422, 503),
          },
        },
        get: {
          summary: 'Search, the most recently appended first (descending index, not event time) (scope read)',
          parameters: [...filters, param('limit', '1 to 1000, default 100: the most recently appended matches'), param('cursor', 'the next value of the previous page'), param('format', 'stele (default) or ocsf: OCSF 1.3.0 events')],
          responses: { 200: { description: 'a page', ...json({ type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Record' } }, next: { type: ['string', 'null'] } } }) }, ...searchErrors(401, 403) },
        },
      },
      '/v1/events/{id}': {
        get: {
          summary: 'One event, its index, its inclusion proof and the checkpoint it is against (scope read)',
          parameters: [{ name: 'id', in: 'path', required: true, description: 'the event id (may contain /)', schema: { type: 'string' } }],
          responses: { 200: { description: 'the event and its proof' }, ...errors(400, 401, 403, 404) },
        },
      },
      '/v1/evidence': {
        get: {
          summary: 'An evidence bundle (stele-evidence/1, docs/EVIDENCE.md) of a search: the events, their inclusion proofs, the checkpoints and consistency proofs (scope read)',
          parameters: [...filters, param('limit', '1 to 1000, default 100: the most recently appended matches'), param('since_size', 'the size of a checkpoint the client holds: adds it and the consistency proof to the latest')],
          responses: {
            200: { description: 'the bundle, verified by the collector before it is sent' },
            ...searchErrors(401, 403),
            404: { description: 'no events match, or the log has no checkpoint yet (ERR_NOT_FOUND): never an empty bundle', ...json(error) },
            500: { description: 'the stored log does not verify for these events (ERR_STORE_CORRUPT): run stele verify', ...json(error) },
          },
        },
      },
      '/v1/events/facets': {
        get: {
          summary: 'Counts over a whole search (scope read): source, action, actor, outcome, privileged, and a timeline, over the most recently appended matches up to scan; complete says whether that was all',
          parameters: [
            ...filters,
            param('scan', 'events counted at most, the most recently appended first: 1 to 100000, default 10000'),
            param('top', 'values listed per facet: 1 to 100, default 10'),
            param('buckets', 'timeline buckets at most: 1 to 500, default 60'),
            param('limit', 'ignored: the count is of the whole search'),
            param('cursor', 'ignored: the count is of the whole search'),
          ],
          responses: {
            200: {
              description: 'the counts',
              ...json({
                type: 'object',
                required: ['counted', 'complete', 'scan', 'facets'],
                properties: {
                  counted: { type: 'integer' },
                  complete: { type: 'boolean', description: 'false: the count is not known to be whole; the counts are of the newest counted matches' },
                  stoppedBy: { enum: ['scan', 'time'], description: 'why an incomplete count stopped' },
                  scan: { type: 'integer' },
                  facets: { type: 'object', description: 'per facet: {values: [{value, count}], distinct}' },
                  oldest: { type: 'string' },
                  newest: { type: 'string' },
                  timeline: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, bucketSeconds: { type: 'number' }, counts: { type: 'array', items: { type: 'integer' } } } },
                },
              }),
            },
            ...searchErrors(401, 403),
          },
        },
      },
      '/v1/admin/tokens': {
        get: { summary: 'API tokens, never their secrets (scope admin)', responses: { 200: { description: '{"tokens":[{id, name, scope, created, revoked}]}' }, ...errors(401, 403) } },
        post: {
          summary: 'Create an API token (scope admin): the secret is in the answer, once; a token.create event is appended first',
          requestBody: { required: true, ...json({ type: 'object', required: ['name', 'scope'], properties: { name: { type: 'string' }, scope: { enum: ['ingest', 'read', 'admin'] } } }) },
          responses: { 201: { description: '{"token","record"}' }, ...errors(400, 401, 403), 409: { description: 'a live token already has the name (ERR_TOKEN_EXISTS; details: {id} of that token)', ...json(error) } },
        },
      },
      '/v1/admin/tokens/{id}': {
        delete: {
          summary: 'Revoke an API token (scope admin); a token.revoke event is appended',
          parameters: [{ name: 'id', in: 'path', required: true, description: 'the token id', schema: { type: 'string' } }],
          responses: { 200: { description: '{"record"}' }, ...errors(401, 403, 404) },
        },
      },
      '/v1/events/stream': {
        get: { summary: 'Server-sent events: each new entry (event: entry) and checkpoint (event: checkpoint); takes the search filters but since and until (400: it sends what is appended from now on)', parameters: filters.filter((p) => p.name !== 'since' && p.name !== 'until'), responses: { 200: { description: 'text/event-stream' }, ...searchErrors(401, 403) } },
      },
      ...sourcePaths(),
      '/v1/proof/inclusion': {
        get: { summary: 'RFC 6962 inclusion proof', parameters: [param('index', 'the entry', true), param('size', 'the tree size, default the latest')], responses: { 200: { description: 'proof' }, ...errors(400, 401, 403) } },
      },
      '/v1/proof/consistency': {
        get: { summary: 'RFC 6962 consistency proof', parameters: [param('from', 'the older size', true), param('to', 'the newer size, default the latest')], responses: { 200: { description: 'proof' }, ...errors(400, 401, 403) } },
      },
      '/v1/auth/config': { get: { summary: 'What a client needs to log in: issuers, client ids, scopes, endpoints', security: [], responses: { 200: { description: '{"issuers":[...]}' } } } },
      '/v1/auth/whoami': { get: { summary: 'The caller: an API token, or a person or service an OIDC token proved, with its roles', responses: { 200: { description: 'the caller' }, ...errors(401) } } },
      '/v1/devices': { get: { summary: 'Enrolled devices: user, last seen, last sequence, gaps, and whether an admin retired them (scope read)', responses: { 200: { description: '{"devices":[...]}' }, ...errors(401, 403) } } },
      ...devicePaths(),
      '/v1/log': { get: { summary: "Origin, verifier key, size, latest checkpoint, and the outcome of the collector's last verification of its own log (selfCheck)", responses: { 200: { description: 'the log' } } } },
      '/log/checkpoint': { get: { summary: 'C2SP tlog-checkpoint (signed note)', responses: { 200: { description: 'text/plain' } } } },
      '/log/tile/{level}/{index}': { get: { summary: 'C2SP tlog-tiles hash tile; partial tiles at .../{index}.p/{width}', responses: { 200: { description: 'application/octet-stream' }, ...errors(404) } } },
      '/log/tile/entries/{index}': { get: { summary: 'C2SP tlog-tiles entry bundle (always needs scope read)', responses: { 200: { description: 'application/octet-stream' }, ...errors(404) } } },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness: 503 while shutting down or overloaded', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text/plain' } } } },
    },
  };
}

/** The admins' device actions (docs/API.md, "Devices"). */
function devicePaths(): Record<string, object> {
  const id = { name: 'id', in: 'path', required: true, description: 'the device id (URL-encoded)', schema: { type: 'string' } };
  const answer = { 200: { description: '{"device","index"}: the device as the table has it after the action, and the index of its event' } };
  const reason = { type: 'string', minLength: 1, maxLength: 1024, description: 'why: recorded as the event\'s reason' };
  const action = (summary: string, body: object) => ({
    summary,
    parameters: [id],
    requestBody: { required: true, ...json(body) },
    responses: { ...answer, ...errors(400, 401, 403, 404), 409: { description: 'the action does not apply to the device as it stands (ERR_DEVICE_STATE)', ...json(error) } },
  });
  return {
    '/v1/admin/devices/{id}/retire': {
      post: action('Retire a device (scope admin): no longer expected to report, not flagged silent; if it reports again, a stele.retired-report event is recorded. A device.retire event is appended first', { type: 'object', required: ['reason'], properties: { reason } }),
    },
    '/v1/admin/devices/{id}/reinstate': {
      post: action('Reinstate a retired device (scope admin): expected to report again. A device.reinstate event is appended first', { type: 'object', required: ['reason'], properties: { reason } }),
    },
    '/v1/admin/devices/{id}/note': {
      put: action('Set the note on a device, such as its owner or asset tag (scope admin); an empty note clears it. A device.note event is appended first', {
        type: 'object',
        required: ['note'],
        properties: { note: { type: 'string', maxLength: 256, description: 'one line' }, reason: { ...reason, minLength: 0, description: 'optional' } },
      }),
    },
  };
}

/** The sources beyond POST /v1/events (docs/SOURCES.md). */
function sourcePaths(): Record<string, object> {
  const appended = { 201: { description: 'appended, as POST /v1/events answers' } };
  const source = (summary: string, type: string, codes: number[], security?: object[]) => ({
    post: {
      summary,
      ...(security && { security }),
      requestBody: { required: true, content: { [type]: { schema: { type: 'object' } } } },
      responses: {
        ...appended,
        ...errors(...codes),
        ...(codes.includes(404) && { 404: { description: 'the source is not configured (ERR_SOURCE_DISABLED)', ...json(error) } }),
      },
    },
  });
  return {
    '/v1/sources/kubernetes': source('Kubernetes audit webhook: an audit.k8s.io/v1 EventList (scope ingest); ?cluster=NAME', 'application/json', [400, 401, 403, 413, 422, 503]),
    '/v1/sources/cloudtrail': source('A CloudTrail log file {"Records":[...]}, plain or gzip (scope ingest)', 'application/json', [400, 401, 403, 413, 415, 422, 503]),
    '/v1/sources/cloudevents': source('CloudEvents 1.0 structured mode, one or a batch (scope ingest)', 'application/cloudevents+json', [400, 401, 403, 413, 415, 422, 503]),
    '/v1/sources/github': source('GitHub push webhooks, verified with X-Hub-Signature-256 (no bearer token)', 'application/json', [400, 401, 404, 422, 503], []),
    '/v1/sources/slack': source('Slack slash command /stele approve TICKET text, verified with the signing secret (no bearer token); answers 200 for Slack', 'application/x-www-form-urlencoded', [401, 404, 415, 422, 503], []),
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A plain HTML rendering of the document. */
export function docsPage(): string {
  const doc = openApiDocument() as { info: { title: string; description: string }; paths: Record<string, Record<string, { summary: string; parameters?: { name: string; description?: string; required?: boolean }[]; responses: Record<string, { description: string }> }>> };
  const sections = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const params = (op.parameters ?? []).map((p) => `<li><code>${escape(p.name)}</code>${p.required ? ' (required)' : ''}: ${escape(p.description ?? '')}</li>`).join('');
      const responses = Object.entries(op.responses).map(([code, r]) => `<li><code>${code}</code> ${escape(r.description)}</li>`).join('');
      return `<section><h2><span class="m">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2><p>${escape(op.summary)}</p>${params ? `<h3>Parameters</h3><ul>${params}</ul>` : ''}<h3>Responses</h3><ul>${responses}</ul></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escape(doc.info.title)} API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
@media (prefers-color-scheme:dark){body{background:#111;color:#ddd}code{color:#9cf}}
h2{font-size:1.05rem;border-top:1px solid #8884;padding-top:1rem}.m{display:inline-block;min-width:3.5rem;font-weight:700}
h3{font-size:.9rem;margin:.5rem 0 0}</style></head><body>
<h1>${escape(doc.info.title)} API</h1><p>${escape(doc.info.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a>.
Errors are <code>{"error":{"code","message"}}</code>; send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
${sections.join('\n')}</body></html>`;
}
