// Configuration from CLI flags (win) and the environment (Hasura's variable names where one exists). Every option
// is one row of OPTIONS: its flag, its variables, its default and its parser, so the flags accepted, the help text
// and the values read cannot disagree. HASURA_GRAPHQL_* variables this server does not implement are reported at
// start-up (unsupportedHasuraSettings), never ignored silently.
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
  allowedHosts: string[];       // Host header names accepted besides the bind address ("*" = any)
  refetchIntervalMs: number;
  liveQueryBatchSize: number;
  liveQueriesMultiplexing: boolean;
  streamRefetchIntervalMs: number;
  streamBatchSize: number;
  statementTimeoutMs: number;
  anonymousStatementTimeoutMs: number;
  maxDepth: number;
  maxNodes: number;
  maxCost: number;
  anonymousMaxCost: number;
  heavyCost: number;
  heavyConnections: number;
  clientConnections: number;
  queueTimeoutMs: number;
  maxRows: number;
  bodyLimitBytes: number;
  staticDir: string | null;
  poolSize?: number;            // unset: the source's pool_settings.max_connections, else 10
  keepAliveSeconds: number;
  exposeInternalErrors: boolean;
  stringifyNumericTypes: boolean;
  v1BooleanNullCollapse: boolean;
  enableMetrics: boolean;
}

type Parse = (v: string, name: string) => unknown;
interface Option { key: keyof Config; flag: string; env: string[]; dflt?: unknown; parse: Parse; arg: string; help: string }

const num: Parse = (v, name) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${name}: expected a non-negative number, got "${v}"`);
  return n;
};
const bool: Parse = (v, name) => {
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${v}"`);
};
const str: Parse = (v) => v;
const list: Parse = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);

