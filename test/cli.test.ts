/**
 * The `stele` command's contract, through the real built binary: exit codes
 * (0 ok, 1 a failed check, 2 bad usage or input), `--json` shapes, the data
 * directory rules, and outputs checked with the log core rather than trusted.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import {
  CompactRange, bundlesForSize, canonicalBytes, concat, createHasher, createVerifier, entriesPath, fromBase64, hashNodes,
  openNote, parseBundle, parseCheckpoint, parseTile, tilePath, tilesForSize, verifyInclusion, TILE_WIDTH,
} from '@stele/log';
import { openStore } from '@stele/store';
import { removeTempDirs, requireBuild, seedEvent, seedId, seedLog, stele, steleJson, tempDir } from './helpers.js';

const hasher = createHasher((data) => new Uint8Array(createHash('sha256').update(data).digest()));
const VERIFIER_KEY = /^[^+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/;

beforeAll(requireBuild);
afterAll(removeTempDirs);

const jsonLines = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e) + '\n').join('');

/** A new empty log (through the CLI) in a fresh directory. */
async function newLog(origin = 'example.com/cli'): Promise<string> {
  const dir = join(tempDir('cli'), 'log');
  const { code } = await stele(['init', '--dir', dir, '--origin', origin]);
  expect(code).toBe(0);
  return dir;
}

/** The number of entries, read in-process. */
async function sizeOf(dir: string): Promise<number> {
  const store = await openStore(dir, { mode: 'read' });
  try {
    return store.log.size();
  } finally {
    await store.log.close();
  }
}

