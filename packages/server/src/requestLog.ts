import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The collector's request log: one line per request, written when it
 * completes, with the request and the answer together. Fastify's default
 * writes two (one on arrival, one on completion); at the default `info` level
 * that second line was a tenth of an ingest request's cost.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error || this.isLogDisabled(request)) {
      super.requestCompleted(error, request, reply, metadata);
      return;
    }
    reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
