// Serves the built console (console/dist, Astro in middleware mode) on the API's port: pages are
// rendered by the Astro handler mounted with @fastify/middie, client assets come from dist/client
// with @fastify/static. Pages read through `locals.api`, an in-process GET of this same server's
// /api/v1 routes carrying the browser's cookie, so the console has no data path of its own.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import middie from '@fastify/middie';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger.ts';

export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/** No inline script or style, no other origin, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Paths the console does not own: the API and the platform endpoints. */
const NOT_CONSOLE = /^\/(api(\/|$)|health$|ready$|metrics$)/;

export function isConsolePath(url: string): boolean {
  return !NOT_CONSOLE.test(url.split('?')[0]);
}

export interface ConsoleApi {
  (path: string): Promise<{ status: number; body: unknown; text: string }>;
}

type AstroHandler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void, locals: object) => Promise<void>;

export async function serveConsole(app: FastifyInstance, opts: { log: Logger; dist?: string }): Promise<boolean> {
  const dist = opts.dist ?? CONSOLE_DIST;
  const entry = `${dist}server/entry.mjs`;
  if (!existsSync(entry)) {
    opts.log.warn({ dist }, 'the console is not built (npm run build -w console): / serves no pages');
    return false;
  }
  const { handler } = (await import(pathToFileURL(entry).href)) as { handler: AstroHandler };
  await app.register(middie);
  app.use((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    if (!isConsolePath(req.url ?? '/')) return next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'The console is read-only: its pages answer GET only.' } }));
      return;
    }
    const cookie = req.headers.cookie ?? '';
    const api: ConsoleApi = async (path) => {
      const response = await app.inject({ method: 'GET', url: path, headers: cookie ? { cookie } : {} });
      const text = response.body;
      const json = (response.headers['content-type'] ?? '').toString().includes('json');
      return { status: response.statusCode, body: json && text ? JSON.parse(text) : undefined, text };
    };
    void handler(req, res, next, { api });
  });
  await app.register(fastifyStatic, {
    root: `${dist}client`,
    prefix: '/',
    wildcard: true,
    index: false,
    setHeaders(reply, path) {
      reply.headers(SECURITY_HEADERS);
      // Files under _astro/ carry a content hash in their name: they never change.
      reply.header('cache-control', path.includes('/_astro/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
    },
  });
  return true;
}
