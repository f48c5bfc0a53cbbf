// The console server's own metrics in the Prometheus text exposition format (version 0.0.4), served at GET /metrics.
// A handful of counters, gauges read at scrape time, and fixed-bucket histograms; labels are bounded sets (result
// codes, transport, lane), never user input.

type Labels = Record<string, string>;
const labelText = (l: Labels) => {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}` : '';
};
const fmt = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

interface Family { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; render: () => string[] }

export class Counter {
  private values = new Map<string, { labels: Labels; v: number }>();
  constructor(readonly name: string) {}
  inc(labels: Labels = {}, by = 1) {
    const k = labelText(labels);
    const e = this.values.get(k);
    if (e) e.v += by; else this.values.set(k, { labels, v: by });
  }
  get(labels: Labels = {}) { return this.values.get(labelText(labels))?.v ?? 0; }
  lines() { return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${fmt(e.v)}`); }
}

export class Histogram {
  private series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly buckets: number[]) {}
  observe(v: number, labels: Labels = {}) {
    const k = labelText(labels);
    let s = this.series.get(k);
    if (!s) { s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }; this.series.set(k, s); }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
  }
  lines() {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: fmt(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${fmt(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  private families: Family[] = [];
  readonly requests = this.counter('eventscope_console_requests_total', 'GraphQL operations handled, by transport (http, ws) and outcome (ok, error)');
  readonly errors = this.counter('eventscope_console_errors_total', 'GraphQL operations answered with an error, by Hasura error code');
  readonly rejected = this.counter('eventscope_console_rejected_total', 'operations refused before running, by limit (depth, nodes, cost, queue, origin, host)');
  readonly sqlSeconds = this.histogram('eventscope_console_sql_seconds', 'time spent in PostgreSQL per statement (explain, query, live-query poll)', SECONDS);
  readonly poolWaitSeconds = this.histogram('eventscope_console_pool_wait_seconds', 'time a statement waited for a pooled connection, by lane (light, heavy)', SECONDS);
  readonly requestSeconds = this.histogram('eventscope_console_request_seconds', 'time from request to response for HTTP GraphQL operations', SECONDS);
  readonly documents = this.counter('eventscope_console_documents_total', 'GraphQL documents looked up among the parsed and checked ones kept per role, by result (hit, miss)');
  readonly sqlStatements = this.counter('eventscope_console_sql_statements_total', 'SQL statements run, by kind (query, explain, live_poll, stream_poll)');

  counter(name: string, help: string): Counter {
    const c = new Counter(name);
    this.families.push({ name, help, type: 'counter', render: () => c.lines() });
    return c;
  }
  histogram(name: string, help: string, buckets: number[]): Histogram {
    const h = new Histogram(name, buckets);
    this.families.push({ name, help, type: 'histogram', render: () => h.lines() });
    return h;
  }
  /** A gauge read when scraped. */
  gauge(name: string, help: string, read: () => number | [Labels, number][]) {
    this.families.push({ name, help, type: 'gauge', render: () => {
      const v = read();
      return typeof v === 'number' ? [`${name} ${fmt(v)}`] : v.map(([l, x]) => `${name}${labelText(l)} ${fmt(x)}`);
    } });
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`, ...f.render());
    }
    return `${out.join('\n')}\n`;
  }
}
