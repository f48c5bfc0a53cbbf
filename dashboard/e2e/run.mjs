#!/usr/bin/env node
// End-to-end test of the dashboard against a RUNNING console server (which serves dashboard/dist and
// answers /v1/graphql as the read-only role) over a real PostgreSQL filled by the example detector.
//
//   EVENTSCOPE_E2E_URL=http://127.0.0.1:3000 \
//   EVENTSCOPE_E2E_DB_URL=postgresql://user@127.0.0.1:5432/observability \
//   [EVENTSCOPE_E2E_SCHEMA=event_detector_observability] [EVENTSCOPE_ARTIFACTS_DIR=...] npm run e2e
//
// Numbers shown by the UI are checked against SQL on the same database. Drives Debian's Chromium
// (/usr/bin/chromium, override with EVENTSCOPE_E2E_CHROMIUM) through playwright-core; downloads nothing.
// Without the two URLs it prints why and exits 0 (skipped).
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import pg from 'pg';
import { loadQueries, loadTsModule, sampleVariables, PAYLOAD_OPERATIONS } from './load-queries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.EVENTSCOPE_E2E_URL ?? '').replace(/\/+$/, '');
// The same app served to a role that may read payload values (issue 14's values checks); optional.
const ADMIN = (process.env.EVENTSCOPE_E2E_ADMIN_URL ?? '').replace(/\/+$/, '');
const DB_URL = process.env.EVENTSCOPE_E2E_DB_URL ?? '';
const SCHEMA = process.env.EVENTSCOPE_E2E_SCHEMA ?? 'event_detector_observability';
const ARTIFACTS = resolve(process.env.EVENTSCOPE_ARTIFACTS_DIR ?? join(here, 'artifacts'));
const CHROMIUM = process.env.EVENTSCOPE_E2E_CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT = Number(process.env.EVENTSCOPE_E2E_TIMEOUT_MS ?? 15000);

if (!BASE || !DB_URL) {
  console.log('e2e SKIPPED: set EVENTSCOPE_E2E_URL (base URL of a running console server that serves dashboard/dist)');
  console.log('             and EVENTSCOPE_E2E_DB_URL (PostgreSQL URL of the database it reads, filled by the example detector).');
  console.log('0 passed, 0 failed, 1 skipped');
  process.exit(0);
}
if (!/^[a-z_][a-z0-9_]*$/i.test(SCHEMA)) throw new Error(`bad schema name ${SCHEMA}`);

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${note ? ` — ${note}` : ''} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function expectEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: UI shows ${JSON.stringify(actual)}, SQL says ${JSON.stringify(expected)}`);
}
const T = (table) => `"${SCHEMA}"."${table}"`;

const db = new pg.Client({ connectionString: DB_URL });
await db.connect();
const one = async (sql, params = []) => (await db.query(sql, params)).rows[0];
const fmt = await loadTsModule('lib/format.ts');
const Q = await loadQueries();
await mkdir(ARTIFACTS, { recursive: true });

// A fixed window around all recorded data, so the UI and SQL count the same rows.
const span = await one(`SELECT min(created_at) AS lo, max(created_at) AS hi, count(*)::int AS n FROM ${T('invocations')}`);
if (!span.n) {
  console.log('FAIL the database has no invocations: run the example detector first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const from = new Date(new Date(span.lo).getTime() - 60_000);
const to = new Date(new Date(span.hi).getTime() + 60_000);
const rangeQs = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
const inRange = `created_at >= $1 AND created_at < $2`;
const R = [from, to];

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
const consoleErrors = [];
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: uncaught ${e.message}`));
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const text = async (testId) => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();
const numberIn = (s) => Number(String(s).replace(/[^0-9.]/g, ''));