describe('init and key', () => {
  test('init prints the verifier key, keeps signer.key at mode 0600, and a second init exits 2 leaving the key alone', async () => {
    const dir = join(tempDir('init'), 'log');
    const first = await stele(['init', '--dir', dir, '--origin', 'example.com/audit']);
    expect(first.code).toBe(0);
    const key = first.stdout.trim();
    expect(key).toMatch(VERIFIER_KEY);
    expect(key.startsWith('example.com/audit+')).toBe(true);
    expect(statSync(join(dir, 'signer.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'stele.db')).mode & 0o777).toBe(0o600);
    const signer = readFileSync(join(dir, 'signer.key'), 'utf8');

    const second = await stele(['init', '--dir', dir]);
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(readFileSync(join(dir, 'signer.key'), 'utf8')).toBe(signer);

    const printed = await stele(['key', '--dir', dir]);
    expect({ code: printed.code, key: printed.stdout.trim() }).toEqual({ code: 0, key });
    const json = await steleJson(['key', '--dir', dir, '--json']);
    expect({ code: json.code, json: json.json }).toEqual({ code: 0, json: { verifierKey: key } });
  });

  test('init --json prints the directory, origin and key; a default origin is made up', async () => {
    const dir = join(tempDir('init'), 'log');
    const { code, json } = await steleJson<{ dir: string; origin: string; verifierKey: string }>(['init', '--dir', dir, '--json']);
    expect(code).toBe(0);
    expect(json.dir).toBe(dir);
    expect(json.verifierKey).toMatch(VERIFIER_KEY);
    expect(json.verifierKey.startsWith(`${json.origin}+`)).toBe(true);
  });

  test('an origin with a space or a plus sign exits 2 and creates nothing', async () => {
    for (const origin of ['example.com/a b', 'example.com/a+b']) {
      const dir = join(tempDir('init'), 'log');
      expect((await stele(['init', '--dir', dir, '--origin', origin])).code).toBe(2);
      expect(existsSync(join(dir, 'stele.db'))).toBe(false);
    }
  });

  test('key on a directory without a log exits 2', async () => {
    expect((await stele(['key', '--dir', join(tempDir('empty'), 'nothing')])).code).toBe(2);
  });
});

describe('append', () => {
  const events = Array.from({ length: 10 }, (_, i) => seedEvent(i));

  test('from a file, then from stdin: --json {appended, duplicates, size}', async () => {
    const dir = await newLog();
    const file = join(tempDir('input'), 'events.jsonl');
    writeFileSync(file, jsonLines(events));
    const fromFile = await steleJson(['append', file, '--json', '--dir', dir]);
    expect({ code: fromFile.code, json: fromFile.json }).toEqual({ code: 0, json: { appended: 10, duplicates: 0, size: 10 } });

    const more = Array.from({ length: 5 }, (_, i) => seedEvent(10 + i));
    const fromStdin = await steleJson(['append', '--json', '--dir', dir], { input: jsonLines(more) });
    expect({ code: fromStdin.code, json: fromStdin.json }).toEqual({ code: 0, json: { appended: 5, duplicates: 0, size: 15 } });
    const dash = await steleJson(['append', '-', '--json', '--dir', dir], { input: JSON.stringify(seedEvent(15)) });
    expect({ code: dash.code, json: dash.json }).toEqual({ code: 0, json: { appended: 1, duplicates: 0, size: 16 } });

    // Events without an id get a fresh one each time: never deduplicated.
    const { id: _id, ...anonymous } = seedEvent(16);
    const twice = await steleJson(['append', '--json', '--dir', dir], { input: jsonLines([anonymous, anonymous]) });
    expect(twice.json).toEqual({ appended: 2, duplicates: 0, size: 18 });
    expect(await sizeOf(dir)).toBe(18);
  });

  test('without --json: a line saying what was appended, in the singular for one', async () => {
    const dir = await newLog();
    const one = await stele(['append', '-', '--dir', dir], { input: JSON.stringify(seedEvent(0)) });
    expect(one.stdout).toBe('appended 1 event (0 duplicates); log size 1\n');
    const two = await stele(['append', '-', '--dir', dir], { input: jsonLines([seedEvent(0), seedEvent(1)]) });
    expect(two.stdout).toBe('appended 1 event (1 duplicate); log size 2\n');
  });

  test('re-appending the same file with client ids reports duplicates and does not grow the log', async () => {
    const dir = await newLog();
    const file = join(tempDir('input'), 'events.jsonl');
    writeFileSync(file, jsonLines(events));
    expect((await steleJson(['append', file, '--json', '--dir', dir])).json).toEqual({ appended: 10, duplicates: 0, size: 10 });
    const again = await steleJson(['append', file, '--json', '--dir', dir]);
    expect({ code: again.code, json: again.json }).toEqual({ code: 0, json: { appended: 0, duplicates: 10, size: 10 } });
    // The same content spelled differently (key order, time offset) is still the same event.
    const { time: _time, ...rest } = events[3]!;
    const respelled = { time: new Date(Date.parse(events[3]!.time as string)).toISOString().replace('Z', '+00:00'), ...rest };
    const mixed = await steleJson(['append', '--json', '--dir', dir], { input: jsonLines([respelled, seedEvent(10)]) });
    expect(mixed.json).toEqual({ appended: 1, duplicates: 1, size: 11 });
  });

  /** Exit 2, one line on stderr naming the line, nothing on stdout, nothing appended. */
  async function expectRejectedLine(dir: string, input: string, line: number): Promise<void> {
    const before = await sizeOf(dir);
    const { code, stdout, stderr } = await stele(['append', '--json', '--dir', dir], { input });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.endsWith('\n')).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`\\bline ${line}\\b`));
    expect(await sizeOf(dir)).toBe(before);
  }

  test('invalid JSON on line 3 (after a blank line) exits 2 naming line 3 and appends nothing', async () => {
    const dir = await newLog();
    await expectRejectedLine(dir, `${JSON.stringify(events[0])}\n\n{"source": "emacs",\n${JSON.stringify(events[1])}\n`, 3);
    expect(await sizeOf(dir)).toBe(0);
  });

  test('a schema error on line 2 exits 2 naming line 2 and appends nothing (the valid line 1 neither)', async () => {
    const dir = await newLog();
    expect((await stele(['append', '--dir', dir], { input: jsonLines(events.slice(0, 2)) })).code).toBe(0);
    const bad = { source: 'Git', action: 'vc.commit', actor: { name: 'x' }, outcome: 'ok', user: 1 };
    await expectRejectedLine(dir, jsonLines([events[2], bad, events[3]]), 2);
    expect(await sizeOf(dir)).toBe(2);
  });

  test('an id already in the log with other content exits 2 and appends nothing of the input', async () => {
    const dir = await newLog();
    expect((await stele(['append', '--dir', dir], { input: jsonLines(events) })).code).toBe(0);
    const conflicting = { ...events[4]!, reason: 'rewritten afterwards' };
    await expectRejectedLine(dir, jsonLines([seedEvent(50), conflicting]), 2);
    expect(await sizeOf(dir)).toBe(10);
  });

  test('one id twice in the input with other content exits 2 and appends nothing', async () => {
    const dir = await newLog();
    const a = seedEvent(60);
    await expectRejectedLine(dir, jsonLines([a, seedEvent(61), { ...a, outcome: 'unknown' }]), 3);
    expect(await sizeOf(dir)).toBe(0);
  });

  test('an unreadable file or a directory without a log exits 2', async () => {
    const dir = await newLog();
    expect((await stele(['append', join(tempDir('input'), 'missing.jsonl'), '--dir', dir])).code).toBe(2);
    expect((await stele(['append', '--dir', join(tempDir('empty'), 'nothing')], { input: jsonLines(events) })).code).toBe(2);
  });
});

