import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { archiveConfigProblem, DEFAULT_ARCHIVE_CONFIG, type ArchiveConfig } from './archiveTask.js';
import { parseIssuers, type IssuerConfig } from './auth/issuer.js';
import { parseIdentities, type PersonConfig } from './identityMap.js';
import { DEFAULT_TICKET_PATTERNS } from './sources/normalize.js';

/** Everything the collector can be told; see docs/CONFIG.md. */
export interface ServerConfig {
  /** The data directory. */
  dir: string;
  host: string;
  port: number;
  /** Require credentials (API tokens). Off is refused on a non-loopback address. */
  auth: boolean;
  /** Let anonymous readers fetch the checkpoint and hash tiles (never entry bundles), for outside witnesses. */
  publicTiles: boolean;
  tls: { cert?: string; key?: string };
  limits: {
    /** Most events one request may carry. */
    eventsPerRequest: number;
    /** Most bytes one request body may have. */
    bodyBytes: number;
    /** Most events waiting for a commit; past it appends answer 503. */
    queuedEvents: number;
    /** Milliseconds a request may take, body included. */
    requestTimeoutMs: number;
  };
  logLevel: string;
  /** OpenID Connect issuers whose tokens identify people and services (docs/IDENTITY.md). */
  oidc: { issuers: IssuerConfig[] };
  /** The continuous WORM archive (docs/ARCHIVE.md). */
  archive: ArchiveConfig;
  /** The collector's check of its own log (selfCheck.ts). */
  verify: {
    /** Seconds between the end of one whole-log verification and the start of the next; 0: never. */
    everySeconds: number;
  };
  /** The sources beyond POST /v1/events: Kubernetes, CloudTrail, GitHub, Slack, CloudEvents (docs/SOURCES.md). */
  sources: {
    /** Regular expressions whose matches are ticket references (details.tickets, the ticket= filter). */
    tickets: string[];
    /** Request and response objects (and CloudEvents data) larger than this, as canonical JSON, are replaced by their SHA-256. */
    maxObjectBytes: number;
    /** GitHub webhooks' secret; empty: POST /v1/sources/github is off. */
    github: { secret: string };
    /** The Slack app's signing secret; empty: POST /v1/sources/slack is off. */
    slack: { signingSecret: string };
  };
  /** People and their identifiers in each source (docs/SOURCES.md, "One person"). */
  identities: PersonConfig[];
}

/** Defaults: loopback, port 8080, ./stele-data, authentication on. */
export const DEFAULT_CONFIG: ServerConfig = {
  dir: 'stele-data',
  host: '127.0.0.1',
  port: 8080,
  auth: true,
  publicTiles: false,
  tls: {},
  limits: { eventsPerRequest: 10_000, bodyBytes: 16 * 1024 * 1024, queuedEvents: 100_000, requestTimeoutMs: 30_000 },
  logLevel: 'info',
  oidc: { issuers: [] },
  archive: { ...DEFAULT_ARCHIVE_CONFIG },
  verify: { everySeconds: 21_600 },
  sources: { tickets: [...DEFAULT_TICKET_PATTERNS], maxObjectBytes: 8192, github: { secret: '' }, slack: { signingSecret: '' } },
  identities: [],
};

