import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { docsPage, openApiDocument } from '../openapi.js';

/** Health, readiness, metrics and the API's own description. */
export function metaRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const { queued } = ctx.store.log.stats();
    const ready = !ctx.state.closing && queued < ctx.config.limits.queuedEvents;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : ctx.state.closing ? 'closing' : 'overloaded', size: ctx.store.log.size(), queued });
  });

  app.get('/metrics', { onRequest: ctx.guard('read', true) }, async (_request, reply) =>
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render()),
  );

  app.get('/openapi.json', async () => openApiDocument());
  app.get('/docs', async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(docsPage()));
}
