// Runtime configuration from the seed's REACT_APP_* variables (dashboard/.env), mapped by
// vite's envPrefix. Parsing is separated from import.meta.env so it can be unit tested.

export interface DashboardConfig {
  graphqlEndpoint: string;
  adminSecret: string | null;
  showCorrelationChains: boolean;
  showRawPayloads: boolean;
  defaultTimeRangeHours: number;
  overviewPollingMs: number;
}

type Env = Record<string, string | boolean | undefined>;

function str(v: string | boolean | undefined): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function parseBool(v: string | boolean | undefined, fallback: boolean): boolean {
  if (typeof v === 'boolean') return v;
  const s = str(v).toLowerCase();
  if (s === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return fallback;
}

export function parsePositiveNumber(v: string | boolean | undefined, fallback: number, allowZero = false): number {
  const s = str(v);
  if (s === '') return fallback;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) return fallback;
  return n;
}

export function parseConfig(env: Env): DashboardConfig {
  const endpoint = str(env.REACT_APP_GRAPHQL_ENDPOINT) || str(env.VITE_GRAPHQL_ENDPOINT) || '/v1/graphql';
  const secret = str(env.REACT_APP_HASURA_ADMIN_SECRET);
  return {
    graphqlEndpoint: endpoint,
    adminSecret: secret === '' ? null : secret,
    showCorrelationChains: parseBool(env.REACT_APP_SHOW_CORRELATION_CHAINS, true),
    showRawPayloads: parseBool(env.REACT_APP_SHOW_RAW_PAYLOADS, false),
    defaultTimeRangeHours: parsePositiveNumber(env.REACT_APP_DEFAULT_TIME_RANGE, 24),
    overviewPollingMs: parsePositiveNumber(env.REACT_APP_OVERVIEW_POLLING, 30000, true),
  };
}

export const config: DashboardConfig = parseConfig(import.meta.env as unknown as Env);
