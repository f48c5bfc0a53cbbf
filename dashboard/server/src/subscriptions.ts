// Subscriptions over WebSocket on /v1/graphql, in both protocols Hasura speaks: `graphql-transport-ws` (the
// graphql-ws library) and the legacy Apollo `graphql-ws` (subscriptions-transport-ws). Live queries and `_stream`
// subscriptions are checked once (EXPLAIN cost) and then handed to the multiplexed pollers of livequery.ts.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { asHasura, type Engine, type Prepared, type RequestContext } from './engine.js';
import { LiveQueries } from './livequery.js';
import type { Headers, RequestOrigin } from './auth.js';

const MODERN = 'graphql-transport-ws';
const LEGACY = 'graphql-ws';

interface Sub { timer?: NodeJS.Timeout; last?: string; running: boolean; stopped: boolean; unsubscribe?: () => void }

export class Subscriptions {
  private wss: WebSocketServer;
  readonly live: LiveQueries;
  constructor(private readonly engine: Engine, private readonly originOf: (req: IncomingMessage) => RequestOrigin) {
    const c = engine.config;
    this.live = new LiveQueries(engine, {
      intervalMs: c.refetchIntervalMs, batchSize: c.liveQueriesMultiplexing ? c.liveQueryBatchSize : 1,
      streamIntervalMs: c.streamRefetchIntervalMs, streamBatchSize: c.streamBatchSize, shareCohorts: c.liveQueriesMultiplexing,
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: engine.config.bodyLimitBytes,
      handleProtocols: (protocols) => (protocols.has(MODERN) ? MODERN : protocols.has(LEGACY) ? LEGACY : protocols.values().next().value ?? false),
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connection(ws, req));
  }

  close() {
    this.live.close();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }

  private connection(ws: WebSocket, req: IncomingMessage) {
    const modern = ws.protocol === MODERN;
    const subs = new Map<string, Sub>();
    let headers: Headers | null = null;
    // Browsers send Origin on WebSocket upgrades and no CORS applies: the origin rule of auth.ts is the only guard.
    const from = this.originOf(req);
    const ctx = (h: Headers): RequestContext => ({ headers: h, from, remote: req.socket.remoteAddress });
    let ka: NodeJS.Timeout | undefined;
    const send = (m: unknown) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m)); };
    const initTimer = setTimeout(() => { if (!headers) ws.close(4408, 'Connection initialisation timeout'); }, 3000);
    const stopAll = () => {
      clearTimeout(initTimer);
      if (ka) clearInterval(ka);
      for (const s of subs.values()) { s.stopped = true; if (s.timer) clearInterval(s.timer); s.unsubscribe?.(); }
      subs.clear();
    };
    ws.on('close', stopAll);
    ws.on('error', stopAll);

    // graphql-transport-ws: a list of GraphQL errors; legacy graphql-ws: {errors: [...]} (as Hasura sends it).
    const errorPayload = (e: unknown) => {
      const he = asHasura(e).toJSON();
      return modern ? [he] : { errors: [he] };
    };

    const start = async (id: string, payload: { query?: unknown; variables?: unknown; operationName?: unknown }) => {
      let prepared: Prepared;
      const fail = (e: unknown) => {
        const he = asHasura(e);
        this.engine.countError(he, 'ws');
        subs.delete(id);
        send({ type: 'error', id, payload: errorPayload(he) });
      };
      try {
        prepared = this.engine.prepare(payload ?? {}, ctx(headers!));
      } catch (e) { fail(e); return; }
      const sub: Sub = { running: false, stopped: false };
      subs.set(id, sub);
      const dataType = modern ? 'next' : 'data';
      const push = (text: string) => { if (!sub.stopped && ws.readyState === ws.OPEN) ws.send(`{"type":"${dataType}","id":${JSON.stringify(id)},"payload":${text}}`); };
      if (prepared.operation.operation !== 'subscription') {
        // Queries over the socket: one result, then complete.
        let text: string;
        try { text = await this.engine.run(prepared); this.engine.metrics.requests.inc({ transport: 'ws', outcome: 'ok' }); } catch (e) {
          const he = asHasura(e);
          this.engine.countError(he, 'ws');
          text = JSON.stringify({ errors: [he.toJSON()] });
        }
        push(text);
        subs.delete(id);
        send({ type: 'complete', id });
        return;
      }
      let heavy: boolean;
      try { heavy = await this.engine.checkCost(prepared); } catch (e) { fail(e); return; }
      if (sub.stopped) return;
      this.engine.metrics.requests.inc({ transport: 'ws', outcome: 'ok' });
      if (!prepared.compiled.introspection.length && prepared.compiled.sql) {
        sub.unsubscribe = this.live.subscribe(prepared, heavy, push);
        return;
      }
      // Introspection inside a subscription: re-run on its own (graphql-js answers part of it).
      const once = async () => {
        if (sub.running || sub.stopped) return;
        sub.running = true;
        let text: string;
        try { text = await this.engine.run(prepared, { checkCost: false }); } catch (e) { text = JSON.stringify({ errors: [asHasura(e).toJSON()] }); }
        sub.running = false;
        if (sub.stopped || text === sub.last) return;
        sub.last = text;
        push(text);
      };
      void once();
      sub.timer = setInterval(() => void once(), Math.max(50, this.engine.config.refetchIntervalMs));
    };
    const stop = (id: string) => {
      const s = subs.get(id);
      if (!s) return false;
      s.stopped = true;
      if (s.timer) clearInterval(s.timer);
      s.unsubscribe?.();
      subs.delete(id);
      return true;
    };

    ws.on('message', (raw) => {
      let msg: { type?: string; id?: string; payload?: Record<string, unknown> };
      try { msg = JSON.parse(String(raw)); } catch {
        if (modern) ws.close(4400, 'Invalid message received'); else send({ type: 'connection_error', payload: 'parsing ClientMessage failed' });
        return;
      }
      const type = msg?.type;
      if (type === 'connection_init') {
        if (headers) { if (modern) ws.close(4429, 'Too many initialisation requests'); return; }
        const p = (msg.payload ?? {}) as Record<string, unknown>;
        const fromPayload = (p.headers && typeof p.headers === 'object' ? p.headers : p) as Record<string, unknown>;
        const h: Headers = {};
        for (const [k, v] of Object.entries(req.headers)) if (!k.toLowerCase().startsWith('x-hasura-')) h[k] = v as string;
        for (const [k, v] of Object.entries(fromPayload)) if (typeof v === 'string') h[k] = v;
        try {
          this.engine.prepare({ query: '{__typename}' }, ctx(h)); // authenticates now, as Hasura does at init
        } catch (e) {
          const he = asHasura(e);
          if (modern) ws.close(4403, 'Forbidden');
          else { send({ type: 'connection_error', payload: { message: he.message } }); ws.close(1000); }
          return;
        }
        headers = h;
        clearTimeout(initTimer);
        send({ type: 'connection_ack' });
        if (!modern) {
          send({ type: 'ka' });
          ka = setInterval(() => send({ type: 'ka' }), Math.max(1, this.engine.config.keepAliveSeconds) * 1000);
        }
        return;
      }
      if (modern && type === 'ping') { send({ type: 'pong' }); return; }
      if (modern && type === 'pong') return;
      if (!modern && type === 'connection_terminate') { ws.close(1000); return; }
      if ((modern && type === 'subscribe') || (!modern && type === 'start')) {
        if (!headers) { if (modern) ws.close(4401, 'Unauthorized'); else send({ type: 'connection_error', payload: { message: 'connection not initialised' } }); return; }
        if (typeof msg.id !== 'string' || !msg.id) { if (modern) ws.close(4400, 'Invalid message received'); return; }
        if (subs.has(msg.id)) {
          if (modern) ws.close(4409, `Subscriber for ${msg.id} already exists`);
          else send({ type: 'error', id: msg.id, payload: { message: `an operation already exists with this id: ${msg.id}` } });
          return;
        }
        void start(msg.id, (msg.payload ?? {}) as never);
        return;
      }
      if ((modern && type === 'complete') || (!modern && type === 'stop')) {
        // Hasura: a stop without an id is a protocol error; a stopped operation gets no further message.
        if (typeof msg.id !== 'string') { if (modern) ws.close(4400, 'Invalid message received'); else send({ type: 'connection_error', payload: 'parsing ClientMessage failed' }); return; }
        stop(msg.id);
        return;
      }
      if (modern) ws.close(4400, `Invalid message received`);
      else send({ type: 'connection_error', payload: `unknown message type ${String(type)}` });
    });
  }
}
