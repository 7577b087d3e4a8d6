import { localActor, openTokenStore, recordAdmin, SCOPES, type Scope, type TokenRecord, type TokenStore } from '@stele/server';
import { hasStore, openStore } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, parse, subcommand, subcommandError } from '../usage.js';

const OPTIONS = { ...DIR_OPTION, name: { type: 'string' }, scope: { type: 'string' }, json: { type: 'boolean' } } as const;
const SUBCOMMANDS = ['create', 'list', 'revoke'];

/**
 * `stele token create --name N --scope ingest|read|admin`, `stele token list`,
 * `stele token revoke ID|NAME` (each with [--dir D] [--json]). The secret is
 * printed once; only its hash is kept. Creating and revoking are recorded in
 * the log itself (source stele).
 */
export async function token(args: string[], io: Io): Promise<number> {
  const { sub, rest } = subcommand(args, OPTIONS);
  const { values, positionals } = parse(rest, OPTIONS, sub === 'revoke' ? 1 : 0);
  if (sub === undefined || !SUBCOMMANDS.includes(sub)) throw subcommandError('token', sub, 'create|list|revoke [--dir D]');
  const dir = dataDir(io, values.dir);
  if (!hasStore(dir)) throw new UsageError(`no log in ${dir} (run stele init or stele serve)`);
  const tokens = openTokenStore(dir);
  try {
    switch (sub) {
      case 'create': {
        if (!values.name) throw new UsageError('--name is required');
        if (!/^[\x21-\x7e]{1,64}$/.test(values.name)) throw new UsageError('--name is 1 to 64 printable ASCII characters without spaces');
        if (!SCOPES.includes(values.scope as Scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`);
        const { token: secret, record } = createUnique(tokens, values.name, values.scope as Scope, 'or choose another --name');
        await audit(dir, 'token.create', record);
        io.stdout(values.json ? JSON.stringify({ token: secret, ...record }) + '\n' : secret + '\n');
        io.stderr(`stele token: created ${record.scope} token ${record.name} (id ${record.id}); it is shown only now\n`);
        return EXIT.ok;
      }
      case 'list': {
        const list = tokens.list();
        if (values.json) io.stdout(list.map((t) => JSON.stringify(t) + '\n').join(''));
        else {
          // Names are the one column of any width: padded to the longest, so that the dates line up.
          const width = Math.max(0, ...list.map((t) => t.name.length));
          io.stdout(list.map((t) => `${t.id}  ${t.scope.padEnd(6)}  ${t.name.padEnd(width)}  created ${t.created}${t.revoked ? `  REVOKED ${t.revoked}` : ''}\n`).join('') || 'no tokens\n');
        }
        return EXIT.ok;
      }
      case 'revoke': {
        const which = positionals[0] ?? values.name;
        if (!which) throw new UsageError('name the token to revoke: stele token revoke ID|NAME');
        const live = tokens.live(which);
        if (live.length > 1) throw new UsageError(`${live.length} live tokens are named ${which}; revoke one by its id (${live.map((t) => t.id).join(', ')})`);
        const record = live.length === 1 ? tokens.revoke(live[0]!.id) : undefined;
        if (!record) throw new UsageError(`no live token has the id or name ${which}`);
        await audit(dir, 'token.revoke', record);
        io.stdout(values.json ? JSON.stringify(record) + '\n' : `revoked ${record.name} (id ${record.id})\n`);
        return EXIT.ok;
      }
      default:
        throw subcommandError('token', sub, 'create|list|revoke [--dir D]');
    }
  } finally {
    tokens.close();
  }
}

async function audit(dir: string, action: string, record: { id: string; name: string; scope: string }): Promise<void> {
  const store = await openStore(dir);
  try {
    const { actor, submitter } = localActor();
    await recordAdmin(store.log, action, { actor, submitter, target: { type: 'token', id: record.id, name: record.name }, details: { scope: record.scope } });
  } finally {
    await store.log.close();
  }
}

/**
 * A new token, or (when a live one has the name) a usage error saying so and
 * how to go on: revoke that one, or `otherwise`.
 */
export function createUnique(tokens: TokenStore, name: string, scope: Scope, otherwise: string): { token: string; record: TokenRecord } {
  try {
    return tokens.create(name, scope);
  } catch (err) {
    // TokenExistsError, told by its code: the class is the token store's own.
    const existing = (err as { code?: unknown; existing?: TokenRecord }).code === 'ERR_TOKEN_EXISTS' ? (err as { existing: TokenRecord }).existing : undefined;
    if (existing === undefined) throw err;
    throw new UsageError(`a live token is already named ${name} (id ${existing.id}): revoke it first (stele token revoke ${existing.id}), ${otherwise}`);
  }
}
