import type { Readable } from 'node:stream';

/** Where a command reads and writes: the process, or a test's buffers. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: Readable;
  /** True when stderr is a terminal (progress bars). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The real process's streams. */
export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: process.stdin,
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exit codes: 0 ok, 1 a failed check, 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
