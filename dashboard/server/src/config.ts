// Configuration from CLI flags (win) and the environment (Hasura's variable names where one exists).
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Config {
  metadataDir: string;
  databaseUrl?: string;
  host: string;
  port: number;
  adminSecret?: string;
  unauthorizedRole?: string;
  browserRole?: string;
  corsDomain: string;           // "*" or comma list with *. wildcards
  corsDisabled: boolean;
  refetchIntervalMs: number;
  statementTimeoutMs: number;
  maxDepth: number;
  maxRows: number;
  bodyLimitBytes: number;
  staticDir: string | null;
  poolSize: number;
  keepAliveSeconds: number;
  exposeInternalErrors: boolean;
}

const HELP = `eventscope console server: Hasura v2 compatible read-only GraphQL over PostgreSQL

usage: node dist-server/src/main.js [--metadata-dir DIR] [--database-url URL] [--host H] [--port N]
        [--admin-secret S] [--unauthorized-role R] [--browser-role R] [--static-dir DIR|none]
        [--statement-timeout-ms N] [--max-depth N] [--max-rows N] [--body-limit BYTES]
        [--refetch-interval-ms N] [--cors-domain LIST]
Environment: HASURA_GRAPHQL_METADATA_DIR, HASURA_GRAPHQL_DATABASE_URL, HOST, PORT, HASURA_GRAPHQL_ADMIN_SECRET,
  HASURA_GRAPHQL_UNAUTHORIZED_ROLE, EVENTSCOPE_CONSOLE_BROWSER_ROLE, EVENTSCOPE_CONSOLE_STATIC_DIR,
  EVENTSCOPE_STATEMENT_TIMEOUT_MS, EVENTSCOPE_MAX_DEPTH, EVENTSCOPE_MAX_ROWS, EVENTSCOPE_BODY_LIMIT_BYTES,
  HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL, HASURA_GRAPHQL_CORS_DOMAIN, HASURA_GRAPHQL_DISABLE_CORS,
  HASURA_GRAPHQL_PG_CONNECTIONS, HASURA_GRAPHQL_WEBSOCKET_KEEPALIVE, HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS`;

export class ConfigError extends Error {}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument ${a}\n${HELP}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else { if (i + 1 >= argv.length) throw new ConfigError(`flag ${a} needs a value`); flags[a.slice(2)] = argv[++i]; }
  }
  const known = new Set(['metadata-dir', 'database-url', 'host', 'port', 'admin-secret', 'unauthorized-role', 'browser-role', 'static-dir',
    'statement-timeout-ms', 'max-depth', 'max-rows', 'body-limit', 'refetch-interval-ms', 'cors-domain']);
  for (const k of Object.keys(flags)) if (!known.has(k)) throw new ConfigError(`unknown flag --${k}\n${HELP}`);
  const pick = (flag: string, ...vars: string[]) => flags[flag] ?? vars.map((v) => env[v]).find((x) => x !== undefined && x !== '');
  const num = (flag: string, dflt: number, ...vars: string[]) => {
    const v = pick(flag, ...vars);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${flag}: expected a non-negative number, got "${v}"`);
    return n;
  };
  const metadataDir = pick('metadata-dir', 'HASURA_GRAPHQL_METADATA_DIR');
  if (!metadataDir) throw new ConfigError(`no metadata directory: pass --metadata-dir or set HASURA_GRAPHQL_METADATA_DIR\n${HELP}`);
  const here = dirname(fileURLToPath(import.meta.url)); // dist-server/src
  const staticOpt = pick('static-dir', 'EVENTSCOPE_CONSOLE_STATIC_DIR');
  const staticDir = staticOpt === 'none' ? null : resolve(staticOpt ?? resolve(here, '..', '..', '..', 'dist'));
  return {
    metadataDir: resolve(metadataDir),
    databaseUrl: pick('database-url', 'HASURA_GRAPHQL_DATABASE_URL'),
    host: pick('host', 'HOST') ?? '127.0.0.1',
    port: num('port', 3000, 'PORT'),
    adminSecret: pick('admin-secret', 'HASURA_GRAPHQL_ADMIN_SECRET'),
    unauthorizedRole: pick('unauthorized-role', 'HASURA_GRAPHQL_UNAUTHORIZED_ROLE'),
    browserRole: pick('browser-role', 'EVENTSCOPE_CONSOLE_BROWSER_ROLE'),
    corsDomain: pick('cors-domain', 'HASURA_GRAPHQL_CORS_DOMAIN') ?? '*',
    corsDisabled: env.HASURA_GRAPHQL_DISABLE_CORS === 'true',
    refetchIntervalMs: num('refetch-interval-ms', 1000, 'HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL'),
    statementTimeoutMs: num('statement-timeout-ms', 10000, 'EVENTSCOPE_STATEMENT_TIMEOUT_MS'),
    maxDepth: num('max-depth', 12, 'EVENTSCOPE_MAX_DEPTH'),
    maxRows: num('max-rows', 10000, 'EVENTSCOPE_MAX_ROWS'),
    bodyLimitBytes: num('body-limit', 1024 * 1024, 'EVENTSCOPE_BODY_LIMIT_BYTES'),
    staticDir,
    poolSize: num('pg-connections', 10, 'HASURA_GRAPHQL_PG_CONNECTIONS'),
    keepAliveSeconds: num('keepalive', 5, 'HASURA_GRAPHQL_WEBSOCKET_KEEPALIVE'),
    exposeInternalErrors: env.HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS !== 'false',
  };
}

export { HELP };
