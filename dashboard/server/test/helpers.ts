// Shared test plumbing: a uniquely named database per suite, schema application, and a running server.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { HttpServer } from '../src/http.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist-server/test
export const SERVER_DIR = resolve(here, '..', '..');
export const REPO_DIR = resolve(SERVER_DIR, '..', '..');
export const FIXTURES = resolve(SERVER_DIR, 'test', 'fixtures');

export function baseUrl(): string {
  const u = process.env.EVENTSCOPE_TEST_DB_URL;
  if (!u) throw new Error('EVENTSCOPE_TEST_DB_URL is not set: run the tests with `npm test` (it starts a throwaway cluster)');
  return u;
}

export function dbUrl(name: string): string {
  const u = new URL(baseUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createDatabase(prefix: string): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: baseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    name, url: dbUrl(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function psqlFile(url: string, file: string, vars: Record<string, string> = {}) {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-d', url, '-f', file];
  execFileSync('psql', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function sql(url: string, text: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return (await c.query(text, params)).rows; } finally { await c.end(); }
}

export interface Running { engine: Engine; http: HttpServer; url: string; wsUrl: string; config: Config; stop: () => Promise<void> }

export async function startServer(metadataDir: string, databaseUrl: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const config = loadConfig(['--metadata-dir', metadataDir, '--database-url', databaseUrl, '--port', '0', '--static-dir', 'none', ...extra], env);
  if (config === 'help') throw new Error('help');
  const engine = await Engine.create(config, env);
  const http = new HttpServer(engine);
  const { port } = await http.listen(0, '127.0.0.1');
  return {
    engine, http, config, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/v1/graphql`,
    stop: async () => { await http.close(); await engine.close(); },
  };
}

export async function gql(server: Running, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}/v1/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: r.status, body: (await r.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions: { code: string; path: string } }[] } };
}
