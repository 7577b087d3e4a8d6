import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Submitter } from '@stele/log';
import { submitterFor } from '../auth/bind.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { cloudEvents } from '../sources/cloudevents.js';
import { cloudtrailEvents } from '../sources/cloudtrail.js';
import { githubPushEvent } from '../sources/github.js';
import { CLUSTER_NAME, kubernetesEvents } from '../sources/kubernetes.js';
import { PayloadError, ticketMatchers, type SourceEvent } from '../sources/normalize.js';
import { checkGithubSignature, checkSlackSignature, type SignatureFailure } from '../sources/signature.js';
import { slackCommand } from '../sources/slack.js';

/**
 * `POST /v1/sources/{kubernetes,cloudtrail,github,slack,cloudevents}`: each
 * source's own payload, mapped onto events (docs/SOURCES.md) and appended all
 * or nothing. Bodies arrive as raw bytes: webhook signatures are over those
 * bytes, and CloudTrail files may be gzip. Kubernetes, CloudTrail and
 * CloudEvents need a credential with scope ingest; GitHub and Slack sign
 * their requests instead, with a secret from the configuration.
 */
export function sourceRoutes(app: FastifyInstance, ctx: AppContext): void {
  const tickets = ticketMatchers(ctx.config.sources.tickets);
  const maxObjectBytes = ctx.config.sources.maxObjectBytes;

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.post('/v1/sources/kubernetes', { onRequest: ctx.guard('ingest') }, async (request, reply) => {
      const cluster = (request.query as Record<string, string | undefined>).cluster;
      if (cluster !== undefined && !CLUSTER_NAME.test(cluster)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'cluster is 1 to 40 of a-z, 0-9, "." and "-"');
      const body = parseJson(decoded(ctx, request, false));
      const events = mapped(() => kubernetesEvents(body, { maxObjectBytes, tickets, ...(cluster && { cluster }) }));
      return appendEvents(ctx, reply, events, submitterFor(request.principal));
    });

    scope.post('/v1/sources/cloudtrail', { onRequest: ctx.guard('ingest') }, async (request, reply) => {
      const body = parseJson(decoded(ctx, request, true));
      const events = mapped(() => cloudtrailEvents(body, { maxObjectBytes, tickets }));
      return appendEvents(ctx, reply, events, submitterFor(request.principal));
    });

    scope.post('/v1/sources/cloudevents', { onRequest: ctx.guard('ingest') }, async (request, reply) => {
      const type = mediaType(request);
      if (request.headers['ce-specversion'] !== undefined) throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'CloudEvents binary mode is not supported: send structured mode (application/cloudevents+json)');
      if (type !== 'application/cloudevents+json' && type !== 'application/cloudevents-batch+json') {
        throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send application/cloudevents+json or application/cloudevents-batch+json');
      }
      const body = parseJson(decoded(ctx, request, false));
      const events = mapped(() => cloudEvents(body, type === 'application/cloudevents-batch+json', { maxObjectBytes, tickets }));
      return appendEvents(ctx, reply, events, submitterFor(request.principal));
    });

    scope.post('/v1/sources/github', async (request, reply) => {
      const secret = ctx.config.sources.github.secret;
      if (secret === '') throw new ApiError(404, 'ERR_SOURCE_DISABLED', 'the GitHub source is off: set sources.github.secret');
      const raw = rawBody(request);
      signatureOk(checkGithubSignature(secret, raw, header(request, 'x-hub-signature-256')));
      // Signed by GitHub from here on; still parsed as untrusted JSON.
      const event = header(request, 'x-github-event');
      const type = mediaType(request);
      const text = type === 'application/x-www-form-urlencoded' ? (new URLSearchParams(raw.toString('utf8')).get('payload') ?? '') : raw.toString('utf8');
      const body = parseJson(Buffer.from(text));
      if (event === 'ping') return reply.code(200).send({ ok: true });
      if (event !== 'push') return reply.code(202).send({ ignored: event ?? null });
      const delivery = header(request, 'x-github-delivery');
      const events = mapped(() => [githubPushEvent(body, delivery, tickets)]);
      return appendEvents(ctx, reply, events, { type: 'webhook', id: 'github', name: 'X-Hub-Signature-256' });
    });

    scope.post('/v1/sources/slack', async (request, reply) => {
      const secret = ctx.config.sources.slack.signingSecret;
      if (secret === '') throw new ApiError(404, 'ERR_SOURCE_DISABLED', 'the Slack source is off: set sources.slack.signingSecret');
      const raw = rawBody(request);
      const timestamp = header(request, 'x-slack-request-timestamp');
      signatureOk(checkSlackSignature(secret, raw, timestamp, header(request, 'x-slack-signature'), Math.floor(Date.now() / 1000)));
      if (mediaType(request) !== 'application/x-www-form-urlencoded') throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'a slash command is application/x-www-form-urlencoded');
      const command = mapped(() => slackCommand(new URLSearchParams(raw.toString('utf8')), timestamp!, tickets));
      // Slack shows a non-200 answer as a failure: a command Stele does not understand gets help, and nothing is recorded.
      if (command.kind === 'usage') return reply.code(200).send({ response_type: 'ephemeral', text: command.text });
      const team = (command.event.details.slack as Record<string, string>).team_id!;
      const result = await append(ctx, [command.event], { type: 'webhook', id: `slack:${team}`.slice(0, 128), name: 'X-Slack-Signature' });
      const entry = result.entries[0]!;
      const reason = typeof command.event.reason === 'string' ? `: ${command.event.reason}` : '';
      return reply.code(200).send({
        response_type: 'in_channel',
        text: `<@${command.event.actor.id}> approved ${command.ticket}${reason} (Stele ${ctx.store.log.origin}, entry ${entry.index})`,
        entries: result.entries,
      });
    });
  });
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The media type without parameters, lower-cased. */
const mediaType = (request: FastifyRequest): string => (header(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();

const rawBody = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

/** A refused signature as its 401. */
function signatureOk(failure: SignatureFailure | undefined): void {
  if (failure === undefined) return;
  const code = failure === 'missing' ? 'ERR_SIGNATURE_MISSING' : failure === 'expired' ? 'ERR_SIGNATURE_EXPIRED' : 'ERR_SIGNATURE_INVALID';
  const message = failure === 'missing' ? 'the request is not signed' : failure === 'expired' ? 'the request timestamp is outside the replay window' : 'the signature does not match the body';
  throw new ApiError(401, code, message);
}

/**
 * The body's bytes, gunzipped when it says `Content-Encoding: gzip` or (with
 * `sniff`, for CloudTrail's `.json.gz` files) starts with gzip's magic. The
 * inflated size is bounded by limits.bodyBytes too: a small bomb is a 413.
 */
function decoded(ctx: AppContext, request: FastifyRequest, sniff: boolean): Buffer {
  const raw = rawBody(request);
  const encoding = (header(request, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported (gzip is)`);
  if (encoding !== 'gzip' && !(sniff && raw[0] === 0x1f && raw[1] === 0x8b)) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: ctx.config.limits.bodyBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ApiError(413, 'ERR_BODY_TOO_LARGE', `the body inflates past ${ctx.config.limits.bodyBytes} bytes`);
    throw new ApiError(400, 'ERR_BAD_REQUEST', `the body is not valid gzip: ${(err as Error).message}`);
  }
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) throw new ApiError(400, 'ERR_MALFORMED_JSON', 'the body is empty');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'ERR_MALFORMED_JSON', `the body is not JSON: ${(err as Error).message}`);
  }
}

/** Runs a mapper; a payload of the wrong shape is a 422 naming each item and field. */
function mapped<T>(map: () => T): T {
  try {
    return map();
  } catch (err) {
    if (err instanceof PayloadError) throw new ApiError(422, 'ERR_PAYLOAD_INVALID', err.message, err.problems);
    throw err;
  }
}

async function append(ctx: AppContext, events: SourceEvent[], submitter: Submitter) {
  if (ctx.state.closing) throw new ApiError(503, 'ERR_UNAVAILABLE', 'the collector is shutting down', undefined, { 'retry-after': '5' });
  if (events.length === 0) throw new ApiError(400, 'ERR_BAD_REQUEST', 'the payload carries no events');
  if (events.length > ctx.config.limits.eventsPerRequest) {
    throw new ApiError(413, 'ERR_TOO_MANY_EVENTS', `a request may carry at most ${ctx.config.limits.eventsPerRequest} events, not ${events.length}`);
  }
  const result = await ctx.store.log.append(events, { submitter });
  let duplicates = 0;
  for (const e of result.entries) if (e.duplicate) duplicates++;
  ctx.metrics.accepted.inc({}, result.entries.length - duplicates);
  if (duplicates) ctx.metrics.duplicates.inc({}, duplicates);
  return {
    entries: result.entries.map((e) => (e.duplicate ? { id: e.id, index: e.index, duplicate: true } : { id: e.id, index: e.index })),
    size: result.size,
    checkpoint: result.checkpoint,
  };
}

/** Appends and answers 201 as POST /v1/events does. */
async function appendEvents(ctx: AppContext, reply: FastifyReply, events: SourceEvent[], submitter: Submitter) {
  return reply.code(201).send(await append(ctx, events, submitter));
}
