// HTTP front: POST /v1/graphql, GET /healthz, WebSocket upgrade on /v1/graphql, Hasura-style CORS, and the built
// dashboard as static files with SPA fallback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Engine } from './engine.js';
import { HasuraError } from './errors.js';
import { Subscriptions } from './subscriptions.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2', '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

/** Origin check: "*" allows all; otherwise exact entries or `scheme://*.domain[:port]` wildcards (Hasura's format). */
export function corsAllows(domain: string, origin: string): boolean {
  if (domain.trim() === '*') return true;
  return domain.split(',').map((s) => s.trim()).filter(Boolean).some((d) => {
    if (d === origin) return true;
    const m = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.+)$/i.exec(d);
    if (!m) return false;
    const [, scheme, rest] = m;
    if (!origin.toLowerCase().startsWith(scheme.toLowerCase())) return false;
    const host = origin.slice(scheme.length);
    return host.toLowerCase().endsWith(`.${rest.toLowerCase()}`) && host.length > rest.length + 1;
  });
}

export class HttpServer {
  readonly server: Server;
  private subs: Subscriptions;

  constructor(private readonly engine: Engine) {
    this.subs = new Subscriptions(engine);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [new HasuraError(`unexpected: ${(e as Error).message}`, 'unexpected').toJSON()] }));
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/v1/graphql' || path === '/v1beta1/relay') this.subs.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  listen(port: number, host: string): Promise<{ port: number; host: string }> {
    return new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        res({ port: typeof a === 'object' && a ? a.port : port, host });
      });
    });
  }

  async close() {
    this.subs.close();
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private cors(req: IncomingMessage, res: ServerResponse): boolean {
    const cfg = this.engine.config;
    if (cfg.corsDisabled) return false;
    const origin = req.headers.origin;
    if (!origin || !corsAllows(cfg.corsDomain, origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE,OPTIONS');
    res.setHeader('Vary', 'Origin');
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const allowed = this.cors(req, res);
    if (req.method === 'OPTIONS') {
      if (allowed) {
        const rh = req.headers['access-control-request-headers'];
        if (rh) res.setHeader('Access-Control-Allow-Headers', rh);
        res.setHeader('Access-Control-Max-Age', '1728000');
      }
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/healthz' || path === '/hasura/healthz') {
      const ok = await this.engine.healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'OK' : 'ERROR');
      return;
    }
    if (path === '/v1/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version: 'v2.x-compatible (eventscope console server)' }));
      return;
    }
    if (path === '/v1/graphql') {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'POST' });
        res.end(JSON.stringify({ errors: [new HasuraError('only POST is allowed on /v1/graphql (or a WebSocket upgrade)', 'bad-request').toJSON()] }));
        return;
      }
      await this.graphql(req, res);
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') return this.static(req, res, path);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  private async graphql(req: IncomingMessage, res: ServerResponse) {
    const limit = this.engine.config.bodyLimitBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    await new Promise<void>((resolveBody, reject) => {
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) { tooBig = true; return; } // keep draining so the client sees the answer, not a reset
        chunks.push(c);
      });
      req.on('end', () => resolveBody());
      req.on('error', reject);
    });
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (tooBig) {
      reply(413, JSON.stringify({ errors: [new HasuraError(`request body exceeds ${limit} bytes`, 'bad-request').toJSON()] }));
      return;
    }
    let body: unknown;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) {
      reply(200, JSON.stringify({ errors: [new HasuraError(`Error in $: ${(e as Error).message}`, 'parse-failed').toJSON()] }));
      return;
    }
    if (Array.isArray(body)) {
      // Batched requests (as Hasura): an array of responses in the same order.
      if (body.length > 50) { reply(200, JSON.stringify({ errors: [new HasuraError('too many operations in one batch (max 50)', 'bad-request').toJSON()] })); return; }
      const out: string[] = [];
      for (const b of body) out.push(await this.engine.handle(b, req.headers));
      reply(200, `[${out.join(',')}]`);
      return;
    }
    reply(200, await this.engine.handle(body as never, req.headers));
  }

  private static(req: IncomingMessage, res: ServerResponse, path: string) {
    const root = this.engine.config.staticDir;
    const notFound = () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(root ? `dashboard not built: ${join(root, 'index.html')} is missing (run the dashboard build)` : 'not found');
    };
    if (!root) return notFound();
    const rootAbs = resolve(root);
    let rel: string;
    try { rel = decodeURIComponent(path); } catch { return notFound(); }
    const file = normalize(join(rootAbs, rel));
    const inside = file === rootAbs || file.startsWith(rootAbs + sep);
    const sendFile = (f: string, cache: string) => {
      const st = statSync(f);
      res.writeHead(200, { 'content-type': TYPES[extname(f).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': cache });
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(f).pipe(res);
    };
    try {
      if (inside && statSync(file).isFile()) {
        return sendFile(file, rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      }
    } catch { /* fall through to the SPA fallback */ }
    // SPA fallback: client-side routes get index.html. Deep links may end in something that looks like an
    // extension (/chains/ann@example.com), so only a missing built asset, or a non-navigation request for a
    // file-like path, stays a 404.
    const navigation = String(req.headers.accept ?? '').includes('text/html');
    if (rel.startsWith('/assets/') || (extname(rel) && !rel.endsWith('.html') && !navigation)) return notFound();
    try { return sendFile(join(rootAbs, 'index.html'), 'no-cache'); } catch { return notFound(); }
  }
}
