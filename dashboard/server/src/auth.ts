// Role resolution as Hasura does it with an admin secret (Server/Auth.hs), plus the eventscope browser role:
// credential-less requests (the dashboard this server serves) get a fixed read-only role and never a secret.
import { HasuraError } from './errors.js';
import { ADMIN } from './model.js';
import type { Session } from './compile.js';

export interface AuthConfig {
  adminSecret?: string;
  unauthorizedRole?: string;
  browserRole?: string;
}

export interface Resolved { role: string; session: Session }

export type Headers = Record<string, string | string[] | undefined>;

function lower(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

export function resolveRole(cfg: AuthConfig, rawHeaders: Headers): Resolved {
  const h = lower(rawHeaders);
  const given = h['x-hasura-admin-secret'] ?? h['x-hasura-access-key'];
  const sessionFrom = (role: string, withHeaders: boolean): Resolved => {
    const session: Session = {};
    if (withHeaders) for (const [k, v] of Object.entries(h)) if (k.startsWith('x-hasura-') && k !== 'x-hasura-admin-secret' && k !== 'x-hasura-access-key') session[k] = v;
    session['x-hasura-role'] = role;
    return { role, session };
  };
  if (cfg.adminSecret !== undefined && cfg.adminSecret !== '') {
    if (given !== undefined) {
      if (given !== cfg.adminSecret) throw new HasuraError('invalid x-hasura-admin-secret/x-hasura-access-key', 'access-denied');
      return sessionFrom(h['x-hasura-role'] || ADMIN, true);
    }
    // No credential: headers (x-hasura-role included) are ignored, so a browser cannot pick a role.
    if (cfg.browserRole) return sessionFrom(cfg.browserRole, false);
    if (cfg.unauthorizedRole) return sessionFrom(cfg.unauthorizedRole, false);
    throw new HasuraError('x-hasura-admin-secret/x-hasura-access-key required, but not found', 'access-denied');
  }
  // Dev mode (no secret): x-hasura-role is honoured as in Hasura; without it, the browser role if configured.
  if (h['x-hasura-role']) return sessionFrom(h['x-hasura-role'], true);
  return sessionFrom(cfg.browserRole || ADMIN, !cfg.browserRole);
}