const OPTIONS: Option[] = [
  { key: 'metadataDir', flag: 'metadata-dir', env: ['HASURA_GRAPHQL_METADATA_DIR'], parse: str, arg: 'DIR', help: 'Hasura v2 metadata directory (required)' },
  { key: 'databaseUrl', flag: 'database-url', env: ['HASURA_GRAPHQL_DATABASE_URL'], parse: str, arg: 'URL', help: "PostgreSQL URL (default: the source's database_url)" },
  { key: 'host', flag: 'host', env: ['HOST'], dflt: '127.0.0.1', parse: str, arg: 'H', help: 'listen address' },
  { key: 'port', flag: 'port', env: ['PORT', 'HASURA_GRAPHQL_SERVER_PORT'], dflt: 3000, parse: num, arg: 'N', help: 'listen port' },
  { key: 'adminSecret', flag: 'admin-secret', env: ['HASURA_GRAPHQL_ADMIN_SECRET'], parse: str, arg: 'S', help: 'x-hasura-admin-secret required for admin' },
  { key: 'unauthorizedRole', flag: 'unauthorized-role', env: ['HASURA_GRAPHQL_UNAUTHORIZED_ROLE'], parse: str, arg: 'R', help: 'role for requests without credentials (secret mode)' },
  { key: 'browserRole', flag: 'browser-role', env: ['EVENTSCOPE_CONSOLE_BROWSER_ROLE'], parse: str, arg: 'R', help: "role for credential-less requests from this server's own pages" },
  { key: 'staticDir', flag: 'static-dir', env: ['EVENTSCOPE_CONSOLE_STATIC_DIR'], parse: str, arg: 'DIR|none', help: 'built dashboard to serve' },
  { key: 'corsDomain', flag: 'cors-domain', env: ['HASURA_GRAPHQL_CORS_DOMAIN'], dflt: '*', parse: str, arg: 'LIST', help: 'CORS origins ("*" or a comma list)' },
  { key: 'corsDisabled', flag: 'disable-cors', env: ['HASURA_GRAPHQL_DISABLE_CORS'], dflt: false, parse: bool, arg: 'BOOL', help: 'no CORS headers at all' },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: ['EVENTSCOPE_CONSOLE_ALLOWED_HOSTS'], dflt: [], parse: list, arg: 'LIST', help: 'Host header names accepted besides the bind address ("*" = any)' },
  { key: 'statementTimeoutMs', flag: 'statement-timeout-ms', env: ['EVENTSCOPE_STATEMENT_TIMEOUT_MS'], dflt: 10000, parse: num, arg: 'N', help: 'statement_timeout per request' },
  { key: 'anonymousStatementTimeoutMs', flag: 'anonymous-statement-timeout-ms', env: ['EVENTSCOPE_ANONYMOUS_STATEMENT_TIMEOUT_MS'], dflt: 5000, parse: num, arg: 'N', help: 'statement_timeout for roles granted without a secret (browser / unauthorized role)' },
  { key: 'maxDepth', flag: 'max-depth', env: ['EVENTSCOPE_MAX_DEPTH'], dflt: 12, parse: num, arg: 'N', help: 'maximum selection depth' },
  { key: 'maxNodes', flag: 'max-nodes', env: ['EVENTSCOPE_MAX_NODES'], dflt: 2000, parse: num, arg: 'N', help: 'maximum number of selected fields (0 = no limit)' },
  { key: 'maxCost', flag: 'max-cost', env: ['EVENTSCOPE_MAX_COST'], dflt: 1e9, parse: num, arg: 'N', help: 'maximum PostgreSQL EXPLAIN cost of one request (0 = no check)' },
  { key: 'anonymousMaxCost', flag: 'anonymous-max-cost', env: ['EVENTSCOPE_ANONYMOUS_MAX_COST'], dflt: 1e8, parse: num, arg: 'N', help: 'the same for roles granted without a secret' },
  { key: 'heavyCost', flag: 'heavy-cost', env: ['EVENTSCOPE_HEAVY_COST'], dflt: 1e6, parse: num, arg: 'N', help: 'EXPLAIN cost above which a request only runs on a heavy slot' },
  { key: 'heavyConnections', flag: 'heavy-connections', env: ['EVENTSCOPE_HEAVY_CONNECTIONS'], parse: num, arg: 'N', help: 'connections heavy requests may hold at once (default: half the pool)' },
  { key: 'clientConnections', flag: 'client-connections', env: ['EVENTSCOPE_CLIENT_CONNECTIONS'], parse: num, arg: 'N', help: 'connections one client (remote address + role) may hold at once (default: three quarters of the pool)' },
  { key: 'queueTimeoutMs', flag: 'queue-timeout-ms', env: ['EVENTSCOPE_QUEUE_TIMEOUT_MS'], dflt: 10000, parse: num, arg: 'N', help: 'longest wait for a connection before "server busy"' },
  { key: 'maxRows', flag: 'max-rows', env: ['EVENTSCOPE_MAX_ROWS'], dflt: 10000, parse: num, arg: 'N', help: 'cap on every list (0 = none)' },
  { key: 'bodyLimitBytes', flag: 'body-limit', env: ['EVENTSCOPE_BODY_LIMIT_BYTES'], dflt: 1024 * 1024, parse: num, arg: 'BYTES', help: 'request body / WebSocket message limit' },
  { key: 'refetchIntervalMs', flag: 'refetch-interval-ms', env: ['HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL'], dflt: 1000, parse: num, arg: 'N', help: 'live-query poll interval' },
  { key: 'liveQueryBatchSize', flag: 'live-queries-batch-size', env: ['HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_BATCH_SIZE'], dflt: 100, parse: num, arg: 'N', help: 'live-query subscribers per multiplexed SQL statement' },
  { key: 'liveQueriesMultiplexing', flag: 'live-queries-multiplexing', env: ['EVENTSCOPE_LIVE_QUERIES_MULTIPLEXING'], dflt: true, parse: bool, arg: 'BOOL', help: 'false: every live-query subscriber polls with its own statement (the pre-issue-13 behaviour, for comparison)' },
  { key: 'streamRefetchIntervalMs', flag: 'streaming-refetch-interval-ms', env: ['HASURA_GRAPHQL_STREAMING_QUERIES_MULTIPLEXED_REFETCH_INTERVAL'], dflt: 1000, parse: num, arg: 'N', help: 'streaming-subscription poll interval' },
  { key: 'streamBatchSize', flag: 'streaming-batch-size', env: ['HASURA_GRAPHQL_STREAMING_QUERIES_MULTIPLEXED_BATCH_SIZE'], dflt: 100, parse: num, arg: 'N', help: 'streaming subscribers per multiplexed SQL statement' },
  { key: 'poolSize', flag: 'pg-connections', env: ['HASURA_GRAPHQL_PG_CONNECTIONS'], parse: num, arg: 'N', help: 'pool size (default: pool_settings.max_connections, else 10)' },
  { key: 'keepAliveSeconds', flag: 'websocket-keepalive', env: ['HASURA_GRAPHQL_WEBSOCKET_KEEPALIVE'], dflt: 5, parse: num, arg: 'N', help: "seconds between 'ka' messages (legacy protocol)" },
  { key: 'exposeInternalErrors', flag: 'admin-internal-errors', env: ['HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS'], dflt: true, parse: bool, arg: 'BOOL', help: 'Postgres error details in extensions.internal for admin' },
  { key: 'stringifyNumericTypes', flag: 'stringify-numeric-types', env: ['HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES'], dflt: false, parse: bool, arg: 'BOOL', help: 'bigint, numeric, float8, money as JSON strings' },
  { key: 'v1BooleanNullCollapse', flag: 'v1-boolean-null-collapse', env: ['HASURA_GRAPHQL_V1_BOOLEAN_NULL_COLLAPSE'], dflt: false, parse: bool, arg: 'BOOL', help: 'comparison operators given null are dropped (Hasura v1)' },
  { key: 'enableMetrics', flag: 'metrics', env: ['EVENTSCOPE_CONSOLE_METRICS'], dflt: true, parse: bool, arg: 'BOOL', help: 'serve GET /metrics (Prometheus text)' },
];

