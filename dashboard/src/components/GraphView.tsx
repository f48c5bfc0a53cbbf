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
  const nodes: Node<FlowNodeData>[] = useMemo(
    () =>
      model.nodes.map((n) => ({
        id: n.id,
        type: 'status',
        position: { x: positions.get(n.id)!.x, y: positions.get(n.id)!.y },
        data: { model: n, selected: n.id === selectedId },
        draggable: true,
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
    <div className="graph" style={{ height }} data-testid="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15 }}
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
