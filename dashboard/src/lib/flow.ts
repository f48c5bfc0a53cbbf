// Graph models of one invocation (flow) and of a correlation chain, laid out with dagre.
import { Graph, layout } from '@dagrejs/dagre';
import type { ChainInvocation, InvocationDetailData } from '../graphql/types';

export type FlowNodeKind = 'invocation' | 'event' | 'job' | 'undetected' | 'upstream' | 'downstream' | 'external';

export interface FlowNodeModel {
  id: string;
  kind: FlowNodeKind;
  label: string;
  sublabel?: string;
  status: string;
  /** id of the record shown when the node is selected (invocation / event / job id) */
  refId?: string;
  width: number;
  height: number;
}

export interface FlowEdgeModel {
  id: string;
  source: string;
  target: string;
  label?: string;
  status?: string;
}

export interface GraphModel {
  nodes: FlowNodeModel[];
  edges: FlowEdgeModel[];
}

export type StatusTone = 'ok' | 'fail' | 'running' | 'muted';

export function statusTone(status: string | null | undefined): StatusTone {
  switch (status) {
    case 'completed':
      return 'ok';
    case 'failed':
    case 'detection_failed':
    case 'handler_failed':
      return 'fail';
    case 'running':
    case 'detecting':
    case 'handling':
      return 'running';
    default:
      return 'muted';
  }
}

const W = 220;
const H = 64;