try {
  await check('every operation of queries.ts is accepted by the console server (anonymous browser role)', async () => {
    const vars = sampleVariables();
    const hidden = [];
    for (const [name, query] of Object.entries(Q)) {
      const r = await fetch(`${BASE}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: vars[name] ?? {}, operationName: name }) });
      const body = await r.json();
      if (body.errors) {
        if (PAYLOAD_OPERATIONS.has(name)) hidden.push(name);
        else throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
      }
    }
    return hidden.length ? `payload column hidden from this role (${hidden.join(', ')}), the UI says so` : 'payload visible to this role';
  });

  await check('overview: health figures match SQL', async () => {
    await page.goto(`${BASE}/overview?${rangeQs}`);
    await page.getByTestId('kpi-throughput').waitFor();
    const e = await one(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status='failed')::int AS failed, count(*) FILTER (WHERE status='completed')::int AS completed,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms) FILTER (WHERE status <> 'running') AS p95
         FROM ${T('invocations')} WHERE ${inRange}`, R);
    const kpi = async (id, part) => ((await page.getByTestId(id).locator(part).textContent()) ?? '').trim();
    expectEq(numberIn(await kpi('kpi-throughput', '.kpi-sub')), e.total, 'invocations in range');
    expectEq(numberIn(await kpi('kpi-failures', '.kpi-value')), e.failed, 'failures');
    const rate = e.completed + e.failed > 0 ? fmt.formatPercent((e.completed / (e.completed + e.failed)) * 100) : '—';
    expectEq(await kpi('kpi-success-rate', '.kpi-value'), rate, 'success rate');
    // p95 comes from the rollups' histograms: within 8.65 % of percentile_cont on the raw rows (plus display rounding)
    const shown = await kpi('kpi-p95', '.kpi-value');
    const p95 = e.p95 === null ? null : Number(e.p95);
    const m = /^([0-9.]+) (ms|s)$/.exec(shown);
    const value = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : null;
    const slack = m?.[2] === 's' ? 10 : 0.5;
    if (p95 === null ? shown !== '—' : value === null || Math.abs(value - p95) > 0.0865 * p95 + slack)
      throw new Error(`p95 duration: UI shows ${shown}, SQL percentile_cont says ${p95} (allowed: 8.65 % + display rounding)`);
    const newest = await one(`SELECT source_function FROM ${T('invocations')} WHERE ${inRange} ORDER BY created_at DESC, id DESC LIMIT 1`, R);
    const firstRow = await page.getByTestId('recent-table').locator('tbody tr').first().textContent();
    if (!firstRow.includes(newest.source_function)) throw new Error(`newest activity should be ${newest.source_function}: ${firstRow}`);
    await shot('overview');
    return `${e.total} invocations, ${e.failed} failed, p95 ${shown} (percentile_cont ${p95})`;
  });

  let withJobs;
  await check('invocations: total and filters match SQL', async () => {
    let jobChecked = '';
    await page.goto(`${BASE}/invocations?${rangeQs}`);
    const total = await one(`SELECT count(*)::int AS n FROM ${T('invocations')} WHERE ${inRange}`, R);
    await page.getByTestId('invocations-total').waitFor();
    expectEq(numberIn(await text('invocations-total')), total.n, 'invocations total');
    const failed = await one(`SELECT count(*)::int AS n FROM ${T('invocations')} WHERE ${inRange} AND status = 'failed'`, R);
    await page.getByLabel('Status').selectOption('failed');
    if (failed.n === 0) await page.getByText('No invocation matches these filters.').waitFor();
    else {
      await page.waitForFunction(([n]) => document.querySelector('[data-testid=invocations-total]')?.textContent?.replace(/\D/g, '') === String(n), [failed.n]);
      // The rows and the count are two requests (the count may arrive first): wait until the table shows the
      // filtered list, then check every row (a filter that never applies times out and fails here).
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid=invocations-table] tbody [data-status]')];
        return rows.length > 0 && rows.every((e) => e.getAttribute('data-status') === 'failed');
      });
      const statuses = await page.getByTestId('invocations-table').locator('tbody [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
      if (statuses.some((s) => s !== 'failed')) throw new Error(`status filter shows ${[...new Set(statuses)]}`);
    }
    const ev = await one(`SELECT event_name, count(DISTINCT invocation_id)::int AS n FROM ${T('event_executions')} WHERE ${inRange} AND detected GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`, R);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    if (ev) {
      const e2 = await one(
        `SELECT count(*)::int AS n FROM ${T('invocations')} i WHERE i.created_at >= $1 AND i.created_at < $2 AND EXISTS (SELECT 1 FROM ${T('event_executions')} e WHERE e.invocation_id = i.id AND e.event_name = $3)`,
        [...R, ev.event_name],
      );
      const box = page.getByLabel('Event name');
      await box.fill(ev.event_name);
      await box.press('Enter');
      await page.waitForFunction(([n]) => document.querySelector('[data-testid=invocations-total]')?.textContent?.replace(/\D/g, '') === String(n), [e2.n]);
      // Event and job together: the app tests the rows' child_names (migration 004), SQL the raw child rows.
      const job = await one(
        `SELECT j.job_name, count(DISTINCT i.id)::int AS n FROM ${T('invocations')} i JOIN ${T('job_executions')} j ON j.invocation_id = i.id
         WHERE i.created_at >= $1 AND i.created_at < $2 AND EXISTS (SELECT 1 FROM ${T('event_executions')} e WHERE e.invocation_id = i.id AND e.event_name = $3)
         GROUP BY 1 ORDER BY 2, 1 LIMIT 1`, [...R, ev.event_name]);
      const unnamed = await one(`SELECT count(*)::int AS n FROM ${T('invocations')} WHERE ${inRange} AND status <> 'running' AND child_names IS NULL`, R);
      expectEq(unnamed.n, 0, 'finished invocations without child_names (the sink writes them)');
      if (job) {
        jobChecked = `${job.job_name} (${job.n})`;
        const jobBox = page.getByLabel('Job name');
        await jobBox.fill(job.job_name);
        await jobBox.press('Enter');
        await page.waitForFunction(([n]) => document.querySelector('[data-testid=invocations-total]')?.textContent?.replace(/\D/g, '') === String(n), [job.n]);
      }
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.waitForFunction(([n]) => document.querySelector('[data-testid=invocations-total]')?.textContent?.replace(/\D/g, '') === String(n), [total.n]);
    }
    await shot('invocations');
    withJobs = await one(`SELECT id, total_jobs_run FROM ${T('invocations')} WHERE ${inRange} ORDER BY total_jobs_run DESC NULLS LAST, created_at DESC, id DESC LIMIT 1`, R);
    return `${total.n} rows, ${failed.n} failed${ev ? `, ${ev.event_name}` : ''}${jobChecked ? ` + ${jobChecked}` : ''}`;
  });

  await check('clicking an invocation opens its detail and its flow diagram', async () => {
    await page.goto(`${BASE}/invocations?${rangeQs}&sort=total_jobs_run&dir=desc`);
    await page.getByTestId('invocations-table').locator('tbody tr').first().locator('a').first().click();
    await page.waitForURL(/\/invocations\/[0-9a-f-]{36}/);
    const id = page.url().match(/invocations\/([0-9a-f-]{36})/)[1];
    await page.getByTestId('invocation-summary').waitFor();
    await shot('invocation-detail');
    await page.getByRole('link', { name: 'Open flow diagram' }).click();
    await page.waitForURL(/\/flows\/[0-9a-f-]{36}/);
    await page.getByTestId('graph').waitFor();
    const jobs = await one(
      `SELECT count(*)::int AS n FROM ${T('job_executions')} j JOIN ${T('event_executions')} e ON e.id = j.event_execution_id WHERE j.invocation_id = $1`, [id]);
    const evs = await one(`SELECT count(*) FILTER (WHERE detected OR status IN ('failed','detection_failed','handler_failed'))::int AS shown FROM ${T('event_executions')} WHERE invocation_id = $1`, [id]);
    await page.locator('[data-testid=flow-node-invocation]').first().waitFor();
    expectEq(await page.locator('[data-testid=flow-node-job]').count(), jobs.n, 'job nodes in the flow');
    expectEq(await page.locator('[data-testid=flow-node-event]').count(), evs.shown, 'event nodes in the flow');
    if (jobs.n > 0) {
      await page.locator('[data-testid=flow-node-job]').first().click();
      await page.getByTestId('flow-side-panel').getByTestId('job-detail').waitFor();
    }
    await shot('flow');
    // the deep link is pasteable
    await page.goto(`${BASE}/flows/${id}?${rangeQs}`);
    await page.locator('[data-testid=flow-node-invocation]').first().waitFor();
    return `${id}: ${jobs.n} jobs, ${evs.shown} events shown`;
  });

  await check('a correlation ID shows its whole chain (graph and timeline)', async () => {
    const c = await one(
      `SELECT correlation_id, count(*)::int AS n, count(source_job_id)::int AS caused FROM ${T('invocations')}
        WHERE correlation_id IS NOT NULL GROUP BY 1 ORDER BY count(source_job_id) DESC, count(*) DESC, 1 LIMIT 1`);
    const links = await one(
      `SELECT count(*)::int AS n FROM ${T('invocations')} i JOIN ${T('job_executions')} j ON j.id = i.source_job_id
         JOIN ${T('invocations')} p ON p.id = j.invocation_id WHERE i.correlation_id = $1 AND p.correlation_id = $1`, [c.correlation_id]);
    await page.goto(`${BASE}/chains?${rangeQs}`);
    await page.getByLabel('Correlation ID').fill(c.correlation_id);
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.getByTestId('chain-count').waitFor();
    expectEq(numberIn(await text('chain-count')), c.n, `invocations with correlation ID ${c.correlation_id}`);
    expectEq(await page.locator('[data-testid=graph] [data-testid=flow-node-invocation]').count(), Math.min(c.n, 500), 'invocation nodes');
    const m = (await page.getByTestId('chain').locator('p').first().textContent()).match(/(\d+) causal link/);
    expectEq(Number(m?.[1]), links.n, 'causal links (source_job_id → job of an invocation in the chain)');
    expectEq(await page.getByTestId('chain-timeline').locator('.timeline-row').count(), Math.min(c.n, 500), 'timeline rows');
    // the selected invocation's detected events and their jobs are read when it is selected
    // (the one of the shown invocations with the most jobs under detected events)
    const { id: selectedId } = await one(
      `SELECT i.id FROM (SELECT id, created_at FROM ${T('invocations')} WHERE correlation_id = $1 ORDER BY created_at, id LIMIT 500) i
         LEFT JOIN ${T('event_executions')} e ON e.invocation_id = i.id AND e.detected
         LEFT JOIN ${T('job_executions')} j ON j.event_execution_id = e.id
        GROUP BY i.id ORDER BY count(j.id) DESC, count(e.id) DESC, i.id LIMIT 1`, [c.correlation_id]);
    await page.locator(`[data-testid=graph] [data-testid=flow-node-invocation][data-ref="${selectedId}"]`).click();
    const step = page.getByTestId('chain-step');
    await step.getByTestId('chain-step-events').waitFor();
    expectEq(await step.getByRole('link', { name: 'open flow' }).getAttribute('href').then((h) => h.match(/\/flows\/([0-9a-f-]{36})/)?.[1]), selectedId, 'the selected invocation');
    const expected = (await db.query(
      `SELECT e.event_name || ': ' || coalesce(string_agg(j.job_name || ' (' || j.status || ')', ', ' ORDER BY j.created_at, j.id), 'no jobs') AS line
         FROM ${T('event_executions')} e LEFT JOIN ${T('job_executions')} j ON j.event_execution_id = e.id AND j.invocation_id = e.invocation_id
        WHERE e.invocation_id = $1 AND e.detected GROUP BY e.id, e.event_name, e.created_at ORDER BY e.created_at, e.id`, [selectedId])).rows;
    const shown = (await step.getByTestId('chain-step-events').locator('li').allTextContents()).filter((t) => t !== 'no event detected');
    expectEq(JSON.stringify(shown), JSON.stringify(expected.map((r) => r.line)), `events and jobs of the selected invocation ${selectedId}`);
    await shot('chain');
    return `${c.correlation_id}: ${c.n} invocations, ${links.n} links, the selected one: ${shown.join("; ")}`;
  });

  await check('chain deep link /chains/:correlationId is pasteable (IDs contain dots and @)', async () => {
    const c = await one(`SELECT correlation_id FROM ${T('invocations')} WHERE correlation_id LIKE '%.%' OR correlation_id LIKE '%@%' ORDER BY created_at DESC LIMIT 1`);
    if (!c) return 'no dotted correlation ID recorded';
    const p2 = await context.newPage();
    try {
      const res = await p2.goto(`${BASE}/chains/${encodeURIComponent(c.correlation_id)}`);
      if (!res || res.status() !== 200) throw new Error(`GET /chains/${c.correlation_id} → HTTP ${res?.status()} (the server must answer client routes with index.html even when the last segment looks like a file name)`);
      await p2.getByTestId('chain-count').waitFor({ timeout: TIMEOUT });
    } finally {
      await p2.close();
    }
    return c.correlation_id;
  });

  await check('analytics: series, slowest jobs and coverage match SQL', async () => {
    await page.goto(`${BASE}/analytics?${rangeQs}`);
    const hourFrom = new Date(Math.floor(from.getTime() / 3600e3) * 3600e3);
    const s = await one(`SELECT coalesce(sum(total_invocations), 0)::int AS n FROM ${T('dashboard_stats')} WHERE hour_bucket >= $1 AND hour_bucket < $2`, [hourFrom, to]);
    await page.getByTestId('series-total').waitFor();
    expectEq(numberIn(await text('series-total')), s.n, 'invocations in dashboard_stats');
    const slow = await one(`SELECT max(duration_ms) AS d FROM ${T('job_executions')} WHERE ${inRange}`, R);
    if (slow.d !== null) {
      const first = await page.getByTestId('slowest-jobs').locator('tbody tr').first().textContent();
      if (!first.includes(fmt.formatDuration(slow.d))) throw new Error(`slowest job should be ${fmt.formatDuration(slow.d)}: ${first}`);
    }
    const cov = await one(`SELECT count(*)::int AS total, count(*) FILTER (WHERE correlation_source <> 'generated')::int AS covered FROM ${T('invocations')} WHERE ${inRange}`, R);
    expectEq(await text('coverage-percent'), fmt.formatPercent((cov.covered / cov.total) * 100), 'correlation coverage');
    const ev = await one(`SELECT event_name, count(*)::int AS checked, count(*) FILTER (WHERE detected)::int AS detected FROM ${T('event_executions')} WHERE ${inRange} GROUP BY 1 ORDER BY 1 LIMIT 1`, R);
    if (ev) {
      const row = page.getByTestId('detection-rate').locator('tr', { hasText: ev.event_name }).first();
      await page.waitForFunction(() => !document.querySelector('[data-testid=detection-rate]')?.textContent?.includes('…'));
      const t = await row.textContent();
      if (!t.includes(fmt.formatPercent((ev.detected / ev.checked) * 100))) throw new Error(`detection rate of ${ev.event_name}: ${t} vs ${ev.detected}/${ev.checked}`);
    }
    const fj = await one(`SELECT job_name, count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*)::int AS runs FROM ${T('job_executions')}
                          WHERE ${inRange} GROUP BY 1 HAVING count(*) FILTER (WHERE status = 'failed') > 0 ORDER BY 2 DESC, 1 LIMIT 1`, R);
    if (fj) {
      const t = await page.getByTestId('failing-jobs').locator('tr', { hasText: fj.job_name }).first().textContent();
      if (!t.includes(`${fj.job_name}${fmt.formatCount(fj.failed)}${fmt.formatCount(fj.runs)}`))
        throw new Error(`failing job ${fj.job_name}: UI row ${t}, SQL says ${fj.failed} failed of ${fj.runs}`);
    }
    await page.waitForTimeout(300);
    await shot('analytics');
    return `${s.n} in hourly stats, coverage ${cov.covered}/${cov.total}`;
  });


  // ---------------------------------------------------------------------------------------- issue 14
  const detect = await loadTsModule('lib/detection.ts');
  const rejected = await one(
    `SELECT e.invocation_id, e.event_name, e.detection_rejected_by, e.detection_clauses, e.detection_clause_values
       FROM ${T('event_executions')} e WHERE ${inRange.replaceAll('created_at', 'e.created_at')} AND e.detection_rejected_by IS NOT NULL
      ORDER BY e.created_at DESC, e.id LIMIT 1`, R);

  await check('invocation page: a not-detected event shows the clause that stopped it (read-only role: values hidden)', async () => {
    if (!rejected) throw new Error('the demo recorded no rejected detection clause');
    await page.goto(`${BASE}/invocations/${rejected.invocation_id}?${rangeQs}`);
    const row = page.getByTestId('events-table').locator(`tr[data-event="${rejected.event_name}"]`);
    await row.getByTestId('stopped-by').waitFor();
    const t = await row.getByTestId('stopped-by').textContent();
    if (!t.includes(`stopped by ${rejected.detection_rejected_by}`)) throw new Error(`stopped-by shows "${t}", SQL says ${rejected.detection_rejected_by}`);
    await page.waitForFunction(([ev]) => document.querySelector(`tr[data-event="${ev}"] [data-testid=stopped-by]`)?.textContent?.includes('hidden'), [rejected.event_name]);
    await row.locator('.clause-details summary').click();
    const outcomes = await row.getByTestId('clause-list').locator('li[data-outcome]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    expectEq(JSON.stringify(outcomes), JSON.stringify(rejected.detection_clauses.map((c) => c.outcome)), 'clause outcomes');
    await shot('issue14-clauses-observer');
    return `${rejected.event_name} stopped by "${rejected.detection_rejected_by}"`;
  });

  await check('invocation page as a role that may read values: the compared values of the stopping clause', async () => {
    if (!ADMIN) return 'skipped: EVENTSCOPE_E2E_ADMIN_URL not set';
    const clauses = detect.parseClauses(rejected.detection_clauses, rejected.detection_clause_values);
    const stop = detect.stoppingClause(clauses);
    const expected = detect.clauseValues(stop);
    if (!expected) throw new Error(`no values recorded for ${stop?.name} (demo runs at capture::full)`);
    await page.goto(`${ADMIN}/invocations/${rejected.invocation_id}?${rangeQs}`);
    const row = page.getByTestId('events-table').locator(`tr[data-event="${rejected.event_name}"]`);
    await page.waitForFunction(([ev, v]) => document.querySelector(`tr[data-event="${ev}"] [data-testid=stopped-by]`)?.textContent?.includes(v), [rejected.event_name, expected]);
    await row.locator('.clause-details summary').click();
    await shot('issue14-clauses-values');
    return `${stop.name}: ${expected}`;
  });

  const update = await one(
    `SELECT id, changed_columns, source_event_payload FROM ${T('invocations')}
      WHERE ${inRange} AND changed_columns IS NOT NULL AND jsonb_array_length(changed_columns) > 0 ORDER BY created_at DESC, id LIMIT 1`, R);
  await check('old -> new: changed columns of an UPDATE (names for every role, values where the role may read them)', async () => {
    if (!update) throw new Error('the demo recorded no UPDATE with changed columns');
    await page.goto(`${BASE}/invocations/${update.id}?${rangeQs}`);
    await page.getByTestId('changes').waitFor();
    const names = await page.getByTestId('changed-column').allTextContents();
    expectEq(JSON.stringify(names), JSON.stringify(update.changed_columns), 'changed columns');
    await page.getByTestId('changes-denied').waitFor();
    if (!ADMIN) return `${names.join(', ')} (values: no admin URL)`;
    await page.goto(`${ADMIN}/invocations/${update.id}?${rangeQs}`);
    await page.getByTestId('changes-table').waitFor();
    const expected = detect.payloadChanges(update.source_event_payload);
    const rows = await page.getByTestId('changes-table').locator('tbody tr').evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-column'), e.querySelector('.diff-old')?.textContent, e.querySelector('.diff-new')?.textContent]));
    expectEq(JSON.stringify(rows), JSON.stringify(expected.map((c) => [c.column, detect.shortJson(c.old, 200), detect.shortJson(c.new, 200)])), 'old -> new rows');
    expectEq(JSON.stringify(expected.map((c) => c.column).sort()), JSON.stringify([...update.changed_columns].sort()), 'UI diff vs stored changed_columns');
    await shot('issue14-old-new');
    return rows.map((r) => `${r[0]}: ${r[1]} -> ${r[2]}`).join('; ');
  });

  await check('invocations list: "column changed" filter count equals SQL (changed_columns @> [X])', async () => {
    const col = update.changed_columns[0];
    const n = await one(`SELECT count(*)::int AS n FROM ${T('invocations')} WHERE ${inRange} AND changed_columns @> $3::jsonb`, [...R, JSON.stringify([col])]);
    await page.goto(`${BASE}/invocations?${rangeQs}&changed=${encodeURIComponent(col)}`);
    await page.waitForFunction(([v]) => document.querySelector('[data-testid=invocations-total]')?.textContent?.replace(/\D/g, '') === String(v), [n.n]);
    return `${col}: ${n.n} invocations`;
  });

  await check('detection funnel: every step equals SQL over the raw rows; top rejecting clause; drill-down list', async () => {
    const ev = await one(
      `SELECT event_name, count(*)::int AS n FROM ${T('event_executions')} WHERE ${inRange} AND detection_rejected_by IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`, R);
    const hourFrom = new Date(Math.floor(from.getTime() / 3600e3) * 3600e3);
    const W = [hourFrom, to, ev.event_name];
    const totals = await one(
      `SELECT count(*)::int AS checked, count(*) FILTER (WHERE detected)::int AS detected, count(*) FILTER (WHERE status = 'completed')::int AS completed
         FROM ${T('event_executions')} WHERE created_at >= $1 AND created_at < $2 AND event_name = $3`, W);
    const clauses = (await db.query(
      `SELECT c.ord::int AS clause_index, c.x->>'name' AS clause_name, count(*) FILTER (WHERE c.x->>'outcome' <> 'skipped')::int AS evaluated,
              count(*) FILTER (WHERE c.x->>'outcome' = 'passed')::int AS passed, count(*) FILTER (WHERE c.x->>'outcome' = 'failed')::int AS failed,
              count(*) FILTER (WHERE c.x->>'outcome' = 'threw')::int AS threw
         FROM ${T('event_executions')} e, jsonb_array_elements(e.detection_clauses) WITH ORDINALITY c(x, ord)
        WHERE e.created_at >= $1 AND e.created_at < $2 AND e.event_name = $3 AND e.status NOT IN ('detecting', 'handling') GROUP BY 1, 2`, W)).rows;
    const steps = detect.buildFunnel({ ...totals, detection_failed: 0 }, clauses);
    await page.goto(`${BASE}/funnel?${rangeQs}&event=${encodeURIComponent(ev.event_name)}`);
    await page.getByTestId('funnel').waitFor();
    const shown = await page.getByTestId('funnel-step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), Number(e.getAttribute('data-count')), Number(e.getAttribute('data-stopped'))]));
    const want = steps.map((s) => [s.kind === 'clause' ? `clause:${s.clauseIndex}:${s.clauseName}` : s.kind, s.count, s.stopped]);
    expectEq(JSON.stringify(shown), JSON.stringify(want), `funnel of ${ev.event_name} (UI from rollups vs SQL over raw rows)`);
    const top = steps.find((s) => s.topRejecting);
    const topShown = await page.locator('[data-testid=funnel-step].top-rejecting').getAttribute('data-step');
    expectEq(topShown, `clause:${top.clauseIndex}:${top.clauseName}`, 'top rejecting clause');
    await page.locator('[data-testid=funnel-step].top-rejecting button').click();
    await page.getByTestId('funnel-stopped-table').waitFor();
    const listed = await page.getByTestId('funnel-stopped-table').locator('tbody tr').count();
    expectEq(listed, Math.min(50, top.stopped), `invocations listed as stopped by ${top.clauseName}`);
    await shot('issue14-funnel');
    return `${ev.event_name}: ${shown.map((s) => `${s[0]}=${s[1]}`).join(' → ')}; top rejecting ${top.clauseName} (${top.stopped})`;
  });

  await check('compare two invocations side by side (deep link): decisions, clauses, job deltas, payload diff', async () => {
    const pair = await one(
      `SELECT a.invocation_id AS a, b.invocation_id AS b, a.event_name FROM ${T('event_executions')} a
         JOIN ${T('event_executions')} b ON b.event_name = a.event_name AND b.detected = false AND b.detection_rejected_by IS NOT NULL
        WHERE a.detected AND a.jobs_count > 0 AND ${inRange.replaceAll('created_at', 'a.created_at')} ORDER BY a.created_at, b.created_at LIMIT 1`, R);
    if (!pair) throw new Error('no pair of detected / not detected executions of one event');
    const jobsA = (await db.query(`SELECT job_name, status, duration_ms FROM ${T('job_executions')} WHERE invocation_id = $1 ORDER BY created_at, id`, [pair.a])).rows;
    const jobsB = (await db.query(`SELECT job_name, status, duration_ms FROM ${T('job_executions')} WHERE invocation_id = $1 ORDER BY created_at, id`, [pair.b])).rows;
    const url = `/compare?a=${pair.a}&b=${pair.b}&${rangeQs}`;
    await page.goto(`${BASE}${url}`);
    const row = page.getByTestId('compare-events').locator(`tr[data-event="${pair.event_name}"]`);
    await row.waitFor();
    const decisions = await row.getByTestId('compare-decision').allTextContents();
    expectEq(JSON.stringify(decisions), JSON.stringify(['detected', 'not detected']), `decisions on ${pair.event_name}`);
    if (!(await row.getAttribute('class')).includes('differs')) throw new Error('the differing decision is not highlighted');
    await row.getByTestId('stopped-by').waitFor();
    const deltas = await page.getByTestId('compare-jobs').getByTestId('duration-delta').allTextContents();
    expectEq(JSON.stringify(deltas), JSON.stringify(detect.compareJobs(jobsA, jobsB).map((j) => detect.formatDelta(j.durationDelta))), 'job duration deltas');
    await page.getByTestId('compare-payload-denied').waitFor();
    await shot('issue14-compare');
    if (ADMIN) {
      await page.goto(`${ADMIN}${url}`);
      await page.getByTestId('payload-diff').waitFor();
      const pa = await one(`SELECT source_event_payload AS p FROM ${T('invocations')} WHERE id = $1`, [pair.a]);
      const pb = await one(`SELECT source_event_payload AS p FROM ${T('invocations')} WHERE id = $1`, [pair.b]);
      expectEq(await page.getByTestId('payload-diff').locator('tbody tr').count(), detect.jsonDiff(pa.p, pb.p).length, 'payload differences');
      await shot('issue14-compare-values');
    }
    return `${pair.a.slice(0, 8)} vs ${pair.b.slice(0, 8)} on ${pair.event_name}: ${deltas.join(', ')}`;
  });

  await check('replay report (detector_service --replay of the demo data) matches SQL', async () => {
    const run = await one(`SELECT id, invocations_replayed, invocations_skipped, decisions_changed FROM ${T('replay_runs')} ORDER BY created_at DESC LIMIT 1`);
    if (!run) throw new Error('no replay run recorded (tests/e2e/run.sh runs detector_service --replay)');
    const rows = (await db.query(`SELECT event_name, checked::int, detected_before::int, detected_after::int, newly_detected::int, no_longer_detected::int
                                    FROM ${T('replay_report')} WHERE replay_run_id = $1 ORDER BY event_name`, [run.id])).rows;
    await page.goto(`${BASE}/replays?${rangeQs}`);
    await page.getByTestId('replay-runs').locator('a').first().click();
    await page.getByTestId('replay-report').waitFor();
    const t = await page.getByTestId('replay-totals').textContent();
    if (!t.includes(`${fmt.formatCount(run.invocations_replayed)} replayed, ${fmt.formatCount(run.invocations_skipped)} skipped`)) throw new Error(`totals: ${t}`);
    const shown = await page.getByTestId('replay-events').locator('tbody tr').allTextContents();
    expectEq(JSON.stringify(shown), JSON.stringify(rows.map((r) => `${r.event_name}${r.checked}${r.detected_before}${r.detected_after}${r.newly_detected}${r.no_longer_detected}`)), 'per event type');
    const prodDetected = await one(`SELECT count(*)::int AS n FROM ${T('event_executions')} e JOIN ${T('replay_decisions')} d ON d.invocation_id = e.invocation_id AND d.event_name = e.event_name WHERE d.replay_run_id = $1 AND e.detected`, [run.id]);
    expectEq(rows.reduce((a, r) => a + r.detected_before, 0), prodDetected.n, 'detected before = production rows');
    await shot('issue14-replay');
    return `${run.invocations_replayed} replayed, ${run.decisions_changed} changed`;
  });

  await check('dashboard defects: "<1 ms", a single hour of data drawn as points, a small flow graph fitted', async () => {
    const zero = await one(`SELECT invocation_id FROM ${T('event_executions')} WHERE ${inRange} AND detection_duration_ms = 0 ORDER BY created_at LIMIT 1`, R);
    if (zero) {
      await page.goto(`${BASE}/invocations/${zero.invocation_id}?${rangeQs}`);
      await page.getByTestId('events-table').waitFor();
      const cells = await page.getByTestId('events-table').locator('tbody td.num').allTextContents();
      if (cells.some((c) => c.trim() === '0 ms') || !cells.some((c) => c.trim() === '<1 ms')) throw new Error(`durations shown: ${cells.join(', ')}`);
    }
    const first = await one(`SELECT min(created_at) AS t FROM ${T('invocations')}`);
    const h0 = new Date(Math.floor(new Date(first.t).getTime() / 3600e3) * 3600e3);
    await page.goto(`${BASE}/analytics?from=${encodeURIComponent(h0.toISOString())}&to=${encodeURIComponent(new Date(h0.getTime() + 3600e3).toISOString())}`);
    await page.getByTestId('chart-duration').waitFor();
    await page.locator('[data-testid=chart-duration] [data-testid=dot-avg]').first().waitFor();
    await shot('issue14-single-hour');
    const small = await one(
      `SELECT i.id FROM ${T('invocations')} i WHERE ${inRange.replaceAll('created_at', 'i.created_at')} AND i.total_jobs_run = 0 AND i.events_detected_count = 0 ORDER BY i.created_at LIMIT 1`, R);
    await page.goto(`${BASE}/flows/${small.id}?${rangeQs}`);
    const node = page.locator('[data-testid=flow-node-invocation]').first();
    await node.waitFor();
    await page.waitForTimeout(400);
    const h = Number(await page.getByTestId('graph').getAttribute('data-height'));
    const box = await node.boundingBox();
    if (!(h < 520)) throw new Error(`canvas ${h}px tall for a small graph`);
    if (!box || box.width < 120) throw new Error(`invocation node drawn ${box?.width}px wide: not fitted`);
    await shot('issue14-small-flow');
    return `canvas ${h}px, invocation node ${Math.round(box.width)}px wide`;
  });

  await check('header search finds an invocation by correlation ID', async () => {
    const c = await one(`SELECT correlation_id, id FROM ${T('invocations')} WHERE correlation_id IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1`);
    await page.goto(`${BASE}/overview?${rangeQs}`);
    await page.getByLabel('Search invocations').fill(c.correlation_id);
    const results = page.getByRole('listbox', { name: 'Search results' });
    await results.getByRole('option').first().waitFor();
    await shot('search');
    await results.getByRole('option').first().click();
    await page.waitForURL(/\/invocations\/[0-9a-f-]{36}/);
    const id = page.url().match(/invocations\/([0-9a-f-]{36})/)[1];
    const got = await one(`SELECT correlation_id FROM ${T('invocations')} WHERE id = $1`, [id]);
    if (!got.correlation_id.toLowerCase().includes(c.correlation_id.toLowerCase()) && id !== c.id) throw new Error(`search opened ${id}`);
  });

  await check('health indicator reports API and database reachable', async () => {
    const t = await page.getByTestId('health').textContent();
    if (!/API\+DB ok/.test(t)) throw new Error(t);
    return t.trim();
  });

  await check('no console errors', async () => {
    if (consoleErrors.length) throw new Error(`${consoleErrors.length} console error(s):\n  ${consoleErrors.slice(0, 10).join('\n  ')}`);
  });
} finally {
  await browser.close();
  await db.end();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`screenshots: ${ARTIFACTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
