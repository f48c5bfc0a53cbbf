// Multiplexed live queries and streaming subscriptions, as Hasura runs them (Execute/Subscription/Poll): every
// subscription with the same role and the same compiled SQL shares one poller; subscribers whose parameters are
// equal form one cohort and share one result; each poll runs ONE statement per batch of cohorts, with the
// cohorts' parameters passed as a JSON array and unnested (`json_array_elements ... CROSS JOIN LATERAL (query)`).
// A cohort is pushed a result only when it changed. A `_stream` subscriber is its own cohort: its cursor parameter
// moves forward after every non-empty batch, and empty batches are not sent.
import { createHash } from 'node:crypto';
import type { Engine, Prepared, RoleLimits } from './engine.js';
import { asHasura } from './engine.js';

export interface LiveOptions { intervalMs: number; batchSize: number; streamIntervalMs: number; streamBatchSize: number; shareCohorts: boolean }

type Push = (payloadText: string) => void;

interface Cohort {
  key: string;
  params: unknown[];
  subscribers: Map<number, Push>;
  last?: string;       // last pushed result (live queries)
}

/** Postgres array literal for an array parameter, so every parameter travels as one JSON string. */
function pgArray(values: unknown[]): string {
  return `{${values.map((v) => (v === null || v === undefined ? 'NULL' : `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}
const asText = (v: unknown): string | null => (v === null || v === undefined ? null : Array.isArray(v) ? pgArray(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The statement with `$n::type` replaced by the n-th element of the cohort's parameter array. */
export function multiplexedSql(sql: string): string {
  const inner = sql.replace(/\$(\d+)::/g, (_m, n: string) => `(_v.p->>${Number(n) - 1})::`);
  return `SELECT _v.i::int AS i, _r.* FROM json_array_elements($1::json) WITH ORDINALITY AS _v(p, i) CROSS JOIN LATERAL (${inner}) AS _r`;
}

class Poller {
  readonly cohorts = new Map<string, Cohort>();
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private running = false;
  private readonly sql: string;
  readonly stream: boolean;

  constructor(private readonly owner: LiveQueries, readonly key: string, readonly prepared: Prepared, private readonly heavy: boolean) {
    this.sql = multiplexedSql(prepared.compiled.sql!);
    this.stream = !!prepared.compiled.stream;
    const every = Math.max(50, this.stream ? owner.opts.streamIntervalMs : owner.opts.intervalMs);
    this.timer = setInterval(() => void this.poll(), every);
  }

  /** A new subscriber gets the cohort's current result at once, else the next poll soon (coalescing arrivals). */
  add(c: Cohort, id: number, push: Push) {
    c.subscribers.set(id, push);
    if (c.last !== undefined && !this.stream) push(c.last);
    else if (!this.soon) this.soon = setTimeout(() => { this.soon = undefined; void this.poll(); }, 5);
  }

  stop() { clearInterval(this.timer); clearTimeout(this.soon); }

  async poll() {
    if (this.running || !this.cohorts.size) return;
    this.running = true;
    try {
      const all = [...this.cohorts.values()];
      const size = Math.max(1, this.stream ? this.owner.opts.streamBatchSize : this.owner.opts.batchSize);
      // At most half the pool's connections at a time (the heavy-lane share): early batches finish, and are
      // delivered, early instead of all batches sharing the CPU and finishing together at the end of the poll.
      const batches: Cohort[][] = [];
      for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size));
      let next = 0;
      const worker = async () => { while (next < batches.length) await this.runBatch(batches[next++]); };
      // Without multiplexing (the old behaviour, for comparison) every subscriber's statement is issued at once.
      const concurrency = this.owner.opts.shareCohorts ? Math.max(2, Math.floor(this.owner.engine.scheduler.limits.size / 2)) : batches.length;
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Cohort[], isolated = false): Promise<void> {
    const p = this.prepared;
    const vars = JSON.stringify(batch.map((c) => c.params.map(asText)));
    let rows: { i: number; data: string; cursor?: string | null }[];
    try {
      rows = await this.owner.engine.queryRows(this.sql, [vars], {
        clientKey: `live|${p.auth.role}`, limits: p.limits, role: p.auth.role, checkCost: false, heavy: this.heavy, internal: true,
        kind: this.stream ? 'stream_poll' : 'live_poll',
      });
    } catch (e) {
      // One cohort's parameters can fail the whole statement (e.g. a value that does not cast): isolate it.
      if (!isolated && batch.length > 1) { for (const c of batch) await this.runBatch([c], true); return; }
      const text = JSON.stringify({ errors: [asHasura(e).toJSON()] });
      for (const c of batch) this.deliver(c, text);
      return;
    }
    for (const r of rows) {
      const c = batch[r.i - 1];
      if (!c) continue;
      if (this.stream) {
        if (r.cursor == null) continue; // empty batch: nothing to send, cursor unchanged
        c.params[p.compiled.stream!.param] = r.cursor;
        this.deliver(c, `{"data":${r.data}}`);
      } else {
        const text = `{"data":${r.data}}`;
        if (text !== c.last) { c.last = text; this.deliver(c, text); }
      }
    }
  }

  private deliver(c: Cohort, text: string) {
    for (const push of c.subscribers.values()) push(text);
  }
}

export class LiveQueries {
  private pollers = new Map<string, Poller>();
  private nextId = 1;

  constructor(readonly engine: Engine, readonly opts: LiveOptions) {
    engine.metrics.gauge('eventscope_console_live_queries', 'live-query and streaming subscribers, pollers (one SQL shape each) and cohorts (one parameter set each)', () => {
      let subs = 0; let cohorts = 0;
      for (const p of this.pollers.values()) for (const c of p.cohorts.values()) { cohorts++; subs += c.subscribers.size; }
      return [[{ what: 'subscribers' }, subs], [{ what: 'pollers' }, this.pollers.size], [{ what: 'cohorts' }, cohorts]];
    });
  }

  /** Starts delivering results of a prepared subscription; returns the function that stops it. */
  subscribe(p: Prepared, heavy: boolean, push: Push): () => void {
    const sql = p.compiled.sql!;
    const pkey = createHash('sha1').update(`${p.auth.role}\n${sql}`).digest('hex');
    let poller = this.pollers.get(pkey);
    if (!poller) { poller = new Poller(this, pkey, p, heavy); this.pollers.set(pkey, poller); }
    const id = this.nextId++;
    // Streams diverge as their cursors move: one cohort per subscriber. Live queries share by parameters.
    const ckey = p.compiled.stream || !this.opts.shareCohorts ? `s${id}` : JSON.stringify(p.compiled.params);
    let cohort = poller.cohorts.get(ckey);
    if (!cohort) { cohort = { key: ckey, params: [...p.compiled.params], subscribers: new Map() }; poller.cohorts.set(ckey, cohort); }
    poller.add(cohort, id, push);
    const pl = poller;
    const c = cohort;
    return () => {
      c.subscribers.delete(id);
      if (!c.subscribers.size) pl.cohorts.delete(c.key);
      if (!pl.cohorts.size) { pl.stop(); this.pollers.delete(pkey); }
    };
  }

  close() { for (const p of this.pollers.values()) p.stop(); this.pollers.clear(); }
}

export type { RoleLimits };
