import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/** `GET /v1/devices` (scope read): every enrolled device, its user, last seen, last sequence, gaps. */
export function deviceRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/v1/devices', { onRequest: ctx.guard('read') }, async () => {
    const devices = (ctx.devices?.list() ?? []).map((d) => ({
      id: d.id,
      user: d.user,
      ...(d.submitter && { submitter: d.submitter }),
      firstSeen: d.firstSeen,
      lastSeen: d.lastSeen,
      lastSeq: d.lastSeq,
      lastIndex: d.lastIndex,
      events: d.events,
      gaps: d.gaps,
      late: d.late,
    }));
    return { devices };
  });
}
