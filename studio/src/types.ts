// What the studio's server sends (osop/studio/check.py, runs.py, app.py).

export type Scalar = string | number | boolean | null;

export interface Issue {
  severity: "error" | "warning" | "info";
  rule: string;
  message: string;
  pointer: string;
  line: number | null;
  column: number | null;
  hint?: string | null;
  node?: string | null;
  edge?: number;
}

export interface GraphNode {
  index: number;
  id: string;
  type: string | null;
  name: string | null;
  role: string | null;
  fields: Record<string, Scalar>;
  position: { x: number; y: number } | null;
}

export interface GraphEdge {
  index: number;
  from: string | null;
  to: string | null;
  mode: string;
  when: string | null;
  label: string | null;
  fields: Record<string, Scalar>;
}

export interface Graph {
  id: string | null;
  name: string | null;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface StoryStep {
  number: number;
  id: string;
  label: string;
  who: string;
  what: string;
  why: string | null;
  next: string[];
}

export interface RoleGroup {
  actor: string;
  title: string;
  share: number;
  roles: string[];
  nodes: { id: string; label: string; type: string; role: string | null }[];
}

export interface Report {
  kind: string | null;
  valid: boolean;
  issues: Issue[];
  graph: Graph | null;
  story: StoryStep[];
  roles: RoleGroup[];
  agent: string | null;
}

export interface Session {
  version: string;
  folder: string;
  files: string[];
  templates: { name: string; summary: string }[];
  views: string[];
}

export interface RunInfo {
  run_id: string;
  workflow_id: string | null;
  mode: string | null;
  status: string;
  started_at: string | null;
  ended_at?: string | null;
}

export interface NodeRecord {
  node_id: string;
  node_type?: string;
  attempt?: number;
  status: string;
  started_at?: string | null;
  ended_at?: string | null;
  duration_ms?: number | null;
  error?: { code?: string | null; message?: string } | null;
  outputs?: unknown;
}

export interface RunRecord {
  run_id: string;
  workflow_id: string;
  status: string;
  mode?: string;
  started_at?: string;
  ended_at?: string;
  node_records: NodeRecord[];
}

export type JsonSchema = Record<string, unknown>;