/** pino's levels. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A configuration problem: the collector refuses to start. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
}

type Source = Record<string, unknown>;

/** Environment overrides: STELE_<KEY>, nested keys joined with `_` (STELE_LIMITS_BODY_BYTES). */
const ENV: Record<string, string> = {
  STELE_DIR: 'dir',
  STELE_HOST: 'host',
  STELE_PORT: 'port',
  STELE_AUTH: 'auth',
  STELE_PUBLIC_TILES: 'publicTiles',
  STELE_TLS_CERT: 'tls.cert',
  STELE_TLS_KEY: 'tls.key',
  STELE_LIMITS_EVENTS_PER_REQUEST: 'limits.eventsPerRequest',
  STELE_LIMITS_BODY_BYTES: 'limits.bodyBytes',
  STELE_LIMITS_QUEUED_EVENTS: 'limits.queuedEvents',
  STELE_LIMITS_REQUEST_TIMEOUT_MS: 'limits.requestTimeoutMs',
  STELE_LOG_LEVEL: 'logLevel',
  STELE_ARCHIVE_TO: 'archive.to',
  STELE_ARCHIVE_CADENCE_SECONDS: 'archive.cadenceSeconds',
  STELE_ARCHIVE_MODE: 'archive.mode',
  STELE_ARCHIVE_RETENTION_DAYS: 'archive.retentionDays',
  STELE_ARCHIVE_LATEST: 'archive.latest',
  STELE_ARCHIVE_ALLOW_UNLOCKED: 'archive.allowUnlocked',
  STELE_ARCHIVE_ENDPOINT: 'archive.endpoint',
  STELE_ARCHIVE_REGION: 'archive.region',
  STELE_ARCHIVE_PATH_STYLE: 'archive.pathStyle',
  STELE_VERIFY_EVERY_SECONDS: 'verify.everySeconds',
  STELE_SOURCES_MAX_OBJECT_BYTES: 'sources.maxObjectBytes',
  STELE_SOURCES_GITHUB_SECRET: 'sources.github.secret',
  STELE_SOURCES_SLACK_SIGNING_SECRET: 'sources.slack.signingSecret',
};

/**
 * STELE_* variables that other parts of Stele read (the CLI and the Emacs
 * package's client settings, the Git hooks, the tests): not the collector's
 * settings, and no mistake when set in its environment.
 */
const OTHER_VARIABLES = /^STELE_(TOKEN|SERVER|DEBUG|VECTORS|GIT_HOOK_[A-Z0-9_]+|TEST_[A-Z0-9_]+)$/;

/** Reads a config file: TOML (`.toml`) or JSON. */
export function readConfigFile(path: string): Source {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return (path.endsWith('.toml') ? parseToml(text) : JSON.parse(text)) as Source;
  } catch (err) {
    // smol-toml's errors carry where; JSON.parse's message says it already.
    const { line, column } = err as { line?: unknown; column?: unknown };
    const where = typeof line === 'number' && typeof column === 'number' ? ` at line ${line}, column ${column}` : '';
    throw new ConfigError(`config ${path} does not parse${where}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function setPath(target: Source, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Source;
  at[keys[keys.length - 1]!] = value;
}

/**
 * The effective configuration: defaults, then the file, then STELE_*
 * environment variables, then flags. Unknown keys and wrong types are errors.
 */
export function resolveConfig(layers: { file?: Source; env?: NodeJS.ProcessEnv; flags?: Source }): ServerConfig {
  const env: Source = {};
  for (const name of Object.keys(layers.env ?? {})) {
    // A misspelt variable (STELE_PUBLIC_TILE) would otherwise leave its setting at the default unnoticed.
    if (name.startsWith('STELE_') && !(name in ENV) && !OTHER_VARIABLES.test(name)) {
      throw new ConfigError(`unknown setting ${name} in environment (docs/CONFIG.md lists the collector's STELE_* variables)`);
    }
  }
  for (const [name, path] of Object.entries(ENV)) {
    const value = layers.env?.[name];
    if (value !== undefined && value !== '') setPath(env, path, value);
  }
  const config = structuredClone(DEFAULT_CONFIG) as unknown as Source;
  for (const [layer, source] of [['config file', layers.file], ['environment', env], ['flags', layers.flags]] as const) {
    if (source) merge(config, source, DEFAULT_CONFIG as unknown as Source, layer, '');
  }
  const result = config as unknown as ServerConfig;
  const within = (name: string, value: number, min: number, max: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  };
  within('port', result.port, 0, 65535);
  within('limits.eventsPerRequest', result.limits.eventsPerRequest, 1, 1_000_000);
  within('limits.bodyBytes', result.limits.bodyBytes, 1024, 1024 ** 3);
  within('limits.queuedEvents', result.limits.queuedEvents, 1, 10_000_000);
  within('limits.requestTimeoutMs', result.limits.requestTimeoutMs, 100, 3_600_000);
  const archiveProblem = archiveConfigProblem(result.archive);
  if (archiveProblem) throw new ConfigError(archiveProblem);
  within('verify.everySeconds', result.verify.everySeconds, 0, 2_592_000);
  within('sources.maxObjectBytes', result.sources.maxObjectBytes, 0, 60_000);
  if (!LOG_LEVELS.includes(result.logLevel)) throw new ConfigError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  if (Boolean(result.tls.cert) !== Boolean(result.tls.key)) throw new ConfigError('TLS needs both a certificate and a key');
  return result;
}

