import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The web console's built files (packages/web/dist) at `/`. The page and its
 * assets are public; every piece of data it shows comes from the API with the
 * reader's token. Only the files that exist at start are served (no wildcard),
 * so the API's routes and its 404s are untouched.
 */
export function consoleRoutes(app: FastifyInstance, dir: string | undefined, idpOrigins: string[] = []): void {
  // Signing in exchanges the authorization code at the issuer's token endpoint from the page itself.
  const connect = ["'self'", ...idpOrigins].join(' ');
  if (dir === undefined || !existsSync(join(dir, 'index.html'))) return;
  app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    setHeaders(res, path) {
      // The console runs only its own code: no inline scripts, no third-party origins. The offline
      // evidence verifier is one file with its script inlined (its own meta CSP pins it by hash) and
      // may make no request at all.
      res.setHeader('content-security-policy', path.endsWith('verify-bundle.html')
        ? "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        : `default-src 'self'; connect-src ${connect}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`);
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });
}
