import type { IncomingMessage, ServerResponse } from 'node:http';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { Store } from '@stele/store';
import type { OidcVerifier } from './auth/oidc.js';
import type { Scope, TokenStore } from './auth/tokenStore.js';
import type { ServerConfig } from './config.js';
import type { DeviceTracker } from './devices/tracker.js';
import type { Metrics } from './metrics.js';
import type { SelfCheckStatus } from './selfCheck.js';

/** What every route shares. */
export interface AppContext {
  store: Store;
  config: ServerConfig;
  /** Undefined when authentication is off. */
  tokens: TokenStore | undefined;
  /** Verifies OIDC tokens; undefined when no issuer is configured or authentication is off. */
  oidc: OidcVerifier | undefined;
  /** The device table and chain checks; undefined when not tracking devices. */
  devices: DeviceTracker | undefined;
  metrics: Metrics;
  /** An onRequest hook requiring a scope (`any`: any valid credential) before any body is read; `open` admits anonymous callers. */
  guard(scope: Scope | 'any', open?: boolean): onRequestAsyncHookHandler;
  /** Open event streams, ended on shutdown. */
  streams: Set<ServerResponse>;
  /** Each request's deadline timer (limits.requestTimeoutMs). */
  deadlines: WeakMap<IncomingMessage, NodeJS.Timeout>;
  /**
   * `closing` is set while shutting down: readiness fails, new appends are
   * refused. `selfCheck` is the outcome of the collector's last check of its
   * own log (selfCheck.ts), when there has been one.
   */
  state: { closing: boolean; selfCheck: SelfCheckStatus | undefined };
}
