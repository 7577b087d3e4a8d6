// Checks the dependency ladder in package.json files: log has no runtime
// dependencies, store depends on log, archive on both, server on those three,
// cli on all four. ESLint checks the imports themselves (eslint.config.js);
// this checks what npm would install.
import { readFileSync } from 'node:fs';

const allowed = {
  log: [],
  store: ['@stele/log'],
  archive: ['@stele/log', '@stele/store'],
  server: ['@stele/log', '@stele/store', '@stele/archive'],
  cli: ['@stele/log', '@stele/store', '@stele/archive', '@stele/server'],
  web: ['@stele/log'],
};
let failed = false;
for (const [pkg, internal] of Object.entries(allowed)) {
  const manifest = JSON.parse(readFileSync(new URL(`../packages/${pkg}/package.json`, import.meta.url), 'utf8'));
  const deps = Object.keys(manifest.dependencies ?? {});
  if (pkg === 'log' && deps.length > 0) {
    console.error(`packages/log must have zero runtime dependencies, has: ${deps.join(', ')}`);
    failed = true;
  }
  for (const dep of deps.filter((d) => d.startsWith('@stele/'))) {
    if (!internal.includes(dep)) {
      console.error(`packages/${pkg} may not depend on ${dep} (log <- store <- archive <- server <- cli)`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
