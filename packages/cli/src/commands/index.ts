import type { Io } from '../io.js';
import { append } from './append.js';
import { exportTiles } from './export.js';
import { init } from './init.js';
import { key } from './key.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { proof } from './proof.js';
import { query } from './query.js';
import { serve } from './serve.js';
import { token } from './token.js';
import { verify } from './verify.js';
import { whoami } from './whoami.js';

/** A subcommand: parses its own arguments, returns the exit code. */
export type Command = (args: string[], io: Io) => Promise<number>;

/** Every subcommand by name. */
export const COMMANDS: Record<string, Command> = { init, key, append, verify, export: exportTiles, query, proof, serve, token, login, logout, whoami };

export const HELP = `stele: who did what, when, and why, in a log nobody can quietly change.

Usage: stele <command> [options]   (data directory: --dir D, else $STELE_DIR, else ./stele-data)

  init    [--origin ORIGIN]                 create a log and its Ed25519 key; print the verifier key
  key                                       print the verifier key
  append  [FILE|-] [--json]                 append JSON Lines, one event per line, all or nothing
          [--server URL]                    ... or send them to a collector, as the logged-in user
  verify  [--against FILE] [--key VKEY] [--json]
                                            recompute and check everything; exit 1 on any mismatch
  export  --out DIR [--json]                write the log as static C2SP tlog-tiles files
  query   [--actor A] [--action X] [--source S] [--target T] [--since T] [--until T]
          [--text Q] [--limit N] [--json | --csv]
  proof   (--index N | --id ID) [--size S] [--json]
                                            an inclusion proof and its signed checkpoint
  serve   [--host H] [--port P] [--config FILE] [--tls-cert F --tls-key F]
                                            run the collector (creates the log on first start)
  token   create --name N --scope ingest|read|admin | list | revoke ID|NAME
                                            API tokens (the secret is shown once)
  login   --server URL [--issuer NAME] [--browser] [--json]
                                            sign in with the collector's identity provider (device
                                            flow; --browser: code flow with PKCE on a loopback port)
  logout  [--server URL] [--json]           forget the stored login (and revoke its refresh token)
  whoami  [--server URL] [--json]           who the collector takes you for

Credentials: $XDG_CONFIG_HOME/stele/credentials.json (else ~/.config/stele/), mode 0600;
$STELE_TOKEN (an API token) is used instead when set; $STELE_SERVER names the collector.

Exit status: 0 ok, 1 a failed check, 2 bad usage or input.
`;
