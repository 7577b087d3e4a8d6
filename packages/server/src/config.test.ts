/**
 * The collector's configuration: defaults < file < STELE_* environment < flags,
 * unknown settings and wrong types refused with ConfigError (ERR_CONFIG), and
 * TOML and JSON files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, isLoopback, publicConfig, readConfigFile, resolveConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'stele-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file in the temporary directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The code of what `fn` throws (ConfigError only). */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).code;
  }
  return undefined;
}

describe('resolveConfig', () => {
  test('no layers: the defaults, as a copy', () => {
    const config = resolveConfig({});
    expect(config).toEqual(DEFAULT_CONFIG);
    config.limits.bodyBytes = 1;
    expect(DEFAULT_CONFIG.limits.bodyBytes).toBe(16 * 1024 * 1024);
  });

  test('precedence: file < environment < flags, per setting', () => {
    const fileLayer = { host: 'localhost', port: 1000, logLevel: 'warn', limits: { bodyBytes: 2048, eventsPerRequest: 7 } };
    const env = { STELE_PORT: '2000', STELE_LIMITS_BODY_BYTES: '4096', STELE_LOG_LEVEL: 'debug', UNRELATED: 'x' };
    const flags = { port: '3000', logLevel: 'error' };
    expect(resolveConfig({ file: fileLayer })).toMatchObject({ host: 'localhost', port: 1000, logLevel: 'warn', limits: { bodyBytes: 2048, eventsPerRequest: 7 } });
    expect(resolveConfig({ file: fileLayer, env })).toMatchObject({ host: 'localhost', port: 2000, logLevel: 'debug', limits: { bodyBytes: 4096, eventsPerRequest: 7 } });
    const all = resolveConfig({ file: fileLayer, env, flags });
    expect(all).toMatchObject({ host: 'localhost', port: 3000, logLevel: 'error', limits: { bodyBytes: 4096, eventsPerRequest: 7 } });
    // A nested layer keeps the sibling settings it does not name.
    expect(all.limits.queuedEvents).toBe(DEFAULT_CONFIG.limits.queuedEvents);
  });

  test('every STELE_* variable reaches its setting; empty ones are ignored', () => {
    const config = resolveConfig({
      env: {
        STELE_DIR: '/srv/stele', STELE_HOST: '::1', STELE_PORT: '0', STELE_AUTH: 'off', STELE_PUBLIC_TILES: 'yes',
        STELE_TLS_CERT: '/c.pem', STELE_TLS_KEY: '/k.pem', STELE_LIMITS_EVENTS_PER_REQUEST: '5', STELE_LIMITS_BODY_BYTES: '1024',
        STELE_LIMITS_QUEUED_EVENTS: '50', STELE_LIMITS_REQUEST_TIMEOUT_MS: '1500', STELE_LOG_LEVEL: '', STELE_VERIFY_EVERY_SECONDS: '3600',
      },
    });
    expect(config).toEqual({
      dir: '/srv/stele', host: '::1', port: 0, auth: false, publicTiles: true, tls: { cert: '/c.pem', key: '/k.pem' },
      limits: { eventsPerRequest: 5, bodyBytes: 1024, queuedEvents: 50, requestTimeoutMs: 1500 }, logLevel: 'info', oidc: { issuers: [] },
      sources: DEFAULT_CONFIG.sources, identities: [], archive: DEFAULT_CONFIG.archive, verify: { everySeconds: 3600 },
    });
  });

  test('booleans from strings', () => {
    for (const [text, value] of [['true', true], ['1', true], ['YES', true], ['on', true], ['false', false], ['0', false], ['no', false], ['Off', false]] as const) {
      expect(resolveConfig({ env: { STELE_AUTH: text } }).auth, text).toBe(value);
    }
  });

  test('unknown settings: ERR_CONFIG, at any level and in any layer', () => {
    expect(codeOf(() => resolveConfig({ file: { prot: 80 } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { limits: { bodyByte: 1 } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { tls: { certificate: 'x' } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ flags: { verbose: true } }))).toBe('ERR_CONFIG');
  });

  test('wrong types: ERR_CONFIG', () => {
    const bad: Parameters<typeof resolveConfig>[0][] = [
      { file: { port: 'eighty' } },
      { file: { port: true } },
      { file: { auth: 'maybe' } },
      { file: { auth: 1 } },
      { file: { host: 127 } },
      { file: { limits: 5 } },
      { file: { limits: null } },
      { file: { tls: 'on' } },
      { file: { limits: { bodyBytes: '1MB' } } },
      { env: { STELE_PORT: 'http' } },
      { env: { STELE_PORT: '-1' } },
      { env: { STELE_AUTH: 'maybe' } },
      { env: { STELE_LIMITS_QUEUED_EVENTS: '1e5' } },
      { env: { STELE_PUBLIC_TILE: 'true' } },
      { flags: { port: '80.5' } },
    ];
    for (const layers of bad) expect(codeOf(() => resolveConfig(layers)), JSON.stringify(layers)).toBe('ERR_CONFIG');
  });

  test("variables other parts of Stele read are no mistake in the collector's environment", () => {
    const env = { STELE_TOKEN: 't', STELE_SERVER: 'http://127.0.0.1:8080', STELE_TEST_S3_ENDPOINT: 'x', STELE_GIT_HOOK_FOREGROUND: '1', STELE_PORT: '9000', HOME: '/root' };
    expect(resolveConfig({ env }).port).toBe(9000);
  });

  test('values out of range, and TLS with only one of cert and key: ERR_CONFIG', () => {
    expect(codeOf(() => resolveConfig({ env: { STELE_PORT: '65536' } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { port: -1 } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { limits: { eventsPerRequest: 0 } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ flags: { tls: { cert: '/c.pem' } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ env: { STELE_TLS_KEY: '/k.pem' } }))).toBe('ERR_CONFIG');
    expect(resolveConfig({ file: { tls: { cert: '/c.pem' } }, env: { STELE_TLS_KEY: '/k.pem' } }).tls).toEqual({ cert: '/c.pem', key: '/k.pem' });
  });

  test('fractional and negative numbers from a file: ERR_CONFIG', () => {
    expect(codeOf(() => resolveConfig({ file: { port: 80.5 } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { limits: { bodyBytes: -1 } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { limits: { queuedEvents: 0 } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { limits: { requestTimeoutMs: -5 } } }))).toBe('ERR_CONFIG');
  });
});

describe('readConfigFile', () => {
  test('TOML, with tables, resolved like any layer', () => {
    const path = file('stele.toml', [
      'host = "localhost"', 'port = 8443', 'publicTiles = true', '', '[tls]', 'cert = "/etc/stele/tls.crt"', 'key = "/etc/stele/tls.key"',
      '', '[limits]', 'eventsPerRequest = 5000', '',
    ].join('\n'));
    const config = resolveConfig({ file: readConfigFile(path) });
    expect(config).toMatchObject({ host: 'localhost', port: 8443, publicTiles: true, tls: { cert: '/etc/stele/tls.crt', key: '/etc/stele/tls.key' }, limits: { eventsPerRequest: 5000 } });
  });

  test('JSON (any other extension)', () => {
    const path = file('stele.json', JSON.stringify({ auth: false, limits: { requestTimeoutMs: 1000 } }));
    expect(resolveConfig({ file: readConfigFile(path) })).toMatchObject({ auth: false, limits: { requestTimeoutMs: 1000 } });
  });

  test('an unknown key in a file: ERR_CONFIG when resolved', () => {
    const path = file('unknown.toml', '[limits]\nbodyBytez = 1\n');
    expect(codeOf(() => resolveConfig({ file: readConfigFile(path) }))).toBe('ERR_CONFIG');
  });

  test('missing or unparsable files: ERR_CONFIG', () => {
    expect(codeOf(() => readConfigFile(join(dir, 'absent.toml')))).toBe('ERR_CONFIG');
    expect(codeOf(() => readConfigFile(file('bad.toml', 'port = = 1\n')))).toBe('ERR_CONFIG');
    expect(codeOf(() => readConfigFile(file('bad.json', '{"port": 1,')))).toBe('ERR_CONFIG');
  });

  test('a TOML file that does not parse is named with the line and column', () => {
    expect(() => readConfigFile(file('where.toml', 'port = 8080\nhost = "a"\nfoo = bar\n'))).toThrow(/where\.toml does not parse at line 3, column 7: /);
  });
});

describe('helpers', () => {
  test('isLoopback', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', '127.0.0.1.example.com']) expect(isLoopback(host), host).toBe(false);
  });

  test('publicConfig hides the TLS file paths', () => {
    const shown = publicConfig(resolveConfig({ flags: { tls: { cert: '/secret/c.pem', key: '/secret/k.pem' } } }));
    expect(shown.tls).toEqual({ enabled: true });
    expect(JSON.stringify(shown)).not.toContain('/secret/');
  });
});
