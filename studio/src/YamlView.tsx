// The YAML view: CodeMirror 6 bound to the shared text, with completion and
// hover from the published schema, and the server's issues in the gutter.

import { useEffect, useRef } from "react";
import { EditorView, basicSetup } from "codemirror";
import { Compartment, EditorState } from "@codemirror/state";
import { hoverTooltip, keymap } from "@codemirror/view";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { linter, lintGutter, forceLinting, type Diagnostic } from "@codemirror/lint";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { stateExtensions } from "codemirror-json-schema";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import type { Shared } from "./collab";
import type { Issue, JsonSchema } from "./types";

type SchemaArg = Parameters<typeof stateExtensions>[0];

function diagnostics(view: EditorView, issues: Issue[]): Diagnostic[] {
  const doc = view.state.doc;
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    let from = 0;
    if (issue.line !== null && issue.line >= 1 && issue.line <= doc.lines) {
      const line = doc.line(issue.line);
      from = Math.min(line.from + Math.max((issue.column ?? 1) - 1, 0), line.to);
      const to = line.to > from ? line.to : from;
      out.push({
        from,
        to,
        severity: issue.severity === "info" ? "info" : issue.severity,
        source: issue.rule,
        message: `${issue.rule}: ${issue.message}${issue.hint ? ` (hint: ${issue.hint})` : ""}`,
      });
    } else {
      out.push({ from: 0, to: 0, severity: issue.severity === "info" ? "info" : issue.severity, source: issue.rule, message: `${issue.rule}: ${issue.message}` });
    }
  }
  return out;
}

export interface YamlViewProps {
  shared: Shared;
  schema: JsonSchema | null;
  issues: Issue[];
}

export function YamlView({ shared, schema, issues }: YamlViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const issuesRef = useRef<Issue[]>(issues);
  const schemaSlot = useRef(new Compartment());

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: shared.ytext.toString(),
        extensions: [
          keymap.of(yUndoManagerKeymap),
          basicSetup,
          yaml(),
          yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
          hoverTooltip(yamlSchemaHover()),
          schemaSlot.current.of(schema ? stateExtensions(schema as SchemaArg) : []),
          lintGutter(),
          linter((v) => diagnostics(v, issuesRef.current), { delay: 0 }),
          yCollab(shared.ytext, shared.provider.awareness),
          EditorView.lineWrapping,
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, [shared]);

  useEffect(() => {
    view.current?.dispatch({
      effects: schemaSlot.current.reconfigure(schema ? stateExtensions(schema as SchemaArg) : []),
    });
  }, [schema]);

  useEffect(() => {
    issuesRef.current = issues;
    if (view.current) forceLinting(view.current);
  }, [issues]);

  return <div className="yaml-view" ref={host} data-testid="yaml-editor" />;
}
