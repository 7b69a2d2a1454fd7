// The side panel: the selected node's or edge's fields as a form generated from
// the schema, with the issues found on it.

import { useEffect, useState } from "react";
import type { FormField } from "./schemaForm";
import type { Issue, Scalar } from "./types";

interface FieldProps {
  field: FormField;
  value: Scalar | undefined;
  readOnly: boolean;
  onCommit: (value: Scalar) => void;
}

function FieldInput({ field, value, readOnly, onCommit }: FieldProps) {
  const shown = value === undefined || value === null ? "" : String(value);
  const [draft, setDraft] = useState(shown);
  useEffect(() => setDraft(shown), [shown]);
  const id = `field-${field.key}`;
  const commit = () => {
    if (draft === shown) return;
    if (field.kind === "number") {
      onCommit(draft.trim() === "" ? null : Number(draft));
    } else {
      onCommit(draft === "" ? null : draft);
    }
  };
  let input;
  if (field.kind === "select") {
    input = (
      <select
        id={id}
        name={field.key}
        value={draft}
        disabled={readOnly}
        onChange={(e) => {
          setDraft(e.target.value);
          onCommit(e.target.value === "" ? null : e.target.value);
        }}
      >
        <option value="">—</option>
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === "boolean") {
    input = (
      <select id={id} name={field.key} value={draft} disabled={readOnly} onChange={(e) => {
        setDraft(e.target.value);
        onCommit(e.target.value === "" ? null : e.target.value === "true");
      }}>
        <option value="">—</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        name={field.key}
        type={field.kind === "number" ? "number" : "text"}
        value={draft}
        readOnly={readOnly}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
    );
  }
  return (
    <div className="field">
      <label htmlFor={id} title={field.description}>
        {field.key}
      </label>
      {input}
      {field.description ? <div className="help">{field.description}</div> : null}
    </div>
  );
}

export interface SidePanelProps {
  title: string;
  fields: FormField[];
  values: Record<string, Scalar>;
  readOnlyKeys: string[];
  issues: Issue[];
  onSet: (key: string, value: Scalar) => void;
  onDelete: () => void;
}

export function SidePanel({ title, fields, values, readOnlyKeys, issues, onSet, onDelete }: SidePanelProps) {
  const [showAll, setShowAll] = useState(false);
  const structured = fields.filter((f) => f.kind === "structured").map((f) => f.key);
  const simple = fields.filter((f) => f.kind !== "structured");
  const shown = showAll ? simple : simple.filter((f) => values[f.key] !== undefined || PRIMARY.has(f.key));
  return (
    <aside className="side-panel" aria-label="Properties">
      <h2>{title}</h2>
      {issues.length > 0 ? (
        <ul className="issues" data-testid="panel-issues">
          {issues.map((issue, i) => (
            <li key={i} className={issue.severity}>
              <code>{issue.rule}</code> {issue.message}
              {issue.hint ? <div className="hint">hint: {issue.hint}</div> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {shown.map((field) => (
        <FieldInput
          key={field.key}
          field={field}
          value={values[field.key]}
          readOnly={readOnlyKeys.includes(field.key)}
          onCommit={(value) => onSet(field.key, value)}
        />
      ))}
      <button type="button" className="link" onClick={() => setShowAll(!showAll)}>
        {showAll ? "Fewer fields" : "All fields"}
      </button>
      <p className="help">Structured fields ({structured.join(", ")}) are edited in the YAML view.</p>
      <button type="button" className="danger" onClick={onDelete}>
        Delete
      </button>
    </aside>
  );
}

const PRIMARY = new Set(["id", "type", "name", "purpose", "role", "from", "to", "mode", "when", "label"]);
