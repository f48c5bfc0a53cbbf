// Named shapes of query results, taken from the generated operation types (operations.generated.ts), so that
// they change when a query in queries.ts changes and cannot disagree with it.
import type { CorrelationChainResult, InvocationDetailResult } from './operations.generated';

export type InvocationDetailData = NonNullable<InvocationDetailResult['invocations_by_pk']>;
export type EventExecution = InvocationDetailData['event_executions'][number];
export type JobExecution = EventExecution['job_executions'][number];
export type JobLog = JobExecution['logs'][number];
export type ChainInvocation = CorrelationChainResult['invocations'][number];

export interface AggregateCount {
  aggregate: { count: number } | null;
}

export function countOf(a: AggregateCount | null | undefined): number {
  return a?.aggregate?.count ?? 0;
}
