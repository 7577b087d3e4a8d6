import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Io } from './io.js';
import { UsageError } from './usage.js';

/** What `stele login` keeps for one collector (the user's config directory, mode 0600). */
export interface ServerCredentials {
  /** The issuer, its short name, and the public client the tokens were issued to. */
  issuer: string;
  issuerName: string;
  clientId: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** Which token the collector takes: the access token, or the ID token. */
  token: 'access' | 'id';
  scopes: string[];
  resource?: string;
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** When the token sent expires, epoch milliseconds. */
  expiresAt: number;
}

/** The file: credentials by collector URL. */
interface CredentialsFile {
  version: 1;
  servers: Record<string, ServerCredentials>;
}

/** `$XDG_CONFIG_HOME/stele/credentials.json`, else `~/.config/stele/credentials.json`. */
export function credentialsPath(io: Io): string {
  const base = io.env.XDG_CONFIG_HOME || join(io.env.HOME || homedir(), '.config');
  return join(base, 'stele', 'credentials.json');
}

/** A collector URL as a key: no trailing slash, no path. `from` names where the URL came from, for the refusal. */
export function serverKey(url: string, from = '--server'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${from} must be a URL such as https://stele.example.com, not ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`${from} must be an http(s) URL, not ${JSON.stringify(url)}`);
  return parsed.origin;
}

function read(io: Io): CredentialsFile {
  try {
    const parsed = JSON.parse(readFileSync(credentialsPath(io), 'utf8')) as CredentialsFile;
    if (parsed && parsed.version === 1 && parsed.servers && typeof parsed.servers === 'object') return parsed;
  } catch {
    // none yet, or unreadable: start afresh
  }
  return { version: 1, servers: {} };
}

/** Writes the file with mode 0600 (directory 0700), atomically. */
function write(io: Io, file: CredentialsFile): void {
  const path = credentialsPath(io);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The stored credentials of one collector. */
export function loadCredentials(io: Io, server: string): ServerCredentials | undefined {
  return read(io).servers[server];
}

/** Stores (or, with undefined, forgets) the credentials of one collector. */
export function saveCredentials(io: Io, server: string, credentials: ServerCredentials | undefined): void {
  const file = read(io);
  if (credentials) file.servers[server] = credentials;
  else delete file.servers[server];
  write(io, file);
}

/** Every collector with stored credentials. */
export function storedServers(io: Io): string[] {
  return Object.keys(read(io).servers);
}

/** The collector a command talks to: --server, else $STELE_SERVER, else the only one logged in to. */
export function chooseServer(io: Io, flag: string | undefined): string {
  if (flag !== undefined) return serverKey(flag);
  if (io.env.STELE_SERVER) return serverKey(io.env.STELE_SERVER, '$STELE_SERVER');
  const servers = storedServers(io);
  if (servers.length === 1) return servers[0]!;
  throw new UsageError(servers.length === 0 ? 'name the collector: --server URL (or $STELE_SERVER)' : `logged in to several collectors (${servers.join(', ')}): name one with --server`);
}
