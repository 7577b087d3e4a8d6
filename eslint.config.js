import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Dependencies flow one way: log <- store <- archive <- server <- cli. Each package may import only what is below it. */
const layer = (files, forbidden, extra = []) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        ...forbidden.map((name) => ({ group: [name, `${name}/*`], message: 'Dependencies flow one way: log <- store <- archive <- server <- cli (see docs/ARCHITECTURE.md).' })),
        ...extra,
      ],
    }],
  },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'stele-data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  layer(['packages/log/src/**'], ['@stele/store', '@stele/archive', '@stele/server', '@stele/cli'], [
    { group: ['node:*'], message: 'The log core runs in the browser too: no node:* imports.' },
  ]),
  layer(['packages/store/src/**'], ['@stele/archive', '@stele/server', '@stele/cli', 'fastify']),
  // The archive copies the log to S3; it serves no HTTP and runs no command.
  layer(['packages/archive/src/**'], ['@stele/server', '@stele/cli', 'fastify']),
  layer(['packages/server/src/**'], ['@stele/cli']),
  // The console runs in the browser and uses the log core only (its tests run in Node).
  layer(['packages/web/**'], ['@stele/store', '@stele/archive', '@stele/server', '@stele/cli', 'fastify'], [
    { group: ['node:*'], message: 'The console runs in the browser: no node:* imports.' },
  ]),
  { files: ['packages/web/src/**'], languageOptions: { globals: { ...globals.browser } } },
  layer(['packages/web/src/**/*.test.ts'], ['@stele/store', '@stele/archive', '@stele/server', '@stele/cli', 'fastify']),
  // Tests run in Node and read vectors from disk; only the shipped core must stay browser-clean.
  layer(['packages/log/src/**/*.test.ts', 'packages/log/src/testVectors.ts'], ['@stele/store', '@stele/archive', '@stele/server', '@stele/cli']),
);
