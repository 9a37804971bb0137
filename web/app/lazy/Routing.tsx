// The explanation of a distribution decision (loaded on demand, when a
// "routed" line's "Why?" is opened): what made the distribution look, its
// policy, the dialog's level and channel rule, every candidate with what
// the distribution made of them (the chosen one first), and the tie-break.
// Staff only: the customer never receives these lines.

import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import type { RoutingCandidate, RoutingDecision, RoutingVerdict } from "../types";
import { availabilityLabel } from "../routing";
import { channelName } from "../ui/channels";

/** What made the distribution look at its queue, in words (message keys). */
export const TRIGGERS: Record<string, string> = {
  dialog_waiting: "app.projects.why.trigger.dialogWaiting",
  capacity_freed: "app.projects.why.trigger.capacityFreed",
  manager_changed: "app.projects.why.trigger.managerChanged",
  settings_changed: "app.projects.why.trigger.settingsChanged",
  reply_overdue: "app.projects.why.trigger.replyOverdue",
  timer: "app.projects.why.trigger.timer",
  dispatcher_start: "app.projects.why.trigger.dispatcherStart",
  taken: "app.projects.why.trigger.taken",
  reassigned: "app.projects.why.trigger.reassigned",
  transferred_to: "app.projects.why.trigger.transferredTo",
};

/** The policies' names (message keys); policyName says one in words. */
export const POLICIES: Record<string, string> = {
  off: "app.projects.policy.off",
  round_robin: "app.projects.policy.roundRobin",
  fewest_open: "app.projects.policy.fewestOpen",
};

/** policyName is a distribution policy's name in the language in use (the code itself for one the app does not know). */
export const policyName = (p: string) => (POLICIES[p] ? t(POLICIES[p]) : p);

/** A verdict's skip code as a short label (message keys). */
const SKIPS: Record<string, string> = {
  excluded: "app.projects.why.skip.excluded",
  channel: "app.projects.why.skip.channel",
  level: "app.projects.why.skip.level",
  target: "app.projects.why.skip.target",
  offline: "app.projects.why.skip.offline",
  busy: "app.projects.why.skip.busy",
  break: "app.projects.why.skip.break",
  capacity: "app.projects.why.skip.capacity",
  burst: "app.projects.why.skip.burst",
  ranked: "app.projects.why.skip.ranked",
  project: "app.projects.why.skip.project",
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
  if (!d) return <p class="why muted">{t("app.projects.why.loading")}</p>;
  return <Decision d={d} />;
}

function Decision(props: { d: RoutingDecision }) {
  const d = props.d;
  const s = d.snapshot;
  const cands = s.candidates || [];
  const verdicts = new Map<number, RoutingVerdict>((d.verdicts || []).map((v) => [v.user_id, v]));
  const name = (id: number) => cands.find((c) => c.user_id === id)?.name || t("app.projects.why.user", { id: String(id) });
  // The chosen one first, then the eligible ones in their rank, then the others as the distribution saw them.
  const weight = (c: RoutingCandidate) => {
    if (c.user_id === d.chosen_id) return 0;
    const v = verdicts.get(c.user_id);
    return v?.skip === "ranked" || v?.skip === "project" ? 1 : 2;
  };
  const order = cands.map((c, i) => ({ c, i })).sort((a, b) => weight(a.c) - weight(b.c) || a.i - b.i);
  const rule = s.channel_managers;
  return (
    <div class="why" role="region" aria-label={t("app.projects.why.label")}>
      <dl class="why-facts">
        <div>
          <dt>{t("app.projects.why.triggerTerm")}</dt>
          <dd data-trigger={s.trigger}>{TRIGGERS[s.trigger] ? t(TRIGGERS[s.trigger]) : s.trigger}</dd>
        </div>
        <div>
          <dt>{t("app.projects.why.policyTerm")}</dt>
          <dd>{policyName(s.policy)}</dd>
        </div>
        <div>
          <dt>{t("app.projects.why.dialogTerm")}</dt>
          <dd>
            {t("app.projects.why.level", { n: s.level || 1 })}
            {s.channel ? ` · ${channelName(s.channel)}` : ""}
            {s.transfer_to ? " · " + t("app.projects.why.transferredTo", { name: name(s.transfer_to) }) : ""}
          </dd>
        </div>
        {rule ? (
          <div>
            <dt>{t("app.projects.why.channelRule")}</dt>
            <dd>{t("app.projects.why.only", { names: rule.map(name).join(", ") })}</dd>
          </div>
        ) : null}
        {s.project_capacity ? (
          <div>
            <dt>{t("app.projects.why.project")}</dt>
            <dd>{t("app.projects.why.projectLoad", { load: s.project_load, capacity: s.project_capacity })}</dd>
          </div>
        ) : null}
        {s.burst ? (
          <div>
            <dt>{t("app.projects.why.burst")}</dt>
            <dd>{t("app.projects.why.burstValue", { n: s.burst })}</dd>
          </div>
        ) : null}
      </dl>
      {order.length ? (
        <ul class="why-cands" aria-label={t("app.projects.why.candidates")}>
          {order.map(({ c }) => {
            const v = verdicts.get(c.user_id);
            const chosen = c.user_id === d.chosen_id;
            const skip = chosen ? "chosen" : v?.skip || "eligible";
            return (
              <li key={c.user_id} class={"why-cand" + (chosen ? " chosen" : "")} data-user={c.user_id} data-verdict={skip}>
                <span class="why-who">
                  <span class={"online-dot" + (c.online ? " on" : "")} title={c.online ? t("app.projects.why.online") : t("app.projects.why.offline")}
                    aria-label={c.online ? t("app.projects.why.onlineLower") : t("app.projects.why.offlineLower")} role="img" />
                  <strong class="ellipsis">{c.name || t("app.projects.why.user", { id: String(c.user_id) })}</strong>
                  <span class="why-load" title={t("app.projects.why.loadTitle")}>
                    {c.capacity ? `${c.load}/${c.capacity}` : t("app.projects.why.open", { n: c.load })}
                  </span>
                  <span class={"why-avail " + c.availability}>{availabilityLabel(c.availability)}</span>
                </span>
                <span class="why-verdict">
                  <span class={"verdict " + skip}>{chosen ? t("app.projects.why.chosen") : SKIPS[skip] ? t(SKIPS[skip]) : skip}</span>
                  {v?.detail && v.detail !== (SKIPS[skip] ? t(SKIPS[skip]) : undefined) ? <span class="why-detail">{v.detail}</span> : null}
                </span>
              </li>
            );
          })}
        </ul>
      ) : (
        <p class="muted">{t("app.projects.why.noCandidates")}</p>
      )}
      {d.tie_break ? (
        <p class="why-tie">
          <strong>{t("app.projects.why.tieBreak")}</strong> {d.tie_break}
        </p>
      ) : null}
    </div>
  );
}
