import { useQuery } from '@tanstack/react-query';
import { gqlRequest, ApiError } from '../graphql/client';
import { HealthCheck } from '../graphql/queries';
import { formatAgo, formatTimestamp } from '../lib/format';
import { useNow } from '../lib/hooks';

export function HealthIndicator() {
  const now = useNow(5000);
  const q = useQuery({
    queryKey: ['health'],
    queryFn: () => gqlRequest(HealthCheck),
    refetchInterval: 30_000,
    retry: 0,
  });
  let tone = 'muted';
  let label = 'checking…';
  let title = '';
  if (q.isError) {
    const e = q.error instanceof ApiError ? q.error : null;
    tone = 'fail';
    if (e?.kind === 'unreachable') label = 'API unreachable';
    else if (e?.kind === 'database') label = 'database unreachable';
    else if (e?.kind === 'permission') label = 'permission denied';
    else label = 'API error';
    title = (q.error as Error).message;
  } else if (q.data) {
    const newest = q.data.invocations[0];
    tone = 'ok';
    label = newest ? `API+DB ok · newest ${formatAgo(newest.created_at, now)}` : 'API+DB ok · no records yet';
    title = newest ? `newest invocation recorded ${formatTimestamp(newest.created_at)}` : 'the database has no invocations yet';
  }
  return (
    <div className={`health tone-${tone}`} title={title} data-testid="health" aria-live="polite">
      <span className="dot" aria-hidden /> {label}
    </div>
  );
}
