import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateFile } from '../privateFile.js';

/** What a credential may do. `admin` includes `read` and `ingest`. */
export type Scope = 'ingest' | 'read' | 'admin';

/** The scopes, in order. */
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** A token as stored: never the token itself, only its hash. */
export interface TokenRecord {
  id: string;
  name: string;
  scope: Scope;
  created: string;
  revoked: string | null;
}

/**
 * A live token already has the name asked for: names identify tokens to
 * people (`stele token revoke NAME`, the actor `token:NAME` of what they
 * submit), so two live tokens never share one.
 */
export class TokenExistsError extends Error {
  readonly code = 'ERR_TOKEN_EXISTS';
  /** @param existing - the live token that has the name */
  constructor(readonly existing: TokenRecord) {
    super(`a live token is already named ${existing.name} (id ${existing.id})`);
    this.name = 'TokenExistsError';
  }
}

/** The API tokens of one data directory (`auth.db`, beside the log). */
export interface TokenStore {
  /**
   * Creates a token; the secret is returned once and never stored.
   *
   * @throws TokenExistsError when a live token has the name already
   */
  create(name: string, scope: Scope): { token: string; record: TokenRecord };
  list(): TokenRecord[];
  /** The live (unrevoked) tokens whose id or name is `idOrName`. */
  live(idOrName: string): TokenRecord[];
  /** Revokes by id or name; the revoked record, or undefined unless exactly one live token matched. */
  revoke(idOrName: string): TokenRecord | undefined;
  /** The live token a secret belongs to (a frozen record; revocation by any process takes effect at once). */
  authenticate(secret: string): TokenRecord | undefined;
  close(): void;
}

/** True when a credential with `have` may do what `need` requires. */
export function allows(have: Scope, need: Scope): boolean {
  return have === 'admin' || have === need;
}

const PREFIX = 'stele_';
const hashOf = (secret: string) => createHash('sha256').update(secret).digest();
const MAX_VERIFIED = 1000;

/** Opens (creating) the token store of a data directory. */
export function openTokenStore(dir: string): TokenStore {
  ensurePrivateFile(join(dir, 'auth.db'));
  const db = new Database(join(dir, 'auth.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
    hash BLOB NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
  )`);
  const insert = db.prepare('INSERT INTO tokens (id, name, scope, hash, created) VALUES (?, ?, ?, ?, ?)');
  const byHash = db.prepare('SELECT id, name, scope, hash, created, revoked FROM tokens WHERE hash = ?');
  const all = db.prepare('SELECT id, name, scope, created, revoked FROM tokens ORDER BY rowid');
  const liveNamed = db.prepare('SELECT id, name, scope, created, revoked FROM tokens WHERE name = ? AND revoked IS NULL');
  // Checked and inserted under the write lock: a collector and `stele token create` beside it cannot both pass the check.
  // (Not a unique index: a database from before the rule may hold live namesakes, which revoke by id still sorts out.)
  const insertUnique = db.transaction((record: TokenRecord, hash: Buffer) => {
    const existing = liveNamed.get(record.name) as TokenRecord | undefined;
    if (existing) throw new TokenExistsError(existing);
    insert.run(record.id, record.name, record.scope, hash, record.created);
  });
  const find = db.prepare('SELECT id, name, scope, created, revoked FROM tokens WHERE (id = ? OR name = ?) AND revoked IS NULL');
  const revoke = db.prepare('UPDATE tokens SET revoked = ? WHERE id = ?');
  // Secrets already verified, so that a request costs neither a hash nor a lookup. Emptied
  // whenever the table may have changed: by this store (revoke), or by another connection
  // (`stele token revoke` beside the collector), which PRAGMA data_version reveals. That look
  // is taken once per turn of the event loop: the requests read in one turn share it.
  // Only live tokens are kept, and at most MAX_VERIFIED: unknown secrets are never cached.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const verified = new Map<string, TokenRecord>();
  let version = dataVersion.get();
  let looked = false;
  const current = () => {
    if (!looked) {
      looked = true;
      setImmediate(() => (looked = false));
      const now = dataVersion.get();
      if (now !== version) {
        version = now;
        verified.clear();
      }
    }
    return verified;
  };

  return {
    create(name, scope) {
      // Names end up in every record the token submits: short and printable.
      if (!/^[\x21-\x7e]{1,64}$/.test(name)) throw new RangeError('a token name is 1 to 64 printable ASCII characters without spaces');
      const id = randomBytes(6).toString('hex');
      const token = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
      const record: TokenRecord = { id, name, scope, created: new Date().toISOString(), revoked: null };
      insertUnique.immediate(record, hashOf(token));
      return { token, record };
    },
    list: () => all.all() as TokenRecord[],
    live: (idOrName) => find.all(idOrName, idOrName) as TokenRecord[],
    revoke(idOrName) {
      const matches = find.all(idOrName, idOrName) as TokenRecord[];
      if (matches.length !== 1) return undefined;
      const record = { ...matches[0]!, revoked: new Date().toISOString() };
      revoke.run(record.revoked, record.id);
      verified.clear();
      return record;
    },
    authenticate(secret) {
      if (!secret.startsWith(PREFIX) || secret.length > 200) return undefined;
      const cache = current();
      const known = cache.get(secret);
      if (known) return known;
      const hash = hashOf(secret);
      const row = byHash.get(hash) as (TokenRecord & { hash: Buffer }) | undefined;
      // The lookup is by hash already; the constant-time compare is belt and braces.
      if (!row || row.revoked !== null || !timingSafeEqual(row.hash, hash)) return undefined;
      const record: TokenRecord = Object.freeze({ id: row.id, name: row.name, scope: row.scope, created: row.created, revoked: null });
      if (cache.size >= MAX_VERIFIED) cache.clear();
      cache.set(secret, record);
      return record;
    },
    close: () => db.close(),
  };
}