/** Hasura variables that are read by this server, directly or as a no-op that is stated in the README. */
const HASURA_UNDERSTOOD = new Set([
  ...OPTIONS.flatMap((o) => o.env).filter((e) => e.startsWith('HASURA_GRAPHQL_')),
  // Accepted with Hasura's meaning, nothing to do for a read-only server that logs to stdout:
  'HASURA_GRAPHQL_ENABLE_CONSOLE', 'HASURA_GRAPHQL_ENABLE_TELEMETRY', 'HASURA_GRAPHQL_DEV_MODE', 'HASURA_GRAPHQL_ENABLED_LOG_TYPES',
  'HASURA_GRAPHQL_LOG_LEVEL', 'HASURA_GRAPHQL_SERVER_HOST', 'HASURA_GRAPHQL_ENABLE_ALLOWLIST',
]);
const HASURA_NO_EFFECT: Record<string, string> = {
  HASURA_GRAPHQL_ENABLE_CONSOLE: 'no Hasura console here (the dashboard is served instead)',
  HASURA_GRAPHQL_ENABLE_TELEMETRY: 'this server sends no telemetry',
  HASURA_GRAPHQL_DEV_MODE: 'extensions.internal is governed by HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS (admin only)',
  HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'this server logs start-up and errors to stdout/stderr only',
  HASURA_GRAPHQL_LOG_LEVEL: 'this server logs start-up and errors to stdout/stderr only',
  HASURA_GRAPHQL_SERVER_HOST: 'use HOST or --host',
  HASURA_GRAPHQL_ENABLE_ALLOWLIST: 'allow lists are not supported (the server refuses to start when it is true)',
};

/** Start-up notes for every HASURA_GRAPHQL_* variable set in the environment that this server does not apply. */
export function unsupportedHasuraSettings(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const k of Object.keys(env).sort()) {
    if (!k.startsWith('HASURA_GRAPHQL_') || env[k] === undefined || env[k] === '') continue;
    if (k in HASURA_NO_EFFECT) out.push(`${k} has no effect here: ${HASURA_NO_EFFECT[k]}`);
    else if (!HASURA_UNDERSTOOD.has(k)) out.push(`${k} is not supported by this server and is ignored`);
  }
  return out;
}

const HELP = `eventscope console server: Hasura v2 compatible read-only GraphQL over PostgreSQL

usage: node dist-server/src/main.js [options]   (a flag wins over its environment variable)
${OPTIONS.map((o) => `  --${o.flag} ${o.arg}`.padEnd(44) + `${o.help}${o.env.length ? ` [${o.env.join(', ')}]` : ''}`).join('\n')}`;

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
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  for (const k of Object.keys(flags)) if (!byFlag.has(k)) throw new ConfigError(`unknown flag --${k}\n${HELP}`);
  if (env.HASURA_GRAPHQL_ENABLE_ALLOWLIST === 'true') throw new ConfigError('HASURA_GRAPHQL_ENABLE_ALLOWLIST=true: allow lists are not supported by this server');
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    let raw: string | undefined = flags[o.flag];
    let name = `--${o.flag}`;
    if (raw === undefined) {
      const v = o.env.find((e) => env[e] !== undefined && env[e] !== '');
      if (v) { raw = env[v]; name = v; }
    }
    out[o.key] = raw === undefined ? o.dflt : o.parse(raw, name);
  }
  const c = out as unknown as Config;
  if (!c.metadataDir) throw new ConfigError(`no metadata directory: pass --metadata-dir or set HASURA_GRAPHQL_METADATA_DIR\n${HELP}`);
  c.metadataDir = resolve(c.metadataDir);
  const here = dirname(fileURLToPath(import.meta.url)); // dist-server/src
  const staticOpt = out.staticDir as string | undefined;
  c.staticDir = staticOpt === 'none' ? null : resolve(staticOpt ?? resolve(here, '..', '..', '..', 'dist'));
  return c;
}

export { HELP };
