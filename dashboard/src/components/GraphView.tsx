import { useMemo } from 'react';
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { layoutGraph, statusTone, type FlowNodeModel, type GraphModel } from '../lib/flow';

type FlowNodeData = { model: FlowNodeModel; selected: boolean };

function StatusNode({ data }: NodeProps<Node<FlowNodeData>>) {
  const m = data.model;
  return (
    <div
      className={`flow-node kind-${m.kind} tone-${statusTone(m.status)}${data.selected ? ' selected' : ''}`}
      data-testid={`flow-node-${m.kind}`}
      data-status={m.status}
      data-ref={m.refId}
      title={`${m.label} — ${m.status}`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="flow-node-kind">{m.kind === 'undetected' ? 'events' : m.kind}</div>
      <div className="flow-node-label">{m.label}</div>
      {m.sublabel ? <div className="flow-node-sub">{m.sublabel}</div> : null}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { status: StatusNode };

const EDGE_COLORS: Record<string, string> = { ok: '#16a34a', fail: '#dc2626', running: '#2563eb', muted: '#94a3b8' };

export function GraphView({
  model,
  selectedId,
  onSelect,
  height = 520,
}: {
  model: GraphModel;
  selectedId: string | null;
  onSelect: (node: FlowNodeModel) => void;
  height?: number;
}) {
  const positions = useMemo(() => layoutGraph(model), [model]);
  // Fit to content: the canvas is as tall as the laid-out graph needs (up to `height`), so a small invocation is
  // not a few tiny nodes inside a large empty canvas; fitView then zooms at most to 1.25.
  const canvasHeight = useMemo(() => {
    let top = Infinity;
    let bottom = -Infinity;
    for (const n of model.nodes) {
      const p = positions.get(n.id);
      if (!p) continue;
      top = Math.min(top, p.y);
      bottom = Math.max(bottom, p.y + n.height);
    }
    if (!Number.isFinite(top)) return Math.min(height, 200);
    return Math.round(Math.min(height, Math.max(200, (bottom - top) * 1.25 + 80)));
  }, [model, positions, height]);
  const nodes: Node<FlowNodeData>[] = useMemo(
    () =>
      model.nodes.map((n) => ({
        id: n.id,
        type: 'status',
        position: { x: positions.get(n.id)!.x, y: positions.get(n.id)!.y },
        data: { model: n, selected: n.id === selectedId },
        draggable: true,
        width: n.width,
        height: n.height,
        style: { width: n.width, height: n.height },
      })),
    [model, positions, selectedId],
  );
  const edges: Edge[] = useMemo(
    () =>
      model.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        label: e.label,
        animated: e.status === 'running',
        style: { stroke: EDGE_COLORS[statusTone(e.status)] ?? '#94a3b8', strokeWidth: 1.5 },
      })),
    [model],
  );
  return (
    <div className="graph" style={{ height: canvasHeight }} data-testid="graph" data-height={canvasHeight}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.25 }}
        minZoom={0.1}
        nodesConnectable={false}
        onNodeClick={(_, node) => onSelect((node.data as FlowNodeData).model)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
