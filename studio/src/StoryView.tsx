// The Story and Role views: who does what, in plain language (osop/render/story.py
// and roles.py on the server, so they read as `osop render --format story` does).

import type { RoleGroup, StoryStep } from "./types";

export function StoryView({ steps }: { steps: StoryStep[] }) {
  if (steps.length === 0) return <p className="empty">Nothing to tell yet: the document has errors or no steps.</p>;
  return (
    <ol className="story" data-testid="story">
      {steps.map((step) => (
        <li key={step.id} data-testid={`story-${step.id}`}>
          <h3>
            {step.number}. {step.label}
          </h3>
          <div className="who">{step.who}</div>
          {step.what ? <p>{step.what}</p> : null}
          {step.why ? <p className="why">Why: {step.why}</p> : null}
          {step.next.length ? (
            <ul className="next">
              {step.next.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          ) : (
            <p className="next-end">The process ends here.</p>
          )}
        </li>
      ))}
    </ol>
  );
}

export function RolesView({ groups }: { groups: RoleGroup[] }) {
  if (groups.length === 0) return <p className="empty">No roles yet: the document has errors or no steps.</p>;
  return (
    <div className="roles" data-testid="roles">
      <div className="shares" aria-label="Shares">
        {groups.map((g) =>
          g.share > 0 ? (
            <div key={g.actor} className={`share actor-${g.actor}`} style={{ width: `${g.share * 100}%` }}>
              {g.title} {Math.round(g.share * 100)}%
            </div>
          ) : null,
        )}
      </div>
      {groups.map((g) => (
        <section key={g.actor} className={`role-group actor-${g.actor}`} data-testid={`roles-${g.actor}`}>
          <h3>
            {g.title} — {g.nodes.length} step{g.nodes.length === 1 ? "" : "s"} ({Math.round(g.share * 100)}%)
          </h3>
          {g.roles.length ? <div className="named-roles">Roles: {g.roles.join(", ")}</div> : null}
          <ul>
            {g.nodes.map((n) => (
              <li key={n.id}>
                {n.label} <span className="muted">({n.type}{n.role ? `, ${n.role}` : ""})</span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
