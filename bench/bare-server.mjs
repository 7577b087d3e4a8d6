// The HTTP ceiling: a bare Fastify route that parses the same body as
// POST /v1/events and answers without storing anything. Prints its URL.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
  try {
    done(null, JSON.parse(body));
  } catch (err) {
    done(err, undefined);
  }
});
app.post('/v1/events', async (request, reply) => {
  const events = Array.isArray(request.body) ? request.body : [request.body];
  return reply.code(201).send({ entries: events.map((_, index) => ({ index })) });
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(url + '\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
