// What the console server spends on a request before any SQL (parse, validate, check variables, compile): every
// operation of the dashboard (dashboard/src/graphql/queries.ts, with the variables the e2e suite sends), prepared
// by the server built from this checkout, twice in the same process, alternating in rounds:
//   checked every time: documents are parsed and validated on each request (the server before src/documents.ts)
//   kept:               the default; a document sent again is taken from the role's kept documents
// Reported: CPU microseconds per prepared request (process.cpuUsage, user + system) per operation and over all,
// and the ratio kept / checked every time. No query runs; the database is only read once for its catalog.
//   node benchmarks/console/prepare.mjs [--db-url postgresql://.../db] [--reps 200] [--rounds 3] [--role admin]
//   (default: a throwaway cluster from scripts/pg-cluster.sh, migrated with sql/migrate.sh)
// Needs dashboard/server built (npm run build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadQueries, sampleVariables } from '../../dashboard/e2e/load-queries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = join(root, 'dashboard', 'server', 'dist-server', 'src');
const { Engine } = await import(pathToFileURL(join(dist, 'engine.js')).href);
const { loadConfig } = await import(pathToFileURL(join(dist, 'config.js')).href);
const { DocumentCache, DEFAULT_DOCUMENT_CACHE } = await import(pathToFileURL(join(dist, 'documents.js')).href);

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const REPS = Number(args.reps ?? 200);
const ROUNDS = Number(args.rounds ?? 3);
const ROLE = args.role ?? 'admin';

let clusterDir = null;
let dbUrl = args['db-url'];
if (!dbUrl) {
  clusterDir = join(mkdtempSync(join(tmpdir(), 'es-prepare-bench-')), 'pg');
  execFileSync('bash', [join(root, 'scripts', 'pg-cluster.sh'), 'start', clusterDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  dbUrl = readFileSync(join(clusterDir, 'url'), 'utf8').trim();
  execFileSync('bash', [join(root, 'sql', 'migrate.sh'), '--db-url', dbUrl, 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const engine = await Engine.create(loadConfig(['--metadata-dir', join(root, 'hasura-metadata'), '--database-url', dbUrl], {}));
try {
  const queries = await loadQueries();
  const variables = sampleVariables();
  const ops = Object.keys(variables).filter((name) => typeof queries[name] === 'string');
  const ctx = { headers: ROLE === 'admin' ? {} : { 'x-hasura-role': ROLE }, remote: 'bench' };
  const modes = {
    'checked every time': new DocumentCache({ ...DEFAULT_DOCUMENT_CACHE, entriesPerSchema: 0 }),
    kept: new DocumentCache(),
  };
  const cpuMicros = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const perOp = Object.fromEntries(ops.map((op) => [op, Object.fromEntries(Object.keys(modes).map((m) => [m, []]))]));
  for (const name of ops) engine.prepare({ query: queries[name], variables: variables[name] }, ctx); // fails loudly on a bad operation
  for (let round = 0; round < ROUNDS; ++round) {
    for (const [mode, cache] of Object.entries(modes)) {
      engine.documents = cache;
      for (const name of ops) {
        const req = { query: queries[name], variables: variables[name] };
        for (let i = 0; i < 20; ++i) engine.prepare(req, ctx); // warm: JIT, and the kept document
        const c0 = cpuMicros();
        for (let i = 0; i < REPS; ++i) engine.prepare(req, ctx);
        perOp[name][mode].push((cpuMicros() - c0) / REPS);
      }
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const rows = ops.map((name) => ({ op: name, every: median(perOp[name]['checked every time']), kept: median(perOp[name].kept) }));
  for (const r of rows) console.log(JSON.stringify({ op: r.op, checked_every_time_us: +r.every.toFixed(1), kept_us: +r.kept.toFixed(1), ratio: +(r.kept / r.every).toFixed(3) }));
  const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
  console.log(`\n${ops.length} operations, role ${ROLE}, ${REPS} prepares x ${ROUNDS} rounds each, median of rounds, CPU us per request:`);
  console.log('| | checked every time | kept | kept / checked every time |\n|---|---:|---:|---:|');
  console.log(`| sum over the operations | ${sum('every').toFixed(0)} | ${sum('kept').toFixed(0)} | ${(sum('kept') / sum('every')).toFixed(2)} |`);
  const ratios = rows.map((r) => r.kept / r.every).sort((a, b) => a - b);
  console.log(`| per operation (min / median / max ratio) | | | ${ratios[0].toFixed(2)} / ${median(ratios).toFixed(2)} / ${ratios.at(-1).toFixed(2)} |`);
} finally {
  await engine.close();
  if (clusterDir) {
    execFileSync('bash', [join(root, 'scripts', 'pg-cluster.sh'), 'remove', clusterDir], { stdio: 'ignore' });
    rmSync(dirname(clusterDir), { recursive: true, force: true });
  }
}
