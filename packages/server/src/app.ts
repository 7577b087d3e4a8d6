import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Store } from '@stele/store';
import { requireScope } from './auth/guard.js';
import { createOidcVerifier, type OidcVerifier } from './auth/oidc.js';
import type { KeyTiming } from './auth/jwks.js';
import type { TokenStore } from './auth/tokenStore.js';
import type { DeviceTracker } from './devices/tracker.js';
import type { ServerConfig } from './config.js';
import type { AppContext } from './context.js';
import { ApiError, errorBody, toApiError } from './errors.js';
import { createMetrics } from './metrics.js';
import { RequestLog } from './requestLog.js';
import { answerClientError, checkPercentEncoding, checkSingleValued, MAX_PARAM_LENGTH, routingError } from './requestRefusals.js';
import { eventRoutes } from './routes/events.js';
import { authRoutes } from './routes/auth.js';
import { deviceRoutes } from './routes/devices.js';
import { metaRoutes } from './routes/meta.js';
import { proofRoutes } from './routes/proofs.js';
import { tileRoutes } from './routes/tiles.js';
import { sourceRoutes } from './routes/sources.js';
import { consoleRoutes } from './routes/console.js';
import { adminRoutes } from './routes/admin.js';
import { facetRoutes } from './routes/facets.js';

/** Options of {@link buildApp}. */
export interface AppOptions {
  store: Store;
  config: ServerConfig;
  /** The API tokens; required unless `config.auth` is false. */
  tokens?: TokenStore;
  /** Verifies OIDC tokens; default: one made from `config.oidc.issuers` (none when the list is empty). */
  oidc?: OidcVerifier;
  /** Timing of OIDC key fetches for the default verifier (tests shorten the cooldown). */
  keyTiming?: KeyTiming;
  /** The device tracker (startDeviceTracker); without one, device sequences are not checked. */
  devices?: DeviceTracker;
  /** Fastify's logger option (pino); off by default. */
  logger?: FastifyServerOptions['logger'];
  /** HTTPS options (key, cert) for the underlying server. */
  https?: { key: Buffer; cert: Buffer };
  /** The web console's built files, served at `/` when the folder holds an index.html. */
  consoleDir?: string;
}

/** The app and the state its owner needs for a graceful shutdown. */
export interface App {
  app: FastifyInstance;
  context: AppContext;
}

/**
 * Builds the collector's HTTP app. It never listens by itself: tests use
 * `app.inject`, and `startCollector` calls `listen`.
 */
