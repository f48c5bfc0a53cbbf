// Fair access to the connection pool. Without it one client with a dozen slow queries holds every connection and
// a trivial query waits for the slowest of them (issue 15, item 8). Three rules, checked whenever a connection is
// free: a client (remote address + role) holds at most `perClient` connections; requests whose EXPLAIN cost is
// "heavy" hold at most `heavy` connections together, so cheap requests always find one; waiting clients are served
// round-robin, oldest request first within a client. A request that waits longer than `queueTimeoutMs`, or a
// client with more than `maxQueuedPerClient` waiting, is refused instead of queueing without bound.
import type pg from 'pg';
import { HasuraError } from './errors.js';
import type { Metrics } from './metrics.js';

export interface SchedulerLimits { size: number; perClient: number; heavy: number; queueTimeoutMs: number; maxQueuedPerClient: number }

interface Waiter { heavy: boolean; since: number; grant: () => void; timer?: NodeJS.Timeout }

export interface Lease { client: pg.PoolClient; release: (broken?: boolean) => void; waitedMs: number }

export class FairScheduler {
  private active = 0;
  private heavyActive = 0;
  private perClient = new Map<string, number>();
  private queues = new Map<string, Waiter[]>(); // insertion order = round-robin order
  private waiting = 0;

  constructor(private readonly pool: pg.Pool, readonly limits: SchedulerLimits, private readonly metrics?: Metrics) {}

  get stats() { return { active: this.active, heavyActive: this.heavyActive, waiting: this.waiting, size: this.limits.size }; }

  /**
   * `internal`: the server's own live-query pollers, which bound their own concurrency (one poll per shape at a
   * time): no queue cap and no queue timeout for them, the fairness rules still apply.
   */
  async acquire(clientKey: string, heavy: boolean, internal = false): Promise<Lease> {
    const t0 = performance.now();
    if (!this.eligible(clientKey, heavy) || this.queues.size) {
      const q = this.queues.get(clientKey) ?? [];
      if (!internal && q.length >= this.limits.maxQueuedPerClient) {
        this.metrics?.rejected.inc({ limit: 'queue' });
        throw new HasuraError(`too many requests queued for this client (${q.length}); retry later`, 'unexpected');
      }
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { heavy, since: t0, grant: resolve };
        if (!internal) w.timer = setTimeout(() => {
          const list = this.queues.get(clientKey);
          const i = list ? list.indexOf(w) : -1;
          if (i < 0) return;
          list!.splice(i, 1);
          if (!list!.length) this.queues.delete(clientKey);
          this.waiting--;
          this.metrics?.rejected.inc({ limit: 'queue' });
          reject(new HasuraError(`server busy: no database connection became free within ${this.limits.queueTimeoutMs} ms`, 'unexpected'));
        }, this.limits.queueTimeoutMs);
        q.push(w);
        this.queues.set(clientKey, q);
        this.waiting++;
        this.pump();
      });
    } else {
      this.take(clientKey, heavy);
    }
    let client: pg.PoolClient;
    try { client = await this.pool.connect(); } catch (e) {
      this.give(clientKey, heavy);
      throw new HasuraError(`database connection error: ${(e as Error).message}`, 'postgres-error', '$');
    }
    const waitedMs = performance.now() - t0;
    this.metrics?.poolWaitSeconds.observe(waitedMs / 1000, { lane: heavy ? 'heavy' : 'light' });
    let done = false;
    return {
      client, waitedMs,
      release: (broken = false) => {
        if (done) return;
        done = true;
        client.release(broken);
        this.give(clientKey, heavy);
      },
    };
  }

  private eligible(key: string, heavy: boolean) {
    return this.active < this.limits.size && (this.perClient.get(key) ?? 0) < this.limits.perClient
      && (!heavy || this.heavyActive < this.limits.heavy);
  }
  private take(key: string, heavy: boolean) {
    this.active++;
    if (heavy) this.heavyActive++;
    this.perClient.set(key, (this.perClient.get(key) ?? 0) + 1);
  }
  private give(key: string, heavy: boolean) {
    this.active--;
    if (heavy) this.heavyActive--;
    const n = (this.perClient.get(key) ?? 1) - 1;
    if (n) this.perClient.set(key, n); else this.perClient.delete(key);
    this.pump();
  }

  /** Grants free connections: one per client per round, in round-robin order, skipping blocked waiters. */
  private pump() {
    let progress = true;
    while (progress && this.active < this.limits.size && this.queues.size) {
      progress = false;
      for (const [key, q] of [...this.queues]) {
        if (this.active >= this.limits.size) break;
        // Oldest eligible waiter of this client (a heavy one may be blocked while a light one behind it is not).
        const i = q.findIndex((w) => this.eligible(key, w.heavy));
        if (i < 0) continue;
        const [w] = q.splice(i, 1);
        // Move the client to the back of the round-robin order.
        this.queues.delete(key);
        if (q.length) this.queues.set(key, q);
        this.waiting--;
        clearTimeout(w.timer);
        this.take(key, w.heavy);
        w.grant();
        progress = true;
      }
    }
  }
}