function merge(into: Source, from: Source, shape: Source, layer: string, prefix: string): void {
  for (const [key, value] of Object.entries(from)) {
    const name = prefix + key;
    if (value === undefined) continue;
    if (!(key in shape)) throw new ConfigError(`unknown setting ${name} in ${layer}`);
    if (name === 'oidc') {
      into.oidc = oidcOf(value, layer);
      continue;
    }
    if (name === 'identities' || name === 'sources.tickets') {
      into[key] = name === 'identities' ? identitiesOf(value, layer) : ticketsOf(value, layer);
      continue;
    }
    const expected = shape[key];
    if (expected !== null && typeof expected === 'object') {
      if (typeof value !== 'object' || value === null) throw new ConfigError(`${name} in ${layer} must be a table`);
      merge(into[key] as Source, value as Source, key === 'tls' ? { cert: '', key: '' } : (expected as Source), layer, `${name}.`);
    } else {
      into[key] = coerce(name, value, key === 'cert' || key === 'key' ? 'string' : typeof expected, layer);
    }
  }
}

/** The `oidc` table: a list of issuers, replaced whole by a later layer. */
function oidcOf(value: unknown, layer: string): { issuers: IssuerConfig[] } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`oidc in ${layer} must be a table`);
  const { issuers, ...rest } = value as Source;
  for (const key of Object.keys(rest)) throw new ConfigError(`unknown setting oidc.${key} in ${layer}`);
  try {
    return { issuers: issuers === undefined ? [] : parseIssuers(issuers) };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} in ${layer}`);
  }
}

/** The `identities` list, replaced whole by a later layer. */
function identitiesOf(value: unknown, layer: string): PersonConfig[] {
  try {
    return parseIdentities(value);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} in ${layer}`);
  }
}

/** `sources.tickets`: regular expressions that must compile (a list, or one per line from the environment). */
function ticketsOf(value: unknown, layer: string): string[] {
  const list = typeof value === 'string' ? value.split('\n').filter((p) => p !== '') : value;
  if (!Array.isArray(list) || list.length > 16 || list.some((p) => typeof p !== 'string' || p === '' || p.length > 256)) {
    throw new ConfigError(`sources.tickets in ${layer} must be a list of at most 16 regular expressions`);
  }
  for (const pattern of list as string[]) {
    try {
      new RegExp(pattern, 'gu');
    } catch (err) {
      throw new ConfigError(`sources.tickets in ${layer}: ${(err as Error).message}`);
    }
  }
  return list as string[];
}

function coerce(name: string, value: unknown, type: string, layer: string): unknown {
  if (typeof value === type) return value;
  if (typeof value === 'string') {
    if (type === 'number' && /^\d+$/.test(value)) return Number(value);
    if (type === 'boolean' && /^(true|false|1|0|yes|no|on|off)$/i.test(value)) return /^(true|1|yes|on)$/i.test(value);
  }
  throw new ConfigError(`${name} in ${layer} must be a ${type}, not ${JSON.stringify(value)}`);
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The settings an audit event may show: not the file paths of TLS keys, not
 * webhook secrets, and the identity map as its size and digest (a long list
 * would not fit in one event; the digest still shows when it changed).
 */
export function publicConfig(config: ServerConfig): Source {
  const set = (secret: string) => (secret === '' ? '' : '(set)');
  return {
    ...config,
    tls: { enabled: Boolean(config.tls.cert) },
    sources: { ...config.sources, github: { secret: set(config.sources.github.secret) }, slack: { signingSecret: set(config.sources.slack.signingSecret) } },
    identities: { people: config.identities.length, sha256: createHash('sha256').update(JSON.stringify(config.identities)).digest('hex') },
  } as unknown as Source;
}