describe('query', () => {
  let dir: string;
  const now = Date.now();
  const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
  /** Appended in this order, so index = position; newest (highest index) first in results. */
  const E = [
    {
      id: 'q-init', time: ago(60), source: 'emacs', action: 'file.save', outcome: 'success',
      actor: { id: 'alice', email: 'alice@example.com', name: 'Alice' },
      target: { type: 'file', id: '/home/alice/.emacs.d/init.el', name: 'init.el' },
      reason: 'tidy init, "quoted" and more',
    },
    {
      id: 'q-magit', time: ago(180), source: 'emacs', action: 'package.install', outcome: 'success',
      actor: { id: 'bob', email: 'bob@example.com' }, target: { type: 'package', id: 'elpa/magit', name: 'magit' },
    },
    {
      id: 'q-commit', time: ago(30), source: 'git', action: 'vc.commit', outcome: 'failure',
      actor: { id: 'carol', email: 'carol@example.com' }, target: { type: 'repository', id: 'git@example.com:ops/infra.git', name: 'infra' },
      reason: 'hook rejected\nsecond line',
    },
    {
      id: 'q-helm', time: ago(300), source: 'kubernetes', action: 'package.install', outcome: 'success',
      actor: { id: 'alice', email: 'alice@example.com' }, target: { type: 'pods', id: 'prod/web', name: 'web' },
    },
    {
      id: 'q-consult', time: ago(10), source: 'emacs', action: 'package.install', outcome: 'unknown',
      actor: { id: 'carol', email: 'carol@example.com' }, target: { type: 'package', id: 'elpa/consult', name: 'consult' },
    },
  ];

  beforeAll(async () => {
    dir = await newLog();
    const { code } = await stele(['append', '--dir', dir], { input: jsonLines(E) });
    expect(code).toBe(0);
  });

  /** The ids `stele query --json` prints, in order; checks the exit code and the JSON Lines shape. */
  async function ids(...args: string[]): Promise<string[]> {
    const { code, stdout, stderr } = await stele(['query', '--json', '--dir', dir, ...args]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    if (stdout === '') return [];
    expect(stdout.endsWith('\n')).toBe(true);
    return stdout.trimEnd().split('\n').map((line) => {
      const record = JSON.parse(line) as { id: string; index: number; v: number };
      expect(record.v).toBe(1);
      expect(record.index).toBe(E.findIndex((e) => e.id === record.id));
      return record.id;
    });
  }

  test('no filter: every event, newest first; --limit keeps the newest', async () => {
    expect(await ids()).toEqual(['q-consult', 'q-helm', 'q-commit', 'q-magit', 'q-init']);
    expect(await ids('--limit', '2')).toEqual(['q-consult', 'q-helm']);
  });

  test('the table: a header, then one line per event, a reason over two lines on one', async () => {
    const { code, stdout } = await stele(['query', '--dir', dir]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + E.length);
    expect(lines[0]).toMatch(/^INDEX\s+TIME\s+SOURCE\s+ACTION\s+ACTOR\s+TARGET\s+OUTCOME\s+REASON$/);
    expect(lines.find((l) => l.startsWith('2 '))).toMatch(/carol@example\.com\s+infra\s+failure\s+hook rejected second line$/);
  });

  test('--actor matches the id or the email', async () => {
    expect(await ids('--actor', 'alice@example.com')).toEqual(['q-helm', 'q-init']);
    expect(await ids('--actor', 'alice')).toEqual(['q-helm', 'q-init']);
    expect(await ids('--actor', 'mallory@example.com')).toEqual([]);
  });

  test("--action exact and 'package.*'; --source; --target by id or name", async () => {
    expect(await ids('--action', 'package.*')).toEqual(['q-consult', 'q-helm', 'q-magit']);
    expect(await ids('--action', 'file.save')).toEqual(['q-init']);
    expect(await ids('--action', 'package')).toEqual([]);
    expect(await ids('--source', 'kubernetes')).toEqual(['q-helm']);
    expect(await ids('--target', 'init.el')).toEqual(['q-init']);
    expect(await ids('--target', '/home/alice/.emacs.d/init.el')).toEqual(['q-init']);
    expect(await ids('--action', 'package.*', '--actor', 'carol')).toEqual(['q-consult']);
  });

  test('--since and --until, as durations and RFC 3339', async () => {
    expect(await ids('--since', '2h')).toEqual(['q-consult', 'q-commit', 'q-init']);
    expect(await ids('--since', '120m', '--source', 'emacs')).toEqual(['q-consult', 'q-init']);
    expect(await ids('--since', ago(120))).toEqual(['q-consult', 'q-commit', 'q-init']);
    expect(await ids('--until', ago(120))).toEqual(['q-helm', 'q-magit']);
    expect(await ids('--since', ago(240), '--until', '2h')).toEqual(['q-magit']);
    expect(await ids('--since', new Date(now - 7_200_000).toISOString().replace('Z', '+00:00'))).toEqual(['q-consult', 'q-commit', 'q-init']);
  });

  test('--text finds words and phrases of the free text', async () => {
    expect(await ids('--text', 'init.el')).toEqual(['q-init']);
    expect(await ids('--text', 'magit')).toEqual(['q-magit']);
    expect(await ids('--text', 'rejected')).toEqual(['q-commit']);
    expect(await ids('--action', 'package.*', '--text', 'consult')).toEqual(['q-consult']);
    expect(await ids('--text', 'nowhere-to-be-found')).toEqual([]);
  });

  test('--csv: a header, then one row per event; a reason with a comma, quotes or a newline is quoted (RFC 4180)', async () => {
    const { code, stdout } = await stele(['query', '--csv', '--dir', dir]);
    expect(code).toBe(0);
    const rows = parseCsv(stdout);
    expect(rows[0]).toEqual(['index', 'id', 'time', 'received', 'source', 'action', 'actor_id', 'actor_email', 'actor_name', 'actor_verified',
      'target_type', 'target_id', 'target_name', 'outcome', 'reason', 'host']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['q-consult', 'q-helm', 'q-commit', 'q-magit', 'q-init']);
    const byId = new Map(rows.slice(1).map((r) => [r[1], Object.fromEntries(rows[0]!.map((h, i) => [h, r[i]]))]));
    expect(byId.get('q-init')).toMatchObject({ index: '0', reason: 'tidy init, "quoted" and more', target_name: 'init.el', actor_name: 'Alice', actor_verified: 'false' });
    expect(byId.get('q-commit')).toMatchObject({ index: '2', reason: 'hook rejected\nsecond line', outcome: 'failure' });
    // The quoting itself, byte for byte.
    expect(stdout).toContain('"tidy init, ""quoted"" and more"');
  });

  test('bad --since, --until or --limit, and --json with --csv, exit 2', async () => {
    for (const args of [['--since', 'yesterday'], ['--since', '2025-02-30T00:00:00Z'], ['--until', '2025-06-02 12:00:00Z'], ['--limit', '0'], ['--limit', 'ten'], ['--json', '--csv']]) {
      const { code, stdout } = await stele(['query', '--dir', dir, ...args]);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
    }
  });
});

/** A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

interface ProofJson {
  index: number;
  id: string;
  size: number;
  leafHash: string;
  proof: string[];
  checkpoint: string;
  entry: Record<string, unknown>;
}

describe('proof', () => {
  let dir: string;
  let key: string;

  beforeAll(async () => {
    dir = join(tempDir('proof'), 'log');
    key = (await seedLog(dir, 600)).verifierKey;
  });

  /** Checks a proof with the log core alone: the note's signature, the leaf from the entry, the path to the root. */
  async function check(out: ProofJson): Promise<void> {
    const opened = await openNote(out.checkpoint, [await createVerifier(key)]);
    const cp = parseCheckpoint(opened.text);
    expect(cp.size).toBe(out.size);
    const leaf = hasher.hashLeaf(canonicalBytes(out.entry));
    expect(leaf).toEqual(fromBase64(out.leafHash));
    expect(out.entry).toMatchObject({ index: out.index, id: out.id });
    verifyInclusion(hasher, out.index, out.size, leaf, out.proof.map(fromBase64), cp.root);
  }

  test('--index N --json: the proof verifies with verifyInclusion against the signed checkpoint', async () => {
    for (const index of [0, 1, 255, 256, 511, 599]) {
      const { code, json } = await steleJson<ProofJson>(['proof', '--index', String(index), '--json', '--dir', dir]);
      expect(code).toBe(0);
      expect({ index: json.index, id: json.id, size: json.size }).toEqual({ index, id: seedId(index), size: 600 });
      await check(json);
    }
  });

  test('a proof with one hash changed does not verify (the check can fail)', async () => {
    const { json } = await steleJson<ProofJson>(['proof', '--index', '300', '--json', '--dir', dir]);
    const hashes = json.proof.map(fromBase64);
    hashes[1]![0]! ^= 1;
    const cp = parseCheckpoint((await openNote(json.checkpoint, [await createVerifier(key)])).text);
    expect(() => verifyInclusion(hasher, 300, 600, fromBase64(json.leafHash), hashes, cp.root)).toThrow(expect.objectContaining({ code: 'ERR_ROOT_MISMATCH' }));
  });

  test('--id ID finds the entry by its client id', async () => {
    const { code, json } = await steleJson<ProofJson>(['proof', '--id', seedId(123), '--json', '--dir', dir]);
    expect(code).toBe(0);
    expect(json.index).toBe(123);
    await check(json);
  });

  test('--size S of a history checkpoint proves against that checkpoint', async () => {
    const { code, json } = await steleJson<ProofJson>(['proof', '--index', '42', '--size', '300', '--json', '--dir', dir]);
    expect(code).toBe(0);
    expect(json.size).toBe(300);
    expect(json.checkpoint.split('\n')[1]).toBe('300');
    await check(json);
  });

  test('bad requests exit 2: no such index or id, a size without a checkpoint, an entry past the size, both or neither selector', async () => {
    for (const args of [['--index', '600'], ['--id', 'no-such-id'], ['--index', '1', '--size', '250'], ['--index', '400', '--size', '300'],
      ['--index', '1', '--id', seedId(1)], [], ['--index', '-1'], ['--index', '1', '--size', '0']]) {
      const { code, stdout } = await stele(['proof', '--json', '--dir', dir, ...args]);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
    }
  });
});

