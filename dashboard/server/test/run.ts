// Test runner: provides a PostgreSQL base URL (EVENTSCOPE_TEST_DB_URL, or a throwaway cluster started with
// ../../scripts/pg-cluster.sh and removed afterwards), then runs node's built-in test runner (TAP output, so the
// closing "# pass N / # fail N" lines are the standard ones).
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url)); // dist-server/test
const serverDir = resolve(here, '..', '..');
const script = resolve(serverDir, '..', '..', 'scripts', 'pg-cluster.sh');
let clusterDir: string | null = null;
const env = { ...process.env };
if (!env.EVENTSCOPE_TEST_DB_URL) {
  clusterDir = join(mkdtempSync(join(tmpdir(), 'es-console-test-')), 'pg');
  execFileSync('bash', [script, 'start', clusterDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  env.EVENTSCOPE_TEST_DB_URL = readFileSync(join(clusterDir, 'url'), 'utf8').trim();
}
let status = 1;
try {
  const files = readdirSync(here).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(here, f));
  const args = ['--test', '--test-concurrency=1', '--test-reporter=tap', ...process.argv.slice(2), ...files];
  status = spawnSync(process.execPath, args, { stdio: 'inherit', env, cwd: serverDir }).status ?? 1;
} finally {
  if (clusterDir) {
    execFileSync('bash', [script, 'remove', clusterDir], { stdio: 'ignore' });
    rmSync(dirname(clusterDir), { recursive: true, force: true });
  }
}
process.exit(status);
