import type { IncomingMessage, ServerResponse } from 'node:http';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { Store } from '@stele/store';
import type { Scope, TokenStore } from './auth/tokenStore.js';
import type { ServerConfig } from './config.js';
import type { Metrics } from './metrics.js';

/** What every route shares. */
export interface AppContext {
  store: Store;
  config: ServerConfig;
  /** Undefined when authentication is off. */
  tokens: TokenStore | undefined;
  metrics: Metrics;
  /** An onRequest hook requiring a scope (before any body is read); `open` admits anonymous callers. */
  guard(scope: Scope, open?: boolean): onRequestAsyncHookHandler;
  /** Open event streams, ended on shutdown. */
  streams: Set<ServerResponse>;
  /** Each request's deadline timer (limits.requestTimeoutMs). */
  deadlines: WeakMap<IncomingMessage, NodeJS.Timeout>;
  /** Set while shutting down: readiness fails, new appends are refused. */
  state: { closing: boolean };
}