export function buildApp(options: AppOptions): App {
  const { store, config } = options;
  if (config.auth && !options.tokens) throw new Error('authentication is on but no token store was given');
  const tokens = config.auth ? options.tokens : undefined;
  const oidc = !config.auth ? undefined : (options.oidc ?? (config.oidc.issuers.length > 0 ? createOidcVerifier(config.oidc.issuers, options.keyTiming) : undefined));
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLog(),
    bodyLimit: config.limits.bodyBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    connectionTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: 10_000,
    // Token and device ids are path parameters: a 128-character id fits even when every character is percent-encoded.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // What Fastify and Node refuse before any route runs, answered in the API's error shape too.
    frameworkErrors: (err: FastifyError, _request: unknown, reply: FastifyReply) => {
      const api = routingError(err);
      void reply.code(api.status).send(errorBody(api.code, api.message));
    },
    clientErrorHandler: (err: Error & { code?: string; reason?: string }, socket: Socket) => answerClientError(err, socket, config.limits.requestTimeoutMs),
    ...(options.https ? { https: options.https } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const state: AppContext['state'] = { closing: false, selfCheck: undefined };
  const metrics = createMetrics({
    selfCheck: () => state.selfCheck,
    size: () => store.log.size(),
    queued: () => store.log.stats().queued,
    checkpointAge: () => {
      const created = store.log.stats().checkpointCreated;
      return created === undefined ? 0 : Math.max(0, (Date.now() - created) / 1000);
    },
  });
  const context: AppContext = {
    store,
    config,
    tokens,
    oidc,
    devices: options.devices,
    metrics,
    guard: (scope, open = false) => requireScope({ tokens, oidc }, scope, open),
    streams: new Set<ServerResponse>(),
    deadlines: new WeakMap(),
    state,
  };
  store.log.subscribe((commit) => metrics.batch.observe(commit.entries.length));

  installBodyParsers(app);
  // Node checks its own requestTimeout only every 30 s; a slow client is cut off on time here.
  const deadlines = context.deadlines;
  const limit = config.limits.requestTimeoutMs;
  app.addHook('onRequest', async (request, reply) => {
    const timer = setTimeout(() => {
      const res = reply.raw;
      if (res.headersSent) return;
      res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify(errorBody('ERR_TIMEOUT', `the request took longer than ${limit} ms`)), () => request.raw.socket?.destroy());
    }, limit);
    timer.unref();
    deadlines.set(request.raw, timer);
  });
  app.addHook('onResponse', async (request, reply) => {
    clearTimeout(deadlines.get(request.raw));
    metrics.latency.observe(reply.elapsedTime / 1000);
  });
  // Every route reads one string per query parameter, but a name given twice arrives as an
  // array: refused for all of them here, after the credential is checked and before any route reads it.
  // Only a URL with a query string has anything to check (ingest's POSTs have none): no promise, no scan for them.
  app.addHook('preValidation', (request, _reply, done) => {
    const url = request.raw.url ?? '';
    const at = url.indexOf('?');
    if (at < 0 || request.is404) return done();
    try {
      checkPercentEncoding(url.slice(at + 1));
      checkSingleValued(request.query);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
  app.setErrorHandler((err, request, reply) => {
    const api = toApiError(err) ?? fastifyError(err as Error & { code?: string; statusCode?: number });
    if (!api) {
      request.log.error({ err }, 'unhandled error');
      return reply.code(500).send(errorBody('ERR_INTERNAL', 'internal error'));
    }
    if (request.method === 'POST' && (request.routeOptions.url === '/v1/events' || request.routeOptions.url?.startsWith('/v1/sources/'))) {
      // Every refused ingest counts, by reason: events when the body was read (an empty batch as one), else the request.
      metrics.rejected.inc({ reason: api.code }, Array.isArray(request.body) ? Math.max(1, request.body.length) : 1);
    }
    return reply.code(api.status).headers(api.headers).send(errorBody(api.code, api.message, api.details));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  eventRoutes(app, context);
  facetRoutes(app, context);
  proofRoutes(app, context);
  tileRoutes(app, context);
  metaRoutes(app, context);
  authRoutes(app, context);
  deviceRoutes(app, context);
  sourceRoutes(app, context);
  adminRoutes(app, context);
  consoleRoutes(app, options.consoleDir, [...new Set(config.oidc.issuers.filter((i) => i.clientId !== undefined).map((i) => new URL(i.issuer).origin))]);
  return { app, context };
}

/** Fastify's own errors (body limits, media types, timeouts) in the API's shape. */
function fastifyError(err: Error & { code?: string; statusCode?: number }): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'ERR_BODY_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'ERR_MALFORMED_JSON', err.message);
    default:
      if (err.statusCode === 408) return new ApiError(408, 'ERR_TIMEOUT', err.message);
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, 'ERR_BAD_REQUEST', err.message);
      return undefined;
  }
}

/** JSON (one object or an array) and NDJSON bodies; malformed input is a 400 naming where. */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new ApiError(400, 'ERR_MALFORMED_JSON', `the body is not JSON: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], { parseAs: 'string' }, (_request, body, done) => {
    const events: unknown[] = [];
    const lines = (body as string).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      try {
        events.push(JSON.parse(line));
      } catch (err) {
        done(new ApiError(400, 'ERR_MALFORMED_JSON', `line ${i + 1} is not JSON: ${(err as Error).message}`), undefined);
        return;
      }
    }
    done(null, events);
  });
}
