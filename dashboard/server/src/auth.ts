// Role resolution as Hasura does it with an admin secret (Server/Auth.hs), plus the eventscope browser role:
// credential-less requests (the dashboard this server serves) get a fixed read-only role and never a secret.
// A role granted WITHOUT a secret (browser role, unauthorized role, dev mode) is only granted to requests that a
// hostile web page cannot make: no Origin header (not a browser), this server's own origin, or an origin the
// operator listed in HASURA_GRAPHQL_CORS_DOMAIN. Otherwise any page the user visits could read the data.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HasuraError } from './errors.js';
import { ADMIN } from './model.js';
import type { Session } from './compile.js';

export interface AuthConfig {
  adminSecret?: string;
  unauthorizedRole?: string;
  browserRole?: string;
}

/** Where a request comes from, as the transport saw it. */
export interface RequestOrigin {
  /** The Origin header, if any. */
  origin?: string;
  /** true when the origin may be granted a role without a secret (absent, same-origin or allow-listed). */
  trusted: boolean;
}

export interface Resolved {
  role: string;
  session: Session;
  /** true when the role was granted without a secret check (stricter limits apply). */
  anonymous: boolean;
}

export type Headers = Record<string, string | string[] | undefined>;

function lower(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/** Constant-time comparison: digests have equal length, so neither content nor length leaks through timing. */
export function secretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function resolveRole(cfg: AuthConfig, rawHeaders: Headers, from: RequestOrigin = { trusted: true }): Resolved {
  const h = lower(rawHeaders);
  const given = h['x-hasura-admin-secret'] ?? h['x-hasura-access-key'];
  const sessionFrom = (role: string, withHeaders: boolean, anonymous: boolean): Resolved => {
    const session: Session = {};
    if (withHeaders) for (const [k, v] of Object.entries(h)) if (k.startsWith('x-hasura-') && k !== 'x-hasura-admin-secret' && k !== 'x-hasura-access-key') session[k] = v;
    session['x-hasura-role'] = role;
    return { role, session, anonymous };
  };
  const withoutSecret = (r: Resolved): Resolved => {
    if (!from.trusted) {
      throw new HasuraError(`role "${r.role}" is granted without a secret only to this server's own pages; origin ${JSON.stringify(from.origin ?? '')} must send x-hasura-admin-secret or be listed in HASURA_GRAPHQL_CORS_DOMAIN`, 'access-denied');
    }
    return r;
  };
  if (cfg.adminSecret !== undefined && cfg.adminSecret !== '') {
    if (given !== undefined) {
      if (!secretMatches(given, cfg.adminSecret)) throw new HasuraError('invalid x-hasura-admin-secret/x-hasura-access-key', 'access-denied');
      return sessionFrom(h['x-hasura-role'] || ADMIN, true, false);
    }
    // No credential: headers (x-hasura-role included) are ignored, so a browser cannot pick a role.
    if (cfg.browserRole) return withoutSecret(sessionFrom(cfg.browserRole, false, true));
    if (cfg.unauthorizedRole) return withoutSecret(sessionFrom(cfg.unauthorizedRole, false, true));
    throw new HasuraError('x-hasura-admin-secret/x-hasura-access-key required, but not found', 'access-denied');
  }
  // Dev mode (no secret): x-hasura-role is honoured as in Hasura; without it, the browser role if configured.
  if (h['x-hasura-role']) return withoutSecret(sessionFrom(h['x-hasura-role'], true, false));
  return withoutSecret(sessionFrom(cfg.browserRole || ADMIN, !cfg.browserRole, !!cfg.browserRole));
}
