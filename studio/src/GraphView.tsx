// The Graph view: nodes and edges of the document on a canvas (React Flow),
// laid out by ELK where no position is stored, with issues on nodes and edges.

import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  applyNodeChanges,
  getBezierPath,
  type Connection,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeChange,
  type NodeProps,
} from "@xyflow/react";
import { elkLayout } from "./layout";
import type { Graph, Issue } from "./types";

export type Op = Record<string, unknown>;

export interface NodeStatus {
  status: string;
  attempts: number;
  active: boolean;
}

interface StepData extends Record<string, unknown> {
  id: string;
  type: string | null;
  name: string | null;
  issues: Issue[];
  status: NodeStatus | null;
}

interface FlowData extends Record<string, unknown> {
  index: number;
  mode: string;
  caption: string | null;
  issues: Issue[];
}

function worst(issues: Issue[]): string {
  if (issues.some((i) => i.severity === "error")) return "error";
  if (issues.some((i) => i.severity === "warning")) return "warning";
  return "";
}

const StepNode = memo(function StepNode({ data, selected }: NodeProps<Node<StepData>>) {
  const level = worst(data.issues);
  const status = data.status;
  const classes = ["step", `actor-${data.type ?? "unknown"}`, level, selected ? "selected" : ""];
  if (status) classes.push(`run-${status.status.toLowerCase()}`, status.active ? "run-active" : "");
  return (
    <div className={classes.join(" ")} data-testid={`node-${data.id}`} data-node-id={data.id}>
      <Handle type="target" position={Position.Top} />
      <div className="step-type">{data.type ?? "?"}</div>
      <div className="step-name">{data.name ?? data.id}</div>
      <div className="step-id">{data.id}</div>
      {status ? (
        <div className="step-status" data-testid={`status-${data.id}`}>
          {status.status}
          {status.attempts > 1 ? ` ×${status.attempts}` : ""}
        </div>
      ) : null}
      {data.issues.length > 0 ? (
        <div className={`badges ${level}`} data-testid={`node-issues-${data.id}`}>
          {[...new Set(data.issues.map((i) => i.rule))].join(" ")}
        </div>
      ) : null}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
});

function FlowEdge(props: EdgeProps<Edge<FlowData>>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, markerEnd, selected } =
    props;
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const issues = data?.issues ?? [];
  const level = worst(issues);
  const stroke = level === "error" ? "#ef4444" : level === "warning" ? "#eab308" : selected ? "#3b82f6" : "#6b7280";
  const caption = data?.mode && data.mode !== "sequential" ? `${data.mode}${data.caption ? ": " + data.caption : ""}` : data?.caption;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={{ stroke, strokeWidth: selected ? 2.5 : 1.5 }} />
      {caption || issues.length ? (
        <EdgeLabelRenderer>
          <div
            className={`edge-label ${level}`}
            data-testid={`edge-label-${data?.index}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {caption ? <span className="caption">{caption}</span> : null}
            {issues.length ? (
              <span className="rules" data-testid={`edge-issues-${data?.index}`} title={issues.map((i) => i.message).join("\n")}>
                {[...new Set(issues.map((i) => i.rule))].join(" ")}
              </span>
            ) : null}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}

const nodeTypes = { step: StepNode };
const edgeTypes = { flow: FlowEdge };

export interface Selection {
  kind: "node" | "edge";
  key: string; // node id, or edge index as text
}

export interface GraphViewProps {
  graph: Graph;
  issues: Issue[];
  readOnly?: boolean;
  statuses?: Record<string, NodeStatus>;
  selection: Selection | null;
  onSelect: (selection: Selection | null) => void;
  onEdit?: (ops: Op[]) => void;
  onReady?: () => void;
  /** Filled with where every node is drawn (stored, laid out or dragged). */
  positionsRef?: { current: Record<string, { x: number; y: number }> };
}

export function GraphView({
  graph,
  issues,
  readOnly,
  statuses,
  selection,
  onSelect,
  onEdit,
  onReady,
  positionsRef,
}: GraphViewProps) {
  const [layout, setLayout] = useState<Record<string, { x: number; y: number }>>({});
  const [nodes, setNodes] = useState<Node<StepData>[]>([]);
  const structure = useMemo(
    () => JSON.stringify([graph.nodes.map((n) => n.id), graph.edges.map((e) => [e.from, e.to])]),
    [graph],
  );
  const laidOut = useRef<string | null>(null);

  useEffect(() => {
    // Lay out again only when nodes without a stored position are there.
    const missing = graph.nodes.some((n) => n.position === null && !(n.id in layout));
    if (!missing && laidOut.current !== null) return;
    let cancelled = false;
    elkLayout(
      graph.nodes.map((n) => n.id),
      graph.edges.filter((e) => e.from && e.to).map((e) => ({ from: e.from!, to: e.to! })),
    ).then((result) => {
      if (!cancelled) {
        laidOut.current = structure;
        setLayout(result);
      }
    });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [structure]);

  useEffect(() => {
    setNodes((previous) => {
      const before = new Map(previous.map((n) => [n.id, n]));
      return graph.nodes.map((n) => {
        const old = before.get(n.id);
        const position = n.position ?? layout[n.id] ?? old?.position ?? { x: 0, y: 0 };
        return {
          id: n.id,
          type: "step",
          position: old?.dragging ? old.position : position,
          selected: selection?.kind === "node" && selection.key === n.id,
          data: {
            id: n.id,
            type: n.type,
            name: n.name,
            issues: issues.filter((i) => i.node === n.id),
            status: statuses?.[n.id] ?? null,
          },
        };
      });
    });
  }, [graph, layout, issues, statuses, selection]);

  useEffect(() => {
    if (positionsRef) positionsRef.current = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
  }, [nodes, positionsRef]);

  const ready = useRef(false);
  useEffect(() => {
    if (!ready.current && nodes.length > 0 && Object.keys(layout).length > 0) {
      ready.current = true;
      onReady?.();
    }
  }, [nodes, layout, onReady]);

  const edges: Edge<FlowData>[] = useMemo(
    () =>
      graph.edges
        .filter((e) => e.from && e.to)
        .map((e) => ({
          id: `edge-${e.index}`,
          source: e.from!,
          target: e.to!,
          type: "flow",
          selected: selection?.kind === "edge" && selection.key === String(e.index),
          markerEnd: { type: MarkerType.ArrowClosed },
          data: { index: e.index, mode: e.mode, caption: e.label ?? e.when, issues: issues.filter((i) => i.edge === e.index) },
        })),
    [graph, issues, selection],
  );

  const onNodesChange = useCallback((changes: NodeChange<Node<StepData>>[]) => {
    setNodes((current) => applyNodeChanges(changes, current));
  }, []);

  const placed = graph.nodes.every((n) => n.position !== null || n.id in layout);
  if (!placed && Object.keys(layout).length === 0) return <div className="empty">Laying out…</div>;
  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      onNodesChange={onNodesChange}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      onNodeDragStop={(_event, _node, dragged) => {
        if (readOnly || !onEdit) return;
        const positions: Record<string, { x: number; y: number }> = {};
        for (const n of dragged) positions[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
        onEdit([{ op: "move_nodes", positions }]);
      }}
      onConnect={(connection: Connection) => {
        if (readOnly || !onEdit || !connection.source || !connection.target) return;
        onEdit([{ op: "add_edge", edge: { from: connection.source, to: connection.target } }]);
      }}
      onNodeClick={(_e, node) => onSelect({ kind: "node", key: node.id })}
      onEdgeClick={(_e, edge) => onSelect({ kind: "edge", key: String((edge.data as FlowData).index) })}
      onPaneClick={() => onSelect(null)}
      deleteKeyCode={null}
      fitView
      fitViewOptions={{ maxZoom: 1 }}
      minZoom={0.05}
      proOptions={{ hideAttribution: true }}
    >
      <Background />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
