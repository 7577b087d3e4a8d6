import type { FastifyInstance } from 'fastify';
import { toBase64 } from '@stele/log';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';

/** A non-negative integer query parameter, or a 400 naming it. */
function integer(query: Record<string, string | undefined>, name: string, fallback?: number): number {
  const value = query[name];
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new ApiError(400, 'ERR_BAD_REQUEST', `${name} is required`);
  }
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new ApiError(400, 'ERR_BAD_REQUEST', `${name} must be a non-negative integer`);
  return Number(value);
}

/** RFC 6962 proofs, and what a client needs to check them. */
export function proofRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { log } = ctx.store;

  app.get('/v1/proof/inclusion', { onRequest: ctx.guard('read') }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const size = integer(query, 'size', log.size());
    const index = integer(query, 'index');
    if (size > log.size()) throw new ApiError(400, 'ERR_BAD_REQUEST', `size ${size} is beyond the log (size ${log.size()})`);
    if (index >= size) throw new ApiError(400, 'ERR_BAD_REQUEST', `index ${index} is not below size ${size}`);
    const latest = log.checkpoint();
    const latestSize = log.size();
    const [entry] = await log.driver.readMany([index]);
    const proof = await log.inclusionProof(index, size);
    const checkpoint = size === latestSize ? latest : (await log.checkpoints()).find((c) => c.size === size)?.note;
    return { index, size, leafHash: toBase64(entry!.leafHash), proof: proof.map(toBase64), checkpoint: checkpoint ?? null };
  });

  app.get('/v1/proof/consistency', { onRequest: ctx.guard('read') }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const to = integer(query, 'to', log.size());
    const from = integer(query, 'from');
    if (to > log.size()) throw new ApiError(400, 'ERR_BAD_REQUEST', `to ${to} is beyond the log (size ${log.size()})`);
    if (from > to) throw new ApiError(400, 'ERR_BAD_REQUEST', `from ${from} is larger than to ${to}`);
    const latest = log.size() === to ? log.checkpoint() : undefined;
    const proof = await log.consistencyProof(from, to);
    return { from, to, proof: proof.map(toBase64), checkpoint: latest ?? null };
  });

  app.get('/v1/log', { onRequest: ctx.guard('read', ctx.config.publicTiles) }, async () => ({
    origin: log.origin,
    verifierKey: ctx.store.verifierKey,
    size: log.size(),
    checkpoint: log.checkpoint() ?? null,
    selfCheck: ctx.state.selfCheck ?? null,
  }));
}