describe('usage', () => {
  test('an unknown command, an unknown flag, an extra argument or no command at all exits 2; --help exits 0', async () => {
    const dir = await newLog();
    for (const args of [['frobnicate'], ['verify', '--dir', dir, '--bogus'], ['query', '--dir', dir, 'extra'], ['key', '--dir', dir, '--json=yes'], []]) {
      const { code, stdout } = await stele(args);
      // No command prints the help to stdout; everything else prints nothing there.
      expect({ args, code, stdout: args.length === 0 ? '' : stdout }).toEqual({ args, code: 2, stdout: '' });
    }
    const help = await stele(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toBe('');
  });

  test('stele COMMAND --help and stele help COMMAND show that command and run nothing; stele help with an unknown name exits 2', async () => {
    const cwd = tempDir('help');
    for (const args of [['init', '--help'], ['init', '--dir', 'log', '-h'], ['help', 'init']]) {
      const { code, stdout, stderr } = await stele(args, { cwd });
      const lines = stdout.split('\n');
      expect({ args, code, stderr, init: lines.some((l) => l.startsWith('  init ')), others: lines.filter((l) => /^ {2}[a-z]/.test(l) && !l.startsWith('  init ')) }).toEqual({
        args, code: 0, stderr: '', init: true, others: [],
      });
    }
    // Nothing was created: neither ./stele-data nor ./log.
    expect(readdirSync(cwd)).toEqual([]);
    const unknown = await stele(['help', 'frobnicate'], { cwd });
    expect({ code: unknown.code, stdout: unknown.stdout, stderr: unknown.stderr.trim().split('\n').length }).toEqual({ code: 2, stdout: '', stderr: 1 });
  });
});

describe('the data directory: --dir, else $STELE_DIR, else ./stele-data, relative to the working directory', () => {
  test('--dir relative to the working directory', async () => {
    const cwd = tempDir('cwd');
    const { code, stdout } = await stele(['init', '--dir', 'rel/log'], { cwd });
    expect(code).toBe(0);
    expect(readFileSync(join(cwd, 'rel/log/verifier.key'), 'utf8').trim()).toBe(stdout.trim());
  });

  test('$STELE_DIR when there is no --dir, itself relative to the working directory', async () => {
    const cwd = tempDir('cwd');
    const init = await stele(['init'], { cwd, env: { STELE_DIR: 'from-env' } });
    expect(init.code).toBe(0);
    expect(existsSync(join(cwd, 'from-env/stele.db'))).toBe(true);
    expect(existsSync(join(cwd, 'stele-data'))).toBe(false);
    const key = await stele(['key'], { cwd, env: { STELE_DIR: join(cwd, 'from-env') } });
    expect(key.stdout).toBe(init.stdout);
  });

  test('./stele-data when there is neither', async () => {
    const cwd = tempDir('cwd');
    const init = await stele(['init'], { cwd });
    expect(init.code).toBe(0);
    expect(existsSync(join(cwd, 'stele-data/stele.db'))).toBe(true);
    expect((await stele(['key'], { cwd })).stdout).toBe(init.stdout);
  });

  test('--dir wins over $STELE_DIR', async () => {
    const cwd = tempDir('cwd');
    const init = await stele(['init', '--dir', 'flag'], { cwd, env: { STELE_DIR: 'env' } });
    expect(init.code).toBe(0);
    expect(existsSync(join(cwd, 'flag/stele.db'))).toBe(true);
    expect(existsSync(join(cwd, 'env'))).toBe(false);
    // And with $STELE_DIR pointing at nothing, --dir still finds the log.
    expect((await stele(['key', '--dir', join(cwd, 'flag')], { cwd, env: { STELE_DIR: join(cwd, 'env') } })).stdout).toBe(init.stdout);
  });
});

describe('export', () => {
  let dir: string;
  let out: string;
  let key: string;

  beforeAll(async () => {
    dir = join(tempDir('export'), 'log');
    out = join(tempDir('tiles'), 'tiles');
    key = (await seedLog(dir, 600)).verifierKey;
  });

  /** Every file under a directory, as relative paths with '/'. */
  function files(root: string): string[] {
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((d) => d.isFile())
      .map((d) => relative(root, join(d.parentPath, d.name)).split('\\').join('/'))
      .sort();
  }

  const pathsFor = (size: number): string[] => [
    ...tilesForSize(size).map(tilePath),
    ...bundlesForSize(size).map((b) => entriesPath(b.index, b.width)),
  ];

  /** The entries of the tree of `size`, read back from the exported bundles. */
  function exportedEntries(size: number): Uint8Array[] {
    return bundlesForSize(size).flatMap((b) => parseBundle(readFileSync(join(out, entriesPath(b.index, b.width))), b.width));
  }

  /** Checks the exported checkpoint, tiles and bundles of a tree of `size` with the log core. */
  async function checkExport(size: number): Promise<void> {
    const entries = exportedEntries(size);
    expect(entries).toHaveLength(size);
    entries.forEach((e, i) => expect(JSON.parse(new TextDecoder().decode(e))).toMatchObject({ index: i, id: seedId(i) }));
    const leaves = entries.map((e) => hasher.hashLeaf(e));

    // Level 0 holds leaf hashes; level 1 the hashes of full level-0 tiles (subtrees of 256 leaves).
    const levelHashes = [leaves];
    while (levelHashes.at(-1)!.length >= TILE_WIDTH) {
      const below = levelHashes.at(-1)!;
      levelHashes.push(Array.from({ length: Math.floor(below.length / TILE_WIDTH) }, (_, k) => hashNodes(hasher, below.slice(k * TILE_WIDTH, (k + 1) * TILE_WIDTH))));
    }
    for (const tile of tilesForSize(size)) {
      const bytes = readFileSync(join(out, tilePath(tile)));
      const start = tile.index * TILE_WIDTH;
      expect(parseTile(bytes, tile.width)).toHaveLength(tile.width);
      expect(new Uint8Array(bytes), tilePath(tile)).toEqual(concat(...levelHashes[tile.level]!.slice(start, start + tile.width)));
    }

    const opened = await openNote(readFileSync(join(out, 'checkpoint'), 'utf8'), [await createVerifier(key)]);
    const cp = parseCheckpoint(opened.text);
    const range = CompactRange.empty(hasher);
    for (const leaf of leaves) range.append(leaf);
    expect({ size: cp.size, root: cp.root }).toEqual({ size, root: range.root() });
  }

  test('writes exactly the tiles and bundles of a 600-entry tree and a checkpoint; they match the log core and the store', async () => {
    const { code, json } = await steleJson<{ out: string; size: number; written: number; skipped: number }>(['export', '--out', out, '--json', '--dir', dir]);
    expect(code).toBe(0);
    const expected = [...pathsFor(600), 'checkpoint'].sort();
    expect(expected).toEqual(['checkpoint', 'tile/0/000', 'tile/0/001', 'tile/0/002.p/88', 'tile/1/000.p/2', 'tile/entries/000', 'tile/entries/001', 'tile/entries/002.p/88']);
    expect(json).toEqual({ out, size: 600, written: expected.length, skipped: 0 });
    expect(files(out)).toEqual(expected);
    await checkExport(600);

    // The hash tiles are the store's own hashes, concatenated.
    const db = new Database(join(dir, 'stele.db'), { readonly: true });
    try {
      const leafHashes = db.prepare('SELECT leaf_hash FROM entries ORDER BY idx').pluck().all() as Buffer[];
      const level8 = db.prepare('SELECT hash FROM tree_hashes WHERE level = 8 ORDER BY idx').pluck().all() as Buffer[];
      expect(readFileSync(join(out, 'tile/0/001'))).toEqual(Buffer.concat(leafHashes.slice(256, 512)));
      expect(readFileSync(join(out, 'tile/0/002.p/88'))).toEqual(Buffer.concat(leafHashes.slice(512, 600)));
      expect(readFileSync(join(out, 'tile/1/000.p/2'))).toEqual(Buffer.concat(level8));
    } finally {
      db.close();
    }
  });

  test('a re-run after 300 more appends writes only the new files and leaves the full tiles untouched', async () => {
    expect(existsSync(join(out, 'checkpoint'))).toBe(true); // the previous test exported 600
    const full = ['tile/0/000', 'tile/0/001', 'tile/entries/000', 'tile/entries/001'];
    const before = new Map(full.map((p) => [p, statSync(join(out, p))]));
    const had = new Set(files(out));
    await seedLog(dir, 300, { from: 600 });

    const { code, json } = await steleJson<{ size: number; written: number; skipped: number }>(['export', '--out', out, '--json', '--dir', dir]);
    expect(code).toBe(0);
    const now = pathsFor(900);
    const fresh = now.filter((p) => !had.has(p));
    expect(fresh.sort()).toEqual(['tile/0/002', 'tile/0/003.p/132', 'tile/1/000.p/3', 'tile/entries/002', 'tile/entries/003.p/132']);
    expect(json).toMatchObject({ size: 900, written: fresh.length + 1, skipped: now.length - fresh.length });
    expect(json).toMatchObject({ written: 6, skipped: 4 });
    for (const [p, stat] of before) {
      const after = statSync(join(out, p));
      expect({ p, mtime: after.mtimeMs, ino: after.ino }).toEqual({ p, mtime: stat.mtimeMs, ino: stat.ino });
    }
    // Old partial tiles stay (C2SP allows it); nothing else, no temporary files.
    expect(files(out)).toEqual([...new Set([...had, ...now, 'checkpoint'])].sort());
    await checkExport(900);
    // Once more with nothing new: nothing is written, the checkpoint included.
    const again = await stele(['export', '--out', out, '--dir', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`exported 900 entries to ${out}: 0 files written, ${now.length + 1} already there\n`);
  });

  test('an --out that is, or lies under, a file exits 2 with one line naming the file', async () => {
    const blocker = join(tempDir('tiles'), 'a-file');
    writeFileSync(blocker, '');
    for (const out of [blocker, join(blocker, 'deeper', 'tiles')]) {
      const result = await stele(['export', '--dir', dir, '--out', out]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`stele export: --out ${out}: ${blocker} is not a directory\n`);
    }
    expect(readFileSync(blocker, 'utf8')).toBe('');
  });

  test('no --out, or an empty log, exits 2', async () => {
    expect((await stele(['export', '--dir', dir])).code).toBe(2);
    const empty = await newLog();
    expect((await stele(['export', '--dir', empty, '--out', join(tempDir('tiles'), 'x')])).code).toBe(2);
  });
});
