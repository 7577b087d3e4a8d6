import type { ServerResponse } from 'node:http';
import type { preHandlerAsyncHookHandler } from 'fastify';
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
  /** A pre-handler requiring a scope; `open` admits anonymous callers. */
  guard(scope: Scope, open?: boolean): preHandlerAsyncHookHandler;
  /** Open event streams, ended on shutdown. */
  streams: Set<ServerResponse>;
  /** Set while shutting down: readiness fails, new appends are refused. */
  state: { closing: boolean };
}
