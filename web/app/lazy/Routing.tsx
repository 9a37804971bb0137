// The explanation of a distribution decision (loaded on demand, when a
// "routed" line's "Why?" is opened): what made the distribution look, its
// policy, the dialog's level and channel rule, every candidate with what
// the distribution made of them (the chosen one first), and the tie-break.
// Staff only: the customer never receives these lines.

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import type { RoutingCandidate, RoutingDecision, RoutingVerdict } from "../types";
import { availabilityLabel } from "../routing";
import { channelName } from "../ui/channels";

/** What made the distribution look at its queue, in words. */
export const TRIGGERS: Record<string, string> = {
  dialog_waiting: "a dialog waits",
  capacity_freed: "a place freed",
  manager_changed: "a manager came online or became available",
  settings_changed: "the distribution's settings changed",
  reply_overdue: "the reply time limit passed",
  timer: "periodic check",
  dispatcher_start: "dispatcher started",
  taken: "a manager took the dialog",
  reassigned: "the dialog was reassigned",
  transferred_to: "a transfer named a specialist",
};

export const POLICIES: Record<string, string> = {
  off: "Off",
  round_robin: "Round robin",
  fewest_open: "Fewest open",
};

/** A verdict's skip code as a short label. */
const SKIPS: Record<string, string> = {
  excluded: "missed the limit",
  channel: "not for this channel",
  level: "other level",
  target: "not the one named",
  offline: "offline",
  busy: "busy",
  break: "on a break",
  capacity: "at capacity",
  burst: "burst limit",
  ranked: "ranked lower",
  project: "project full",
};

/**
 * RoutingWhy fetches the whole decision behind a routed line (its line
 * carries it in brief) and shows it.
 */
export function RoutingWhy(props: { messageId: number }) {
  const [d, setD] = useState<RoutingDecision | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    api.get<RoutingDecision>(`/messages/${props.messageId}/routing`).then(
      (d) => live && setD(d),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [props.messageId]);
  if (error) return <p class="why error">{error}</p>;
  if (!d) return <p class="why muted">Loading…</p>;
  return <Decision d={d} />;
}

function Decision(props: { d: RoutingDecision }) {
  const d = props.d;
  const s = d.snapshot;
  const cands = s.candidates || [];
  const verdicts = new Map<number, RoutingVerdict>((d.verdicts || []).map((v) => [v.user_id, v]));
  const name = (id: number) => cands.find((c) => c.user_id === id)?.name || `user ${id}`;
  // The chosen one first, then the eligible ones in their rank, then the others as the distribution saw them.
  const weight = (c: RoutingCandidate) => {
    if (c.user_id === d.chosen_id) return 0;
    const v = verdicts.get(c.user_id);
    return v?.skip === "ranked" || v?.skip === "project" ? 1 : 2;
  };
  const order = cands.map((c, i) => ({ c, i })).sort((a, b) => weight(a.c) - weight(b.c) || a.i - b.i);
  const rule = s.channel_managers;
  return (
    <div class="why" role="region" aria-label="Why the distribution decided this">
      <dl class="why-facts">
        <div>
          <dt>Trigger</dt>
          <dd data-trigger={s.trigger}>{TRIGGERS[s.trigger] || s.trigger}</dd>
        </div>
        <div>
          <dt>Policy</dt>
          <dd>{POLICIES[s.policy] || s.policy}</dd>
        </div>
        <div>
          <dt>Dialog</dt>
          <dd>
            Level {s.level || 1}
            {s.channel ? ` · ${channelName(s.channel)}` : ""}
            {s.transfer_to ? ` · transferred to ${name(s.transfer_to)}` : ""}
          </dd>
        </div>
        {rule ? (
          <div>
            <dt>Channel rule</dt>
            <dd>only {rule.map(name).join(", ")}</dd>
          </div>
        ) : null}
        {s.project_capacity ? (
          <div>
            <dt>Project</dt>
            <dd>
              {s.project_load}/{s.project_capacity} dialogs in charge
            </dd>
          </div>
        ) : null}
        {s.burst ? (
          <div>
            <dt>Burst limit</dt>
            <dd>{s.burst} dialogs a minute per manager</dd>
          </div>
        ) : null}
      </dl>
      {order.length ? (
        <ul class="why-cands" aria-label="Candidates">
          {order.map(({ c }) => {
            const v = verdicts.get(c.user_id);
            const chosen = c.user_id === d.chosen_id;
            const skip = chosen ? "chosen" : v?.skip || "eligible";
            return (
              <li key={c.user_id} class={"why-cand" + (chosen ? " chosen" : "")} data-user={c.user_id} data-verdict={skip}>
                <span class="why-who">
                  <span class={"online-dot" + (c.online ? " on" : "")} title={c.online ? "Online" : "Offline"} aria-label={c.online ? "online" : "offline"} role="img" />
                  <strong class="ellipsis">{c.name || `user ${c.user_id}`}</strong>
                  <span class="why-load" title="Open dialogs in charge (every project) against capacity">
                    {c.capacity ? `${c.load}/${c.capacity}` : `${c.load} open`}
                  </span>
                  <span class={"why-avail " + c.availability}>{availabilityLabel(c.availability)}</span>
                </span>
                <span class="why-verdict">
                  <span class={"verdict " + skip}>{chosen ? "✓ chosen" : SKIPS[skip] || skip}</span>
                  {v?.detail && v.detail !== SKIPS[skip] ? <span class="why-detail">{v.detail}</span> : null}
                </span>
              </li>
            );
          })}
        </ul>
      ) : (
        <p class="muted">No candidates: the project has no specialists at this level.</p>
      )}
      {d.tie_break ? (
        <p class="why-tie">
          <strong>Tie-break:</strong> {d.tie_break}
        </p>
      ) : null}
    </div>
  );
}
