// The Ledger: a run from the store played back on the graph, step by step, with
// its timeline (attempts, retries, failures, waits).

import { useEffect, useMemo, useState } from "react";
import { api } from "./api";
import { GraphView, type NodeStatus, type Selection } from "./GraphView";
import type { Graph, NodeRecord, RunInfo, RunRecord } from "./types";

function time(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

export interface LedgerViewProps {
  graph: Graph;
  workflowId: string | null;
  runId: string | null;
  onPickRun: (runId: string | null) => void;
  refresh: number;
}

export function LedgerView({ graph, workflowId, runId, onPickRun, refresh }: LedgerViewProps) {
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [record, setRecord] = useState<RunRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [selection, setSelection] = useState<Selection | null>(null);

  useEffect(() => {
    const query = workflowId ? `?workflow_id=${encodeURIComponent(workflowId)}` : "";
    api<{ runs: RunInfo[] }>("GET", `/api/runs${query}`)
      .then((r) => setRuns(r.runs))
      .catch((e: Error) => setError(e.message));
  }, [workflowId, refresh]);

  useEffect(() => {
    setRecord(null);
    if (!runId) return;
    api<{ record: RunRecord }>("GET", `/api/runs/${encodeURIComponent(runId)}`)
      .then((r) => {
        setRecord(r.record);
        setStep(0);
        setPlaying(true);
      })
      .catch((e: Error) => setError(e.message));
  }, [runId]);

  const ordered: NodeRecord[] = useMemo(() => {
    if (!record) return [];
    return [...record.node_records].sort((a, b) => (time(a.started_at) ?? 0) - (time(b.started_at) ?? 0));
  }, [record]);

  useEffect(() => {
    if (!playing) return;
    if (step >= ordered.length) {
      setPlaying(false);
      return;
    }
    const timer = window.setTimeout(() => setStep((s) => s + 1), 350);
    return () => window.clearTimeout(timer);
  }, [playing, step, ordered.length]);

  const statuses = useMemo(() => {
    const out: Record<string, NodeStatus> = {};
    ordered.slice(0, step).forEach((r, i) => {
      const before = out[r.node_id];
      out[r.node_id] = { status: r.status, attempts: (before?.attempts ?? 0) + 1, active: i === step - 1 };
    });
    return out;
  }, [ordered, step]);

  const start = time(record?.started_at) ?? time(ordered[0]?.started_at) ?? 0;
  const end = Math.max(
    time(record?.ended_at) ?? 0,
    ...ordered.map((r) => time(r.ended_at) ?? time(r.started_at) ?? 0),
    start + 1,
  );
  const span = end - start;

  return (
    <div className="ledger">
      <div className="ledger-bar">
        <label>
          Run{" "}
          <select
            data-testid="run-picker"
            value={runId ?? ""}
            onChange={(e) => onPickRun(e.target.value || null)}
          >
            <option value="">— pick a run —</option>
            {runs.map((r) => (
              <option key={r.run_id} value={r.run_id}>
                {r.started_at ?? "?"} · {r.mode ?? "?"} · {r.status} · {r.run_id.slice(0, 8)}
              </option>
            ))}
          </select>
        </label>
        {record ? (
          <>
            <button type="button" onClick={() => { setStep(0); setPlaying(true); }}>
              Replay
            </button>
            <input
              type="range"
              min={0}
              max={ordered.length}
              value={step}
              aria-label="Playback position"
              onChange={(e) => { setPlaying(false); setStep(Number(e.target.value)); }}
            />
            <span data-testid="ledger-progress">
              {step}/{ordered.length} · run {record.status}
            </span>
          </>
        ) : null}
        {error ? <span className="error-text">{error}</span> : null}
      </div>
      <div className="ledger-graph">
        <GraphView graph={graph} issues={[]} readOnly statuses={statuses} selection={selection} onSelect={setSelection} />
      </div>
      {record ? (
        <div className="timeline" data-testid="timeline">
          {ordered.map((r, i) => {
            const s = time(r.started_at) ?? start;
            const e = time(r.ended_at) ?? s;
            const left = ((s - start) / span) * 100;
            const width = Math.max(((e - s) / span) * 100, 0.5);
            return (
              <div key={i} className={`lane ${i < step ? "" : "future"} ${i === step - 1 ? "current" : ""}`}>
                <span className="lane-name">
                  {r.node_id}
                  {(r.attempt ?? 1) > 1 ? ` (attempt ${r.attempt})` : ""}
                </span>
                <span className="lane-track">
                  <span
                    className={`bar run-${r.status.toLowerCase()}`}
                    style={{ left: `${left}%`, width: `${width}%` }}
                    title={`${r.status} ${r.error?.message ?? ""}`}
                  />
                </span>
                <span className="lane-status">{r.status}</span>
              </div>
            );
          })}
        </div>
      ) : (
        <p className="empty">Pick a run, or press “Simulate” to rehearse the process.</p>
      )}
    </div>
  );
}
