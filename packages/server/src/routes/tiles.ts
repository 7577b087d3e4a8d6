import type { FastifyInstance } from 'fastify';
import { LogError, TILE_WIDTH, encodeBundle, encodeTile, parseTilePath } from '@stele/log';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';

/**
 * How long a file may be cached, and by whom. A full tile never changes; a
 * partial tile (its width is in its path) and the checkpoint change as the
 * log grows, so they live a few seconds. A file any anonymous reader may
 * fetch is `public`; one that needs a credential is `private`: a shared
 * cache must not hand confidential audit data to the next asker (RFC 9111
 * section 3.5 lets it when the response says `public`).
 */
function cacheControl(full: boolean, open: boolean): string {
  return `${open ? 'public' : 'private'}, ${full ? 'max-age=31536000, immutable' : 'max-age=5'}`;
}

/**
 * The static C2SP tlog-tiles API under /log/: the same files `stele export`
 * writes, so any tlog-tiles client can verify the log from them alone.
 */
export function tileRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { log } = ctx.store;
  const open = ctx.config.publicTiles;

  app.get('/log/checkpoint', { onRequest: ctx.guard('read', open) }, async (_request, reply) => {
    const checkpoint = log.checkpoint();
    if (checkpoint === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', 'the log is empty: no checkpoint yet');
    return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', cacheControl(false, open)).send(checkpoint);
  });

  // Entry bundles hold the events themselves: never anonymous.
  app.get('/log/tile/entries/*', { onRequest: ctx.guard('read') }, async (request, reply) => {
    const path = `tile/entries/${(request.params as { '*': string })['*']}`;
    const parsed = parse(path);
    if (parsed.kind !== 'entries') throw notFound(path);
    const start = parsed.index * TILE_WIDTH;
    if (start + parsed.width > log.size()) throw notFound(path);
    const entries = await log.driver.readEntries(start, start + parsed.width);
    return send(reply, encodeBundle(entries.map((e) => e.bytes)), cacheControl(parsed.width === TILE_WIDTH, false));
  });

  app.get('/log/tile/*', { onRequest: ctx.guard('read', open) }, async (request, reply) => {
    const path = `tile/${(request.params as { '*': string })['*']}`;
    const parsed = parse(path);
    if (parsed.kind !== 'hash') throw notFound(path);
    const { level, index, width } = parsed.tile;
    const available = Math.floor(log.size() / TILE_WIDTH ** level);
    const start = index * TILE_WIDTH;
    if (start + width > available) throw notFound(path);
    const hashes = await log.driver.readHashes(level * 8, start, start + width);
    return send(reply, encodeTile(hashes), cacheControl(width === TILE_WIDTH, open));
  });
}

function parse(path: string) {
  try {
    return parseTilePath(path);
  } catch (err) {
    if (err instanceof LogError) throw notFound(path);
    throw err;
  }
}

const notFound = (path: string) => new ApiError(404, 'ERR_NOT_FOUND', `no such tile: ${path}`);

function send(reply: import('fastify').FastifyReply, bytes: Uint8Array, cache: string) {
  return reply
    .header('content-type', 'application/octet-stream')
    .header('cache-control', cache)
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
