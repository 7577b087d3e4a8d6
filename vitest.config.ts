import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@stele/log': src('log'),
      '@stele/store': src('store'),
      '@stele/archive': src('archive'),
      '@stele/server': src('server'),
      '@stele/cli': src('cli'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Collectors the tests start do not check their own logs unless a test asks (test/self-check.test.ts):
    // a log.verify event 10 s after a start would change what a longer test counts.
    env: { STELE_VERIFY_EVERY_SECONDS: '0' },
  },
});
