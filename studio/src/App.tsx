// OSOP Studio: one document of the opened folder, in switchable views.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import { AgentView } from "./AgentView";
import { api } from "./api";
import { applyMinimalChange, useSharedText } from "./collab";
import { GraphView, type Op, type Selection } from "./GraphView";
import { LedgerView } from "./LedgerView";
import { formFields } from "./schemaForm";
import { SidePanel } from "./SidePanel";
import { RolesView, StoryView } from "./StoryView";
import { YamlView } from "./YamlView";
import type { Graph, JsonSchema, Report, Scalar, Session } from "./types";

type View = "graph" | "yaml" | "story" | "roles" | "agent" | "ledger";
const VIEW_TITLES: Record<View, string> = {
  graph: "Graph",
  yaml: "YAML",
  story: "Story",
  roles: "Roles",
  agent: "Agent",
  ledger: "Ledger",
};
const NODE_TYPES = [
  "human", "agent", "api", "cli", "db", "git", "docker", "cicd", "mcp", "system", "infra", "data",
  "company", "department", "event", "gateway",
];

function guestName(): string {
  const saved = sessionStorage.getItem("osop-studio-name");
  if (saved) return saved;
  const name = `Guest ${Math.floor(100 + Math.random() * 900)}`;
  sessionStorage.setItem("osop-studio-name", name);
  return name;
}

