// Prints, for each JSON value of the JSON Lines file named by the first
// argument, its RFC 8785 canonical JSON as the project's own canonicalizer
// (@stele/log, built) writes it: one JSON string per line.
import { readFileSync } from 'node:fs';
import { canonicalize } from '../../packages/log/dist/index.js';

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim() !== '');
for (const line of lines) process.stdout.write(JSON.stringify(canonicalize(JSON.parse(line))) + '\n');
