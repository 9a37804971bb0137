// The distribution's queue of a project, as supervisors watch it (loaded
// on demand; GET /projects/{id}/queue, the chat settings right): the
// dialogs waiting for a manager in queue order with their wait ticking, why
// each level's queue waits, and every manager's load against their
// capacity with their availability and whether they are online. It follows
// the stream: the events that can change it (dialog.updated,
// agent.updated, presence, queue.updated, project.updated) and every
// reconnect fetch it again, at most every 500 ms.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { date, t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { ApiError } from "../api";
import * as inbox from "../inbox";
import { navigate, onLink } from "../router";
import { availabilityLabel } from "../routing";
import { use } from "../sig";
import * as store from "../store";
import type { Frame, ManagerLoad, Project, QueuedDialog, QueueView } from "../types";
import { ChannelIcon, channelName } from "../ui/channels";
import { Avatar, Spinner } from "../ui/common";
import { Back, Clock } from "../ui/icons";
import { policyName } from "./Routing";

function arr<T>(res: unknown, key: string): T[] {
  if (Array.isArray(res)) return res as T[];
  const v = (res as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

/** What each policy does, in a sentence (message keys). */
const POLICY_HINT: Record<string, string> = {
  off: "app.projects.queue.policyHint.off",
  round_robin: "app.projects.queue.policyHint.roundRobin",
  fewest_open: "app.projects.queue.policyHint.fewestOpen",
};

/** The events that can change a queue view. */
const WATCHED = new Set(["dialog.updated", "dialog.deleted", "agent.updated", "presence", "queue.updated", "project.updated"]);
const THROTTLE = 500;
/** A moment with its date and time, as toLocaleString() writes it (in the app's language). */
const LOCAL_TIME: Intl.DateTimeFormatOptions = { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" };

/** wait is how long since iso, in words that tick: 0:42, 12:05, 1 h 02 min. */
export function wait(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}:${String(s % 60).padStart(2, "0")}`;
  const h = Math.floor(m / 60);
  if (h < 48) return t("app.projects.queue.waitHours", { h, m: String(m % 60).padStart(2, "0") });
  return t("app.projects.queue.waitDays", { n: Math.floor(h / 24) });
}

/** since is when a dialog started waiting for a manager (ms), or NaN when the server did not say. */
function since(d: QueuedDialog): number {
  for (const iso of [d.queued_at, d.waiting_since]) {
    const at = iso ? Date.parse(iso) : NaN;
    if (at > Date.UTC(2000, 0)) return at;
  }
  return NaN;
}

/** ago says how long ago a manager last got a dialog from the distribution. */
function ago(iso: string | undefined, now: number): string {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return t("app.projects.queue.agoSeconds", { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return t("app.projects.queue.agoMinutes", { n: m });
  const h = Math.round(m / 60);
  return h < 48 ? t("app.projects.queue.agoHours", { n: h }) : t("app.projects.queue.agoDays", { n: Math.round(h / 24) });
}

export function QueuePage(props: { id?: number }) {
  const me = use(store.me);
  use(store.rights);
  const allowed = store.canManageChat(me);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    if (!allowed) return;
    api.get<unknown>("/projects").then(
      (r) => setProjects(arr<Project>(r, "projects")),
      (e) => setErr(e.message),
    );
  }, [allowed]);
  // /queue alone shows the first project.
  useEffect(() => {
    // Only while still on /queue itself: a project picked meanwhile (the
    // effect runs after the render that showed the picker) is kept.
    if (!props.id && projects?.length && /^\/queue\/?$/.test(location.pathname)) navigate(`/queue/${projects[0].id}`, true);
  }, [props.id, projects]);
  const back = () => navigate("/inbox" + (inbox.list.key ? "?" + inbox.list.key : ""));
  const project = projects?.find((p) => p.id === props.id);
  return (
    <section class="pane page queue-page" aria-labelledby="queue-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label={t("app.projects.queue.back")} onClick={back}>
          <Back />
        </button>
        <h1 id="queue-title">{t("app.projects.queue.title")}</h1>
        {projects && projects.length > 1 ? (
          <select
            class="input small queue-project"
            aria-label={t("app.projects.queue.project")}
            value={String(props.id || "")}
            onChange={(e) => navigate(`/queue/${(e.currentTarget as HTMLSelectElement).value}`)}
          >
            {projects.map((p) => (
              <option key={p.id} value={String(p.id)}>
                {p.name}
              </option>
            ))}
          </select>
        ) : project ? (
          <span class="queue-project-name ellipsis">{project.name}</span>
        ) : null}
        <span class="grow" />
        {props.id ? (
          <a class="btn small" href={`/admin/projects/${props.id}/distribution`} onClick={onLink}>
            {t("app.projects.queue.settings")}
          </a>
        ) : null}
      </header>
      <div class="page-body">
        {!allowed ? (
          <section class="card">
            <p class="muted">{t("app.projects.queue.needsRight")}</p>
          </section>
        ) : err ? (
          <section class="card">
            <p class="form-error">{err}</p>
          </section>
        ) : projects === null ? (
          <Spinner />
        ) : !projects.length ? (
          <section class="card">
            <p class="muted">{t("app.projects.queue.noProjects")}</p>
          </section>
        ) : props.id ? (
          <QueueBody key={props.id} id={props.id} />
        ) : null}
      </div>
    </section>
  );
}

/**
 * useQueue fetches a project's queue and fetches it again when an event
 * may have changed it, or the connection came back: at most one request in
 * flight, and at most one every THROTTLE ms (the last change is never
 * missed: a change during a request asks for one more).
 */
function useQueue(id: number) {
  const [view, setView] = useState<QueueView | null>(null);
  const [err, setErr] = useState("");
  /** Server time minus local time, so the wait ticks from the server's clock. */
  const [skew, setSkew] = useState(0);
  const st = useRef({ inflight: false, dirty: false, last: 0, timer: 0, alive: true, managers: null as Set<number> | null });
  useEffect(() => {
    const s = st.current;
    s.alive = true;
    const run = async () => {
      s.timer = 0;
      if (s.inflight) {
        s.dirty = true;
        return;
      }
      s.inflight = true;
      s.dirty = false;
      s.last = Date.now();
      try {
        const v = await api.get<QueueView>(`/projects/${id}/queue`);
        if (!s.alive) return;
        setView(v);
        setErr("");
        s.managers = new Set((v.managers || []).map((m) => m.user_id));
        if (v.at) setSkew(Date.parse(v.at) - Date.now());
      } catch (e) {
        if (!s.alive) return;
        setErr(e instanceof ApiError && e.status === 403 ? t("app.projects.queue.needsRight") : (e as Error).message);
      } finally {
        s.inflight = false;
        if (s.alive && s.dirty) ask();
      }
    };
    const ask = () => {
      if (s.timer) return;
      if (s.inflight) {
        s.dirty = true;
        return;
      }
      s.timer = window.setTimeout(run, Math.max(0, s.last + THROTTLE - Date.now()));
    };
    const mine = (f: Frame) => {
      const d = f.data || {};
      switch (f.type) {
        case "dialog.updated":
          return (d.support?.project_id ?? id) === id;
        case "queue.updated":
        case "project.updated":
          return (d.project_id ?? id) === id;
        case "presence":
        case "agent.updated":
          // Someone else's presence changes nothing here (a new specialist comes with project.updated).
          return !s.managers || !d.user_id || s.managers.has(d.user_id);
        default:
          return true;
      }
    };
    const onEvent = (f: Frame) => {
      if (WATCHED.has(f.type) && mine(f)) ask();
    };
    store.eventHooks.add(onEvent);
    // After a reconnect: what changed meanwhile (presence is not replayed).
    let was = store.rt.info.value.state;
    const offInfo = store.rt.info.subscribe(() => {
      const now = store.rt.info.value.state;
      if (now === "online" && was !== "online") ask();
      was = now;
    });
    run();
    return () => {
      s.alive = false;
      clearTimeout(s.timer);
      s.timer = 0;
      store.eventHooks.delete(onEvent);
      offInfo();
    };
  }, [id]);
  return { view, err, skew };
}

function QueueBody(props: { id: number }) {
  const { view, err, skew } = useQueue(props.id);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const levels = useMemo(() => {
    if (!view) return [];
    const out: { level: number; waiting: number; note: string; dialogs: QueuedDialog[] }[] = [];
    for (const level of [1, 2]) {
      const dialogs = (view.dialogs || []).filter((d) => (d.level || 1) === level);
      const waiting = view.waiting?.[String(level)] || 0;
      const note = view.notes?.[String(level)] || "";
      const managers = (view.managers || []).some((m) => m.level === level);
      if (level === 1 || dialogs.length || waiting || note || managers) out.push({ level, waiting: Math.max(waiting, dialogs.length), note, dialogs });
    }
    return out;
  }, [view]);
  if (err && !view)
    return (
      <section class="card">
        <p class="form-error" role="alert">
          {err}
        </p>
      </section>
    );
  if (!view) return <Spinner label={t("app.projects.queue.loading")} />;
  const serverNow = now + skew;
  const managers = view.managers || [];
  const total = levels.reduce((n, l) => n + l.waiting, 0);
  const names = new Map(managers.map((m) => [m.user_id, m.name]));
  const inboxQuery = inbox.list.key ? "?" + inbox.list.key : "";
  return (
    <div class="queue" data-project={view.project_id}>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <section class="card queue-summary" aria-label={t("app.projects.queue.summary")}>
        <div class="queue-stats">
          <span class={"pill " + (view.policy === "off" ? "off" : "on")} data-policy={view.policy}>
            {view.policy === "off" ? t("app.projects.queue.distributionOff") : policyName(view.policy)}
          </span>
          <span class="queue-stat" data-waiting={total}>
            {tp("app.projects.queue.waiting", { count: <strong>{total}</strong> })}
          </span>
          <span class="queue-stat" title={t("app.projects.queue.inChargeTitle")}>
            {tp("app.projects.queue.inCharge", {
              count: <strong>{view.project_capacity ? `${view.project_load}/${view.project_capacity}` : view.project_load}</strong>,
            })}
          </span>
        </div>
        <p class="muted small">{POLICY_HINT[view.policy] ? t(POLICY_HINT[view.policy]) : ""}</p>
      </section>
      <section class="card" aria-labelledby="queue-waiting">
        <h2 id="queue-waiting">{t("app.projects.queue.waitingTitle")}</h2>
        {levels.map((l) => (
          <div class="queue-level" key={l.level} data-level={l.level}>
            {levels.length > 1 ? (
              <h3 class="sub-title">{t("app.projects.queue.levelWaiting", { level: l.level, n: l.waiting })}</h3>
            ) : null}
            {l.note ? (
              <p class="queue-note" role="status">
                <Clock size={15} /> {l.note}
              </p>
            ) : null}
            {l.dialogs.length ? (
              <ol class="queue-list" aria-label={t("app.projects.queue.levelQueue", { level: l.level })}>
                {l.dialogs.map((d) => {
                  const name = d.contact_name || t("app.projects.queue.visitor", { id: String(d.id) });
                  return (
                    <li key={d.id}>
                      <a class="queue-row" href={`/inbox/${d.id}${inboxQuery}`} onClick={onLink} data-dialog={d.id}>
                        <Avatar id={d.id * 13 + 5} name={name} size={32} />
                        <span class="queue-main">
                          <strong class="ellipsis">{name}</strong>
                          <span class="muted small ellipsis">
                            <ChannelIcon channel={d.channel} size={12} /> {channelName(d.channel)}
                            {d.transfer_to
                              ? " · " + t("app.projects.queue.transferredTo", { name: names.get(d.transfer_to) || store.personName(d.transfer_to) })
                              : ""}
                          </span>
                        </span>
                        <span class="queue-wait" title={Number.isNaN(since(d)) ? undefined : t("app.projects.queue.waitingSince", { at: date(since(d), LOCAL_TIME) })}>
                          <time dateTime={d.queued_at}>{Number.isNaN(since(d)) ? "—" : wait(serverNow - since(d))}</time>
                        </span>
                      </a>
                    </li>
                  );
                })}
              </ol>
            ) : (
              <p class="muted queue-empty">{levels.length > 1 ? t("app.projects.queue.emptyLevel") : t("app.projects.queue.empty")}</p>
            )}
            {l.waiting > l.dialogs.length ? <p class="muted small">{t("app.projects.queue.more", { n: l.waiting - l.dialogs.length })}</p> : null}
          </div>
        ))}
      </section>
      <section class="card" aria-labelledby="queue-managers">
        <h2 id="queue-managers">{t("app.projects.queue.managers")}</h2>
        {!managers.length ? (
          <p class="muted">{t("app.projects.queue.noManagers")}</p>
        ) : (
          <ul class="queue-managers">
            {managers.map((m) => (
              <ManagerRow key={m.user_id} m={m} now={serverNow} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function ManagerRow(props: { m: ManagerLoad; now: number }) {
  const m = props.m;
  const full = m.capacity > 0 && m.load >= m.capacity;
  const pct = m.capacity > 0 ? Math.min(100, Math.round((m.load / m.capacity) * 100)) : 0;
  return (
    <li class={"queue-manager" + (m.online ? " online" : " offline") + (full ? " full" : "")} data-user={m.user_id}>
      <span class="qm-who">
        <Avatar id={m.user_id} name={m.name} size={32} presence={m.online ? "online" : "offline"} />
        <span class="qm-name">
          <strong class="ellipsis">{m.name}</strong>
          <span class="muted small">
            {m.online ? t("app.projects.queue.onlineLevel", { level: m.level || 1 }) : t("app.projects.queue.offlineLevel", { level: m.level || 1 })}
          </span>
        </span>
      </span>
      <span class={"qm-avail " + m.availability}>
        <span class={"avail-dot " + m.availability} aria-hidden="true" />
        {availabilityLabel(m.availability)}
      </span>
      <span class="qm-load" title={m.capacity ? t("app.projects.queue.loadTitle") : t("app.projects.queue.loadTitleNoLimit")}>
        <span class="qm-count" data-load={`${m.load}/${m.capacity}`}>
          {m.capacity ? `${m.load}/${m.capacity}` : t("app.projects.queue.open", { n: m.load })}
        </span>
        {m.capacity ? (
          <span class="qm-bar" aria-hidden="true">
            <span style={{ width: pct + "%" }} />
          </span>
        ) : null}
      </span>
      <span class="qm-last muted small" title={t("app.projects.queue.lastTitle")}>
        {m.last_assigned_at ? t("app.projects.queue.last", { ago: ago(m.last_assigned_at, props.now) }) : t("app.projects.queue.noLast")}
      </span>
    </li>
  );
}
