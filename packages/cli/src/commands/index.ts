import type { Io } from '../io.js';
import { append } from './append.js';
import { archive } from './archive.js';
import { demo } from './demo.js';
import { exportTiles } from './export.js';
import { gitCommand } from './git.js';
import { ingest } from './ingest.js';
import { init } from './init.js';
import { key } from './key.js';
import { kubeWebhookConfig } from './kube.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { proof } from './proof.js';
import { query } from './query.js';
import { serve } from './serve.js';
import { token } from './token.js';
import { verify } from './verify.js';
import { verifyBundle } from './verifyBundle.js';
import { whoami } from './whoami.js';

/** A subcommand: parses its own arguments, returns the exit code. */
export type Command = (args: string[], io: Io) => Promise<number>;

/** Every subcommand by name. */
export const COMMANDS: Record<string, Command> = {
  init, key, append, verify, 'verify-bundle': verifyBundle, export: exportTiles, archive, query, proof, serve, token, login, logout, whoami,
  ingest, git: gitCommand, 'kube-webhook-config': kubeWebhookConfig, demo,
};

export const HELP = `stele: who did what, when, and why, in a log nobody can quietly change.

Usage: stele <command> [options]   (data directory: --dir D, else $STELE_DIR, else ./stele-data)

  init    [--origin ORIGIN]                 create a log and its Ed25519 key; print the verifier key
  key                                       print the verifier key
  append  [FILE|-] [--json]                 append JSON Lines, one event per line, all or nothing
          [--server URL]                    ... or send them to a collector, as the logged-in user
  verify  [--against FILE] [--key VKEY] [--json]
                                            recompute and check everything; exit 1 on any mismatch
          --archive URL --key VKEY [--size N]
                                            verify an archive on its own (read access only)
  verify-bundle FILE [--key VKEY] [--json] [--html OUT]
                                            check an evidence bundle offline (docs/EVIDENCE.md)
  export  --out DIR [--json]                write the log as static C2SP tlog-tiles files
  archive --to s3://BUCKET/PREFIX|file:///DIR [--mode COMPLIANCE|GOVERNANCE] [--retention-days N]
          [--no-latest] [--allow-unlocked] [--json]
                                            copy the log to write-once storage (S3 Object Lock),
                                            never overwriting or deleting (docs/ARCHIVE.md)
  query   [--actor A] [--action X] [--source S] [--target T] [--outcome success|failure|unknown]
          [--ticket T] [--since T] [--until T] [--text Q] [--limit N] [--config FILE]
          [--json | --csv | --format ocsf]
                                            an actor finds every identifier of the person it names
  proof   (--index N | --id ID) [--size S] [--json]
                                            an inclusion proof and its signed checkpoint
  demo    [--json]                          a fresh log holding a realistic incident, for the console
  serve   [--host H] [--port P] [--config FILE] [--tls-cert F --tls-key F] [--log-level L]
                                            run the collector (creates the log on first start)
  token   create --name N --scope ingest|read|admin | list | revoke ID|NAME
                                            API tokens (the secret is shown once)
  login   --server URL [--issuer NAME] [--browser] [--json]
                                            sign in with the collector's identity provider (device
                                            flow; --browser: code flow with PKCE on a loopback port)
  logout  [--server URL] [--json]           forget the stored login (and revoke its refresh token)
  whoami  [--server URL] [--json]           who the collector takes you for
  ingest  cloudtrail PATH|s3://BUCKET/PREFIX [--server URL] [--state FILE] [--endpoint URL]
          [--region R] [--json]             append delivered CloudTrail log files, each file once
  git     install-hook [--server] [--repo PATH] --collector URL [--token-file F]
          [--repository-url URL] [--json]   report commits (post-commit) or, with --server, pushes
                                            (post-receive); spooled when the collector is down;
                                            --repository-url: the repository's id (else origin's URL)
  git     flush [--repo PATH] [--json]      deliver a repository's spooled events now
  kube-webhook-config --server URL [--cluster NAME] [--token-file F] [--ca-file F] [--json]
                                            the API server's --audit-webhook-config-file

S3 (archive, verify --archive): the AWS SDK's credentials and region (AWS_* variables, profiles,
instance roles); --endpoint URL (or $STELE_ARCHIVE_ENDPOINT) for S3-compatible stores, --region R,
--path-style (implied by --endpoint).

Credentials: $XDG_CONFIG_HOME/stele/credentials.json (else ~/.config/stele/), mode 0600;
$STELE_TOKEN (an API token) is used instead when set; $STELE_SERVER names the collector.

Exit status: 0 ok, 1 a failed check, 2 bad usage or input.
`;

/**
 * What {@link HELP} says of one command: the usage line, then each of the
 * command's forms with its lines (and the exit status); undefined for a name
 * it does not list.
 */
export function helpOf(name: string): string | undefined {
  const lines = HELP.split('\n');
  const forms: string[] = [];
  let inside = false;
  for (const line of lines) {
    // A command's first line is indented by two spaces, its other lines by more.
    const first = /^ {2}(\S+)/.exec(line);
    if (first) inside = first[1] === name;
    else if (!line.startsWith('   ')) inside = false;
    if (inside) forms.push(line);
  }
  if (forms.length === 0) return undefined;
  const usage = lines.find((l) => l.startsWith('Usage: '))!;
  const exit = lines.find((l) => l.startsWith('Exit status: '))!;
  return `${usage}\n\n${forms.join('\n')}\n\n${exit}\n`;
}
