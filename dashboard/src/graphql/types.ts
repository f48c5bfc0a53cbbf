// Named shapes of query results, taken from the generated operation types (operations.generated.ts), so that
// they change when a query in queries.ts changes and cannot disagree with it.
import type {
  CorrelationChainResult,
  DetectionFunnelResult,
  FunnelStoppedAtResult,
  InvocationDetailResult,
  InvocationValuesResult,
  ReplayReportResult,
  ReplayRunsResult,
} from './operations.generated';

export type InvocationDetailData = NonNullable<InvocationDetailResult['invocations_by_pk']>;
export type EventExecution = InvocationDetailData['event_executions'][number];
export type JobExecution = EventExecution['job_executions'][number];
export type JobLog = JobExecution['logs'][number];
export type ChainInvocation = CorrelationChainResult['invocations'][number];
export type InvocationValuesData = NonNullable<InvocationValuesResult['invocations_by_pk']>;
export type FunnelClause = DetectionFunnelResult['clauses'][number];
export type StoppedAtRow = FunnelStoppedAtResult['event_executions'][number];
export type ReplayRun = ReplayRunsResult['replay_runs'][number];
export type ReplayReportData = NonNullable<ReplayReportResult['replay_runs_by_pk']>;
export type ReplayReportRow = ReplayReportData['report'][number];
export type ReplayDecision = ReplayReportData['decisions'][number];

export interface AggregateCount {
  aggregate: { count: number } | null;
}

export function countOf(a: AggregateCount | null | undefined): number {
  return a?.aggregate?.count ?? 0;
}
