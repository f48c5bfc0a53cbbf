// HTTP front: POST /v1/graphql, GET /healthz, WebSocket upgrade on /v1/graphql, Hasura-style CORS, and the built
// dashboard as static files with SPA fallback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { isIP } from 'node:net';
import type { RequestOrigin } from './auth.js';
import type { Engine, RequestContext } from './engine.js';
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

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const isLoopback = (h: string) => LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || /^127\./.test(h);
const isWildcard = (h: string) => h === '0.0.0.0' || h === '::' || h === '';

/** Host header check against the bind address and the allow-list (names compared without port, case-insensitive). */
export function hostAllowed(hostHeader: string, bound: string, allowList: string[]): boolean {
  let name: string;
  try { name = new URL(`http://${hostHeader}`).hostname.toLowerCase(); } catch { return false; }
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  const b = bound.toLowerCase().replace(/^\[|\]$/g, '');
  if (allowList.includes('*') || allowList.map((x) => x.toLowerCase()).includes(name)) return true;
  if (name === b) return true;
  if ((isLoopback(b) || isWildcard(b)) && isLoopback(name)) return true;
  if (isWildcard(b) && isIP(name)) return true;
  return false;
}

export class HttpServer {
  readonly server: Server;
  private subs: Subscriptions;
  private boundHost = '127.0.0.1';

  constructor(private readonly engine: Engine) {
    this.subs = new Subscriptions(engine, (req) => this.originOf(req));
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [new HasuraError(`unexpected: ${(e as Error).message}`, 'unexpected').toJSON()] }));
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      const refused = this.hostRefusal(req);
      if (refused) {
        socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(refused)}\r\n\r\n${refused}`);
        return;
      }
      if (path === '/v1/graphql') this.subs.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  listen(port: number, host: string): Promise<{ port: number; host: string }> {
    this.boundHost = host;
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

  /**
   * DNS rebinding guard: a page on evil.example whose name is re-pointed at 127.0.0.1 reaches this server with
   * `Host: evil.example`. Only the bind address, loopback names when bound to loopback, IP literals when bound to
   * every interface, and the operator's --allowed-hosts are accepted. Returns the refusal text, or null.
   */
  hostRefusal(req: IncomingMessage): string | null {
    const host = req.headers.host;
    if (host === undefined) return null; // HTTP/1.0 without Host: not a browser
    const r = hostAllowed(host, this.boundHost, this.engine.config.allowedHosts);
    if (r) return null;
    this.engine.metrics.rejected.inc({ limit: 'host' });
    return `Host ${JSON.stringify(host)} is not allowed: this server answers to its bind address (${this.boundHost}); add the name to --allowed-hosts (EVENTSCOPE_CONSOLE_ALLOWED_HOSTS) if it is yours`;
  }

  /** Whether the request's Origin may be granted a role without a secret (see auth.ts). */
  originOf(req: IncomingMessage): RequestOrigin {
    const origin = req.headers.origin;
    if (origin === undefined) return { trusted: true };
    const cfg = this.engine.config;
    let same = false;
    try { same = new URL(origin).host === String(req.headers.host ?? '').toLowerCase(); } catch { same = false; }
    const listed = cfg.corsDomain.trim() !== '*' && corsAllows(cfg.corsDomain, origin);
    return { origin, trusted: same || listed };
  }

  /**
   * Hasura's CORS: with the default "*" any origin may read responses, but without credentials (a page can only
   * use what it already holds, e.g. an admin secret it was given); an explicit HASURA_GRAPHQL_CORS_DOMAIN list
   * reflects the allowed origin with credentials, as Hasura does.
   */
  private cors(req: IncomingMessage, res: ServerResponse): boolean {
    const cfg = this.engine.config;
    if (cfg.corsDisabled) return false;
    const origin = req.headers.origin;
    if (!origin) return false;
    if (cfg.corsDomain.trim() === '*') {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else {
      if (!corsAllows(cfg.corsDomain, origin)) return false;
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    res.setHeader('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE,OPTIONS');
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse) {
    const refused = this.hostRefusal(req);
    if (refused) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(refused);
      return;
    }
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
    if (path === '/metrics' && this.engine.config.enableMetrics && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = this.engine.metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
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
    const ctx: RequestContext = { headers: req.headers, from: this.originOf(req), remote: req.socket.remoteAddress };
    if (Array.isArray(body)) {
      // Batched requests (as Hasura): an array of responses in the same order.
      const max = this.engine.batchLimit(ctx);
      if (body.length > max) { reply(200, JSON.stringify({ errors: [new HasuraError(`too many operations in one batch (${body.length}; the limit is ${max})`, 'validation-failed').toJSON()] })); return; }
      const out: string[] = [];
      for (const b of body) out.push(await this.engine.handle(b, ctx));
      reply(200, `[${out.join(',')}]`);
      return;
    }
    reply(200, await this.engine.handle(body as never, ctx));
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
