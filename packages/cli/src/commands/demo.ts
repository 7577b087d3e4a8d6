import { hasStore, initStore, openStore } from '@stele/store';
import { incidentEvents } from '../demo/incident.js';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';

/**
 * `stele demo [--dir D] [--json]`: create a fresh log holding a realistic
 * incident (INC-42: Emacs saves, a sudo edit with its reason, a package
 * install, a Kubernetes exec and secret read, an IAM key, a Slack approval and
 * a force-push), so the console has something true to show. Refuses a
 * directory that already holds a log.
 */
export async function demo(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { ...DIR_OPTION, json: { type: 'boolean' } });
  const dir = dataDir(io, values.dir);
  if (hasStore(dir)) throw new UsageError(`${dir} already holds a log: stele demo fills a fresh one (pass --dir)`);
  const { origin, verifierKey } = await initStore(dir, 'demo.stele.example/incident');
  const store = await openStore(dir);
  let size: number;
  let count: number;
  try {
    const events = incidentEvents(Date.now());
    count = events.length;
    size = (await store.log.append(events, { submitter: { type: 'token', id: 'demo', name: 'stele demo' } })).size;
  } finally {
    await store.log.close();
  }
  if (values.json) io.stdout(JSON.stringify({ dir, origin, verifierKey, events: count, size }) + '\n');
  io.stderr(
    `stele demo: wrote ${count} events of incident INC-42 to ${origin} in ${dir}\n` +
      `  npx stele serve --dir ${dir}\n` +
      `  npx stele token create --dir ${dir} --name console --scope read   # paste it into the console\n` +
      `  open http://127.0.0.1:8080/ and search: ticket:INC-42, or since:12h\n`,
  );
  return EXIT.ok;
}
