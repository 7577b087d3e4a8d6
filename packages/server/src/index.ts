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
export { createOidcVerifier, looksLikeJwt, type OidcVerifier } from './auth/oidc.js';
export { parseIssuers, PRESETS, type IssuerConfig, type ClaimMapping, type Preset } from './auth/issuer.js';
export { identityOf, rolesOf, submitterOf, type Identity } from './auth/identity.js';
export { bindEvents, sentForm, submitterFor, BOUND_DETAILS } from './auth/bind.js';
export { permits, type Principal } from './auth/guard.js';
export { openDeviceStore, type DeviceStore } from './devices/deviceStore.js';
export { startDeviceTracker, chainHash, gapEvent, type DeviceTracker, type DeviceTrackerOptions } from './devices/tracker.js';
export { checkNext, type DeviceState, type Gap } from './devices/chain.js';
export { openApiDocument } from './openapi.js';
export { kubernetesEvents, kubernetesPrivilege, type KubernetesOptions } from './sources/kubernetes.js';
export { cloudtrailEvents, cloudtrailActor, cloudtrailPrivilege, type CloudTrailOptions } from './sources/cloudtrail.js';
export { githubPushEvent } from './sources/github.js';
export { slackCommand, type SlackCommand } from './sources/slack.js';
export { cloudEvents, type CloudEventsOptions } from './sources/cloudevents.js';
export { githubSignature, slackSignature, checkGithubSignature, checkSlackSignature } from './sources/signature.js';
export { DEFAULT_TICKET_PATTERNS, EVENT_BUDGET, PayloadError, fitEvent, fitPush, ticketMatchers, ticketsIn, type SourceEvent } from './sources/normalize.js';
export { createIdentityMap, parseIdentities, resolvePerson, linkEvent, type IdentityMap, type Person, type PersonConfig } from './identityMap.js';
export { searchLog, searchMatcher, namesTicket, type SearchOptions, type SearchResult } from './search.js';