function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${v} ms`;
}

export function buildInvocationFlow(inv: InvocationDetailData, opts: { expandUndetected: boolean }): GraphModel {
  const nodes: FlowNodeModel[] = [];
  const edges: FlowEdgeModel[] = [];
  const invNode = `inv:${inv.id}`;
  nodes.push({
    id: invNode,
    kind: 'invocation',
    label: inv.source_function,
    sublabel: `${inv.source_table ?? ''} ${inv.source_operation ?? ''} · ${ms(inv.total_duration_ms)}`.trim(),
    status: inv.status,
    refId: inv.id,
    width: W,
    height: H,
  });
  if (inv.source_job_execution) {
    const up = `up:${inv.source_job_execution.id}`;
    nodes.push({
      id: up,
      kind: 'upstream',
      label: `caused by ${inv.source_job_execution.job_name}`,
      sublabel: inv.source_job_execution.invocation?.source_function ?? 'upstream invocation',
      status: inv.source_job_execution.status,
      refId: inv.source_job_execution.invocation_id,
      width: W,
      height: H,
    });
    edges.push({ id: `${up}->${invNode}`, source: up, target: invNode, label: 'DB write' });
  }
  const undetected = inv.event_executions.filter((e) => !e.detected && statusTone(e.status) !== 'fail');
  const shown = inv.event_executions.filter((e) => e.detected || statusTone(e.status) === 'fail' || opts.expandUndetected);
  for (const ev of shown) {
    const evNode = `ev:${ev.id}`;
    nodes.push({
      id: evNode,
      kind: 'event',
      label: ev.event_name,
      sublabel: `detect ${ms(ev.detection_duration_ms)}${ev.detected ? ` · handle ${ms(ev.handler_duration_ms)}` : ''}`,
      status: ev.status,
      refId: ev.id,
      width: W,
      height: H,
    });
    edges.push({ id: `${invNode}->${evNode}`, source: invNode, target: evNode, status: ev.status });
    for (const job of ev.job_executions) {
      const jobNode = `job:${job.id}`;
      nodes.push({
        id: jobNode,
        kind: 'job',
        label: job.job_name,
        sublabel: `${job.status} · ${ms(job.duration_ms)}${job.logs.length ? ` · ${job.logs.length} log${job.logs.length > 1 ? 's' : ''}` : ''}`,
        status: job.status,
        refId: job.id,
        width: W,
        height: H,
      });
      edges.push({ id: `${evNode}->${jobNode}`, source: evNode, target: jobNode, status: job.status });
      for (const t of job.triggered_invocations) {
        const down = `down:${t.id}`;
        if (!nodes.some((n) => n.id === down)) {
          nodes.push({ id: down, kind: 'downstream', label: t.source_function, sublabel: 'triggered invocation', status: t.status, refId: t.id, width: W, height: H });
        }
        edges.push({ id: `${jobNode}->${down}`, source: jobNode, target: down, label: 'DB write' });
      }
    }
  }
  if (!opts.expandUndetected && undetected.length > 0) {
    const id = `undetected:${inv.id}`;
    nodes.push({
      id,
      kind: 'undetected',
      label: `${undetected.length} event${undetected.length > 1 ? 's' : ''} not detected`,
      sublabel: 'click to expand',
      status: 'not_detected',
      width: W,
      height: H,
    });
    edges.push({ id: `${invNode}->${id}`, source: invNode, target: id });
  }
  return { nodes, edges };
}

/**
 * Correlation chain: one node per invocation, an edge from the invocation whose job wrote the
 * row to the invocation that write caused (invocations.source_job_id → job_executions.id).
 */
export function buildChainGraph(invocations: ChainInvocation[]): GraphModel {
  const nodes: FlowNodeModel[] = [];
  const edges: FlowEdgeModel[] = [];
  const present = new Set(invocations.map((i) => i.id));
  for (const inv of invocations) {
    nodes.push({
      id: `inv:${inv.id}`,
      kind: 'invocation',
      label: inv.source_function,
      sublabel: `${inv.source_table ?? ''} ${inv.source_operation ?? ''} · ${ms(inv.total_duration_ms)} · ${inv.total_jobs_run ?? 0} jobs`.trim(),
      status: inv.status,
      refId: inv.id,
      width: W,
      height: H,
    });
  }
  for (const inv of invocations) {
    if (!inv.source_job_id) continue;
    const parentInv = inv.source_job_execution?.invocation_id;
    const jobName = inv.source_job_execution?.job_name ?? 'job';
    if (parentInv && present.has(parentInv)) {
      edges.push({ id: `e:${inv.source_job_id}->${inv.id}`, source: `inv:${parentInv}`, target: `inv:${inv.id}`, label: jobName });
    } else {
      // the causing job belongs to an invocation outside this correlation ID (or was deleted)
      const ext = `ext:${inv.source_job_id}`;
      if (!nodes.some((n) => n.id === ext)) {
        nodes.push({
          id: ext,
          kind: 'external',
          label: `job ${jobName}`,
          sublabel: parentInv ? 'in an invocation with another correlation ID' : 'job record not available',
          status: inv.source_job_execution?.status ?? 'unknown',
          refId: parentInv,
          width: W,
          height: H,
        });
      }
      edges.push({ id: `e:${ext}->${inv.id}`, source: ext, target: `inv:${inv.id}`, label: jobName });
    }
  }
  return { nodes, edges };
}

export interface Positioned {
  id: string;
  x: number;
  y: number;
}

/** Left-to-right layered layout; returns top-left positions. */
export function layoutGraph(model: GraphModel, rankdir: 'LR' | 'TB' = 'LR'): Map<string, Positioned> {
  const g = new Graph();
  g.setGraph({ rankdir, nodesep: 24, ranksep: 80, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of model.nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of model.edges) g.setEdge(e.source, e.target);
  layout(g);
  const out = new Map<string, Positioned>();
  for (const n of model.nodes) {
    const p = g.node(n.id) as { x: number; y: number };
    out.set(n.id, { id: n.id, x: p.x - n.width / 2, y: p.y - n.height / 2 });
  }
  return out;
}

/** Timeline rows of a chain: offset and length relative to the first invocation. */
export function chainTimeline(invocations: ChainInvocation[]) {
  if (invocations.length === 0) return { start: 0, span: 0, rows: [] as { inv: ChainInvocation; offset: number; duration: number }[] };
  const starts = invocations.map((i) => new Date(i.created_at).getTime());
  const start = Math.min(...starts);
  const ends = invocations.map((i, k) => starts[k] + (i.total_duration_ms ?? 0));
  const span = Math.max(1, Math.max(...ends) - start);
  const rows = invocations
    .map((inv, k) => ({ inv, offset: starts[k] - start, duration: inv.total_duration_ms ?? 0 }))
    .sort((a, b) => a.offset - b.offset);
  return { start, span, rows };
}