function NewFileForm({ session, onCreated }: { session: Session; onCreated: (path: string) => void }) {
  const [template, setTemplate] = useState(session.templates[0]?.name ?? "basic");
  const [path, setPath] = useState("new-process.osop.yaml");
  const [id, setId] = useState("new-process");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="new-file"
      onSubmit={(e) => {
        e.preventDefault();
        api<{ path: string }>("POST", "/api/new", { path, template, id })
          .then((r) => onCreated(r.path))
          .catch((err: Error) => setError(err.message));
      }}
    >
      <h3>New workflow</h3>
      <label>
        Template{" "}
        <select name="template" value={template} onChange={(e) => setTemplate(e.target.value)}>
          {session.templates.map((t) => (
            <option key={t.name} value={t.name} title={t.summary}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        File <input name="path" value={path} onChange={(e) => setPath(e.target.value)} />
      </label>
      <label>
        Id <input name="id" value={id} onChange={(e) => setId(e.target.value)} />
      </label>
      <button type="submit">Create</button>
      {error ? <div className="error-text">{error}</div> : null}
    </form>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [path, setPath] = useState<string | null>(() => new URLSearchParams(window.location.search).get("file"));
  const [view, setView] = useState<View>("graph");
  const [report, setReport] = useState<Report | null>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [message, setMessage] = useState<string>("");
  const [runId, setRunId] = useState<string | null>(null);
  const [runsRefresh, setRunsRefresh] = useState(0);
  const [addType, setAddType] = useState("cli");
  const [fatal, setFatal] = useState<string | null>(null);
  const userName = useMemo(guestName, []);
  const { shared, text, connected, peers } = useSharedText(path, userName);
  const queue = useRef<Promise<void>>(Promise.resolve());
  const reserved = useRef<string[]>([]);
  const reservedAt = useRef<Record<string, { x: number; y: number }>>({});
  const positions = useRef<Record<string, { x: number; y: number }>>({});

  const loadSession = useCallback(() => {
    api<Session>("GET", "/api/session")
      .then(setSession)
      .catch((e: Error) => setFatal(e.message));
  }, []);
  useEffect(() => {
    loadSession();
  }, [loadSession]);

  // The YAML view completes and explains from the schema of the file's kind.
  const schemaKind = path?.endsWith(".sop") ? "sop" : "osop";
  useEffect(() => {
    api<JsonSchema>("GET", `/api/schema?kind=${schemaKind}`).then(setSchema).catch(() => setSchema(null));
  }, [schemaKind]);

  useEffect(() => {
    setReport(null);
    setGraph(null);
    setSelection(null);
    setRunId(null);
  }, [path]);

  // Live validation: every change goes to the server's validator (one source of truth).
  const checkSeq = useRef(0);
  useEffect(() => {
    if (text === null || path === null) return;
    const seq = ++checkSeq.current;
    const timer = window.setTimeout(() => {
      api<Report>("POST", "/api/check", { path, text })
        .then((r) => {
          if (seq !== checkSeq.current) return;
          setReport(r);
          if (r.graph) setGraph(r.graph);
        })
        .catch((e: Error) => setMessage(e.message));
    }, 120);
    return () => window.clearTimeout(timer);
  }, [text, path]);

  // An edit is computed by the server on the text as it stands; if someone else
  // changed the text meanwhile, it is computed again on the new text.
  const edit = useCallback(
    (ops: Op[]) => {
      if (!shared || path === null) return;
      queue.current = queue.current.then(async () => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const base = shared.ytext.toString();
          try {
            const r = await api<{ text: string }>("POST", "/api/edit", { path, text: base, ops });
            if (shared.ytext.toString() === base) {
              applyMinimalChange(shared.ytext, r.text);
              return;
            }
          } catch (e) {
            setMessage((e as Error).message);
            return;
          }
        }
        setMessage("not applied: the document kept changing; try again");
      });
    },
    [shared, path],
  );

  const save = () => {
    if (!shared || path === null) return;
    api<{ report: Report }>("PUT", "/api/file", { path, text: shared.ytext.toString() })
      .then((r) => {
        const errors = r.report.issues.filter((i) => i.severity === "error").length;
        setMessage(errors ? `Saved, with ${errors} error${errors === 1 ? "" : "s"}` : "Saved");
      })
      .catch((e: Error) => setMessage(e.message));
  };

  const simulate = () => {
    if (!shared || path === null) return;
    setMessage("Simulating…");
    api<{ run_id: string }>("POST", "/api/simulate", { path, text: shared.ytext.toString() })
      .then((r) => {
        setRunId(r.run_id);
        setRunsRefresh((n) => n + 1);
        setView("ledger");
        setMessage("Simulated run recorded");
      })
      .catch((e: Error) => setMessage(e.message));
  };

  const addNode = () => {
    if (!graph) return;
    // Numbered after the steps there are; numbers taken (also by steps added a
    // moment ago that the graph does not show yet) are skipped.
    const ids = [...graph.nodes.map((node) => node.id), ...reserved.current];
    const numbers = new Set(ids.map((x) => Number(/_step_(\d+)$/.exec(x)?.[1] ?? NaN)));
    let n = graph.nodes.length + 1;
    while (numbers.has(n) || ids.includes(`${addType}_step_${n}`)) n++;
    const id = `${addType}_step_${n}`;
    reserved.current.push(id);
    // Below everything drawn, so a new step never hides another.
    const drawn = [...Object.values(positions.current), ...Object.values(reservedAt.current)];
    const lowest = drawn.length ? Math.max(...drawn.map((p) => p.y)) : 0;
    const left = drawn.length ? Math.min(...drawn.map((p) => p.x)) : 0;
    const where = { x: Math.round(left + (n % 2) * 120), y: Math.round(lowest + 110) };
    reservedAt.current[id] = where;
    edit([{ op: "add_node", node: { id, type: addType, name: `New ${addType} step ${n}`, "x-studio": where } }]);
    setSelection({ kind: "node", key: id });
  };

  const issues = report?.issues ?? [];
  const errors = issues.filter((i) => i.severity === "error").length;
  const warnings = issues.filter((i) => i.severity === "warning").length;
  const views = (session?.views ?? []) as View[];

  let panel = null;
  if (graph && selection?.kind === "node") {
    const node = graph.nodes.find((n) => n.id === selection.key);
    if (node)
      panel = (
        <SidePanel
          title={`Step ${node.id}`}
          fields={formFields(schema, "node")}
          values={node.fields}
          readOnlyKeys={["id"]}
          issues={issues.filter((i) => i.node === node.id)}
          onSet={(key: string, value: Scalar) => edit([{ op: "set_node", id: node.id, fields: { [key]: value } }])}
          onDelete={() => {
            edit([{ op: "remove_node", id: node.id }]);
            setSelection(null);
          }}
        />
      );
  } else if (graph && selection?.kind === "edge") {
    const index = Number(selection.key);
    const e = graph.edges.find((x) => x.index === index);
    if (e)
      panel = (
        <SidePanel
          title={`Edge ${e.from} → ${e.to}`}
          fields={formFields(schema, "edge")}
          values={e.fields}
          readOnlyKeys={["from", "to"]}
          issues={issues.filter((i) => i.edge === index)}
          onSet={(key: string, value: Scalar) => edit([{ op: "set_edge", index, fields: { [key]: value } }])}
          onDelete={() => {
            edit([{ op: "remove_edge", index }]);
            setSelection(null);
          }}
        />
      );
  }

  if (fatal) return <div className="fatal">OSOP Studio: {fatal}</div>;

  return (
    <div className="app">
      <header>
        <strong>OSOP Studio</strong>
        <span className="muted">{session?.folder}</span>
        <select
          aria-label="File"
          data-testid="file-picker"
          value={path ?? ""}
          onChange={(e) => setPath(e.target.value || null)}
        >
          <option value="">— open a file —</option>
          {session?.files.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
        {path ? (
          <nav className="tabs" role="tablist">
            {views.map((v) => (
              <button key={v} type="button" role="tab" aria-selected={view === v} onClick={() => setView(v)}>
                {VIEW_TITLES[v]}
              </button>
            ))}
          </nav>
        ) : null}
        {path ? (
          <>
            <button type="button" onClick={save} data-testid="save">
              Save
            </button>
            <button type="button" onClick={simulate} data-testid="simulate">
              Simulate
            </button>
            <span className={`check ${errors ? "error" : warnings ? "warning" : "ok"}`} data-testid="check-summary">
              {report ? (errors || warnings ? `${errors} errors, ${warnings} warnings` : "valid") : "checking…"}
            </span>
            <span className="muted" data-testid="presence">
              {connected ? `${peers} editing` : "offline"}
            </span>
          </>
        ) : null}
        <span className="message" data-testid="message">
          {message}
        </span>
      </header>
      {!path && session ? (
        <main className="start">
          <NewFileForm
            session={session}
            onCreated={(p) => {
              loadSession();
              setPath(p);
            }}
          />
        </main>
      ) : null}
      {path && shared && text !== null ? (
        <main className={`view view-${view}`}>
          {view === "graph" && graph ? (
            <div className="graph-layout">
              <div className="graph-canvas">
                <div className="toolbar">
                  <select aria-label="Step type" data-testid="add-type" value={addType} onChange={(e) => setAddType(e.target.value)}>
                    {NODE_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                  <button type="button" data-testid="add-node" onClick={addNode}>
                    Add step
                  </button>
                </div>
                <ReactFlowProvider>
                  <GraphView
                    graph={graph}
                    issues={issues}
                    selection={selection}
                    onSelect={setSelection}
                    onEdit={edit}
                    positionsRef={positions}
                  />
                </ReactFlowProvider>
              </div>
              {panel}
            </div>
          ) : null}
          {view === "graph" && !graph ? <p className="empty">This document has no graph to draw yet.</p> : null}
          {view === "yaml" ? <YamlView shared={shared} schema={schema} issues={issues} /> : null}
          {view === "story" ? <StoryView steps={report?.story ?? []} /> : null}
          {view === "roles" ? <RolesView groups={report?.roles ?? []} /> : null}
          {view === "agent" ? <AgentView markdown={report?.agent ?? null} /> : null}
          {view === "ledger" && graph ? (
            <ReactFlowProvider>
              <LedgerView graph={graph} workflowId={graph.id} runId={runId} onPickRun={setRunId} refresh={runsRefresh} />
            </ReactFlowProvider>
          ) : null}
        </main>
      ) : null}
      {path && (!shared || text === null) ? <main className="empty">Opening {path}…</main> : null}
      {path && view !== "yaml" && issues.length > 0 ? (
        <footer className="problems" data-testid="problems">
          {issues.slice(0, 50).map((i, n) => (
            <div key={n} className={i.severity}>
              {i.line !== null ? `${i.line}:${i.column ?? 1} ` : ""}
              <code>{i.rule}</code> {i.message}
            </div>
          ))}
        </footer>
      ) : null}
    </div>
  );
}
