// The Agent view: the SOP written for an AI agent that carries the process out
// (osop/render/agent.py, as `osop render --format agent`). The server sends
// Markdown; it is turned into elements here (never into HTML), so every name
// in it stays text.

import type { ReactNode } from "react";

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /\*\*([^*]+)\*\*|`([^`]+)`/g;
  let last = 0;
  let match: RegExpExecArray | null;
  let key = 0;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) out.push(text.slice(last, match.index));
    if (match[1] !== undefined) out.push(<strong key={key++}>{match[1]}</strong>);
    else out.push(<code key={key++}>{match[2]}</code>);
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function AgentView({ markdown }: { markdown: string | null }) {
  if (!markdown) return <p className="empty">No plan yet: the document has errors or no steps.</p>;
  const blocks: ReactNode[] = [];
  markdown.split("\n").forEach((line, i) => {
    if (line.startsWith("## ")) blocks.push(<h3 key={i}>{inline(line.slice(3))}</h3>);
    else if (line.startsWith("# ")) blocks.push(<h2 key={i}>{inline(line.slice(2))}</h2>);
    else if (/^\s+- /.test(line)) blocks.push(<div key={i} className="agent-detail">{inline(line.trim().slice(2))}</div>);
    else if (line.startsWith("- ")) blocks.push(<div key={i} className="agent-item">• {inline(line.slice(2))}</div>);
    else if (line.trim() === "") blocks.push(<div key={i} className="agent-gap" />);
    else blocks.push(<p key={i}>{inline(line)}</p>);
  });
  return (
    <article className="agent" data-testid="agent">
      {blocks}
    </article>
  );
}
