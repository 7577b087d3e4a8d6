/**
 * @stele/server: the collector. `buildApp` makes the Fastify app (never
 * listening by itself); `startCollector` runs it on a data directory.
 *
 * @packageDocumentation
 */
export { buildApp, type App, type AppOptions } from './app.js';
export { startCollector, ADMIN_TOKEN_FILE, type Collector, type CollectorOptions } from './collector.js';
export { DEFAULT_CONFIG, ConfigError, isLoopback, readConfigFile, resolveConfig, type ServerConfig } from './config.js';
export { openTokenStore, allows, SCOPES, type Scope, type TokenRecord, type TokenStore } from './auth/tokenStore.js';
export { localActor, recordAdmin } from './audit.js';
export { ApiError, type ApiErrorCode } from './errors.js';
export { openApiDocument } from './openapi.js';
