import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { localActor, openTokenStore, recordAdmin } from '@stele/server';
import { hasStore, openStore } from '@stele/store';
import { serverKey } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';
import { createUnique } from './token.js';

/**
 * `stele kube-webhook-config --server URL [--cluster NAME] [--token-file F]
 * [--ca-file F] [--dir D] [--json]`: prints the kubeconfig-style file the
 * Kubernetes API server's `--audit-webhook-config-file` takes, pointing at
 * `POST /v1/sources/kubernetes` with a service token: the one in
 * `--token-file` or `$STELE_TOKEN`, else a new ingest token created in the
 * local data directory (recorded in the log as `token.create`).
 */
export async function kubeWebhookConfig(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    server: { type: 'string' },
    cluster: { type: 'string' },
    'token-file': { type: 'string' },
    'ca-file': { type: 'string' },
    json: { type: 'boolean' },
  });
  const server = values.server ?? io.env.STELE_SERVER;
  if (!server) throw new UsageError('name the collector as the API server reaches it: --server URL');
  // The URL before the token: a bad one must not cost a token created for nothing.
  const origin = serverKey(server, values.server !== undefined ? '--server' : '$STELE_SERVER');
  const cluster = values.cluster;
  if (cluster !== undefined && !/^[a-z0-9][a-z0-9.-]{0,39}$/.test(cluster)) throw new UsageError('--cluster is 1 to 40 of a-z, 0-9, "." and "-"');
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(resolve(io.cwd, path));
    } catch (err) {
      throw new UsageError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  let token = values['token-file'] !== undefined ? read('--token-file', values['token-file']).toString('utf8').trim() : io.env.STELE_TOKEN;
  if (values['token-file'] !== undefined && !token) throw new UsageError(`${values['token-file']} holds no token`);
  if (!token) token = await createToken(dataDir(io, values.dir), `kube-audit-${cluster ?? 'cluster'}`, io);
  const url = `${origin}${new URL(server).pathname.replace(/\/$/, '')}/v1/sources/kubernetes${cluster ? `?cluster=${cluster}` : ''}`;
  const ca = values['ca-file'] !== undefined ? read('--ca-file', values['ca-file']).toString('base64') : undefined;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stele', cluster: { server: url, ...(ca && { 'certificate-authority-data': ca }) } }],
    users: [{ name: 'stele', user: { token } }],
    contexts: [{ name: 'stele', context: { cluster: 'stele', user: 'stele' } }],
    'current-context': 'stele',
  };
  if (values.json) {
    io.stdout(JSON.stringify(config, null, 2) + '\n');
    return EXIT.ok;
  }
  const q = JSON.stringify; // a JSON string is a YAML double-quoted scalar
  io.stdout(
    [
      '# The Kubernetes API server\'s audit webhook: pass this file as --audit-webhook-config-file,',
      '# with an audit policy as --audit-policy-file (docs/SOURCES.md). It holds a token: keep it 0600.',
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: stele',
      '    cluster:',
      `      server: ${q(url)}`,
      ...(ca ? [`      certificate-authority-data: ${q(ca)}`] : []),
      'users:',
      '  - name: stele',
      '    user:',
      `      token: ${q(token)}`,
      'contexts:',
      '  - name: stele',
      '    context:',
      '      cluster: stele',
      '      user: stele',
      'current-context: stele',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

/** A new ingest token in the local data directory, recorded in the log. */
async function createToken(dir: string, name: string, io: Io): Promise<string> {
  if (!hasStore(dir)) throw new UsageError(`give the API server a token: --token-file F or $STELE_TOKEN (or --dir with the collector's data directory to create one)`);
  const tokens = openTokenStore(dir);
  try {
    const { token, record } = createUnique(tokens, name, 'ingest', 'or pass its secret with --token-file F, or choose another --cluster');
    const store = await openStore(dir);
    try {
      const { actor, submitter } = localActor();
      await recordAdmin(store.log, 'token.create', { actor, submitter, target: { type: 'token', id: record.id, name: record.name }, details: { scope: record.scope } });
    } finally {
      await store.log.close();
    }
    io.stderr(`stele kube-webhook-config: created ingest token ${record.name} (id ${record.id}); revoke it with stele token revoke ${record.id}\n`);
    return token;
  } finally {
    tokens.close();
  }
}
