// Administration → Chat projects (seed 004, loaded on demand): the list of
// projects and, per project, General (name, allowed websites, working
// hours, chat on/off), Channels (the messengers, mailboxes and numbers
// connected to it; their own chunk), Messages and shortcuts (with the pre-chat
// questions), Associate specialists (users or groups at level 1 or 2,
// checkboxes + Erase), Chat cases (the case template; templates managed
// here), Inbox limits (reply time limits, attachment limits), Distribution
// (the auto-distribution of dialogs: policy, capacities, burst limit,
// managers per channel, reassigning overdue dialogs; its queue is
// lazy/Queue.tsx), Embed (the snippet and the secret for verified
// visitors) and Metrics (per specialist, with View detail → their dialogs
// → the record).

import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { date, locale, num, t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { ApiError } from "../api";
import * as live from "../livechat";
import { navigate, onLink } from "../router";
import * as store from "../store";
import type { AttachmentLimits, CaseField, CaseTemplate, Dialog, Distribution, Group, Policy, Project, Specialist, SpecialistMetrics } from "../types";
import { CHANNEL_KINDS, ChannelIcon, channelName } from "../ui/channels";
import { Avatar, Modal, Spinner, Toggle } from "../ui/common";
import { FieldRow } from "../ui/fields";
import { PickList } from "../ui/PickList";
import { lazy } from "../ui/lazy";
import { UserPicker } from "../ui/People";
import { copyText, fullTime } from "../util";

const ChannelsSection = lazy(() => import("./Channels").then((m) => m.ChannelsSection));

/** The project's sections with their names (message keys). */
const SECTIONS: [string, string][] = [
  ["general", "app.projects.section.general"],
  ["channels", "app.projects.section.channels"],
  ["messages", "app.projects.section.messages"],
  ["specialists", "app.projects.section.specialists"],
  ["cases", "app.projects.section.cases"],
  ["inbox", "app.projects.section.inbox"],
  ["distribution", "app.projects.section.distribution"],
  ["embed", "app.projects.section.embed"],
  ["metrics", "app.projects.section.metrics"],
];

/** weekday is a day's name in the language in use (0 Sunday … 6 Saturday): "Monday", "понедельник". */
const weekday = (w: number) => date(new Date(2024, 0, 7 + w), { weekday: "long" });
/** upper starts a name with a capital, as an option of a list shows it ("Понедельник"). */
const upper = (s: string) => s.charAt(0).toLocaleUpperCase(locale()) + s.slice(1);

function arr<T>(res: unknown, key: string): T[] {
  if (Array.isArray(res)) return res as T[];
  const v = (res as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

const base = (id: number) => `/admin/projects/${id}`;

export function ProjectsTab(props: { id?: number; section?: string; sub?: number }) {
  if (!props.id) return <ProjectList />;
  return <ProjectPage key={props.id} id={props.id} section={props.section || "general"} sub={props.sub} />;
}

// ---- the list ------------------------------------------------------------------

function ProjectList() {
  const [list, setList] = useState<Project[] | null>(null);
  const [err, setErr] = useState("");
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    api.get<unknown>("/projects").then(
      (r) => setList(arr<Project>(r, "projects")),
      (e) => setErr(e.message),
    );
  }, []);
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.projects.list.title")}</h2>
        <button class="btn primary" onClick={() => setCreating(true)}>
          {t("app.projects.list.create")}
        </button>
      </div>
      <p class="muted">{t("app.projects.list.intro")}</p>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">{t("app.projects.list.empty")}</p>
      ) : (
        <ul class="group-list project-list">
          {list.map((p) => (
            <li key={p.id}>
              <a class="group-row" href={base(p.id)} onClick={onLink}>
                <strong class="ellipsis">{p.name}</strong>
                <span class={"pill " + (p.chat_enabled ? "on" : "off")}>{p.chat_enabled ? t("app.projects.chatOn") : t("app.projects.chatOff")}</span>
                <span class="muted ellipsis">{(p.origins || []).join(", ") || t("app.projects.list.noOrigins")}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {creating ? <CreateProject onClose={() => setCreating(false)} /> : null}
    </section>
  );
}

function CreateProject(props: { onClose: () => void }) {
  const [name, setName] = useState("");
  const [origins, setOrigins] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const p = await api.post<Project>("/projects", { name: name.trim(), origins: lines(origins) });
      props.onClose();
      navigate(base(p.id));
    } catch (x) {
      setErr((x as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title={t("app.projects.create.title")} onClose={props.onClose}>
      <form onSubmit={submit}>
        <label class="field">
          <span>{t("app.projects.name")}</span>
          <input class="input" name="name" required maxLength={100} value={name} data-autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("app.projects.create.origins")}</span>
          <textarea class="input" name="origins" rows={3} value={origins} onInput={(e) => setOrigins((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.projects.cancel")}
          </button>
          <button class="btn primary" disabled={busy || !name.trim()}>
            {t("app.projects.create.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const lines = (s: string) =>
  s
    .split(/[\n,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

// ---- one project -----------------------------------------------------------------

function ProjectPage(props: { id: number; section: string; sub?: number }) {
  const [p, setP] = useState<Project | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    api.get<Project>(`/projects/${props.id}`).then(setP, (e) => setErr(e.message));
  }, [props.id]);
  const saved = (np: Project) => {
    setP(np);
    live.refreshProjects();
  };
  if (err)
    return (
      <section class="card">
        <p class="form-error">{err}</p>
        <a href="/admin/projects" onClick={onLink}>
          {t("app.projects.page.all")}
        </a>
      </section>
    );
  if (!p)
    return (
      <section class="card">
        <Spinner />
      </section>
    );
  const sec = SECTIONS.some(([k]) => k === props.section) ? props.section : "general";
  let body: ComponentChildren;
  switch (sec) {
    case "channels":
      body = <ChannelsSection p={p} id={props.sub} />;
      break;
    case "messages":
      body = <MessagesSection p={p} onSaved={saved} />;
      break;
    case "specialists":
      body = <SpecialistsSection p={p} />;
      break;
    case "cases":
      body = <CasesSection p={p} onSaved={saved} />;
      break;
    case "inbox":
      body = <InboxLimitsSection p={p} onSaved={saved} />;
      break;
    case "distribution":
      body = <DistributionSection p={p} onSaved={saved} />;
      break;
    case "embed":
      body = <EmbedSection p={p} onSaved={saved} />;
      break;
    case "metrics":
      body = props.sub ? <MetricsDetail p={p} userId={props.sub} /> : <MetricsSection p={p} />;
      break;
    default:
      body = <GeneralSection p={p} onSaved={saved} />;
  }
  return (
    <div class="project">
      <div class="project-head">
        <a class="link-back" href="/admin/projects" onClick={onLink}>
          {t("app.projects.page.back")}
        </a>
        <h2 class="ellipsis">{p.name}</h2>
        <span class={"pill " + (p.chat_enabled ? "on" : "off")}>{p.chat_enabled ? t("app.projects.chatOn") : t("app.projects.chatOff")}</span>
        <span class="grow" />
        <a class="btn small" href={`/queue/${p.id}`} onClick={onLink} title={t("app.projects.page.queueTitle")}>
          {t("app.projects.page.queue")}
        </a>
      </div>
      <nav class="subtabs" aria-label={t("app.projects.page.settings")}>
        {SECTIONS.map(([k, l]) => (
          <a
            key={k}
            href={k === "general" ? base(p.id) : `${base(p.id)}/${k}`}
            class={sec === k ? "on" : ""}
            aria-current={sec === k ? "page" : undefined}
            onClick={onLink}
          >
            {t(l)}
          </a>
        ))}
      </nav>
      {body}
    </div>
  );
}

/** useSave runs a PATCH of the project and reports "Saved" or the server's error (with its field). */
function useSave(p: Project, onSaved: (p: Project) => void) {
  const [state, setState] = useState<{ busy: boolean; ok: boolean; err: string; field: string }>({ busy: false, ok: false, err: "", field: "" });
  const save = async (body: Partial<Project>) => {
    setState({ busy: true, ok: false, err: "", field: "" });
    try {
      const out = await api.patch<Project>(`/projects/${p.id}`, body);
      onSaved(out && out.id ? out : { ...p, ...body });
      setState({ busy: false, ok: true, err: "", field: "" });
      return true;
    } catch (e) {
      setState({ busy: false, ok: false, err: (e as Error).message, field: e instanceof ApiError ? e.field || "" : "" });
      return false;
    }
  };
  const status = (
    <span class="save-state" role="status">
      {state.err ? (
        <span class="form-error">{t("app.projects.save.failed", { error: state.err })}</span>
      ) : state.ok ? (
        <span class="ok-text">{t("app.projects.save.saved")}</span>
      ) : state.busy ? (
        <Spinner label={t("app.projects.save.saving")} />
      ) : null}
    </span>
  );
  return { save, status, state };
}

function GeneralSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const [name, setName] = useState(p.name);
  const [origins, setOrigins] = useState((p.origins || []).join("\n"));
  const [enabled, setEnabled] = useState(p.chat_enabled);
  const [tz, setTz] = useState(p.hours?.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [days, setDays] = useState(p.hours?.days || []);
  const [deleting, setDeleting] = useState(false);
  const { save, status } = useSave(p, props.onSaved);
  const zones = useMemo(() => {
    try {
      return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
    } catch {
      return [];
    }
  }, []);
  const setDay = (i: number, patch: Partial<(typeof days)[number]>) => setDays(days.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const submit = (e: Event) => {
    e.preventDefault();
    save({ name: name.trim(), origins: lines(origins), chat_enabled: enabled, hours: { time_zone: tz.trim(), days } });
  };
  return (
    <section class="card">
      <form onSubmit={submit}>
        <label class="field">
          <span>{t("app.projects.name")}</span>
          <input class="input" name="name" required maxLength={100} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("app.projects.general.origins")}</span>
          <textarea class="input" name="origins" rows={3} value={origins} onInput={(e) => setOrigins((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        <Toggle label={t("app.projects.general.enabled")} hint={t("app.projects.general.enabledHint")} checked={enabled} onChange={setEnabled} />
        <fieldset>
          <legend>{t("app.projects.general.hours")}</legend>
          <label class="field">
            <span>{t("app.projects.general.timeZone")}</span>
            <input class="input" name="time_zone" list="tz-list" value={tz} onInput={(e) => setTz((e.currentTarget as HTMLInputElement).value)} />
            <datalist id="tz-list">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
          {!days.length ? <p class="muted">{t("app.projects.general.noHours")}</p> : null}
          <ul class="hours">
            {days.map((d, i) => (
              <li key={i}>
                <select class="input" aria-label={t("app.projects.general.day")} value={String(d.weekday)} onChange={(e) => setDay(i, { weekday: Number((e.currentTarget as HTMLSelectElement).value) })}>
                  {[1, 2, 3, 4, 5, 6, 0].map((w) => (
                    <option key={w} value={String(w)}>
                      {upper(weekday(w))}
                    </option>
                  ))}
                </select>
                <input class="input" type="time" aria-label={t("app.projects.general.from")} value={d.from} onInput={(e) => setDay(i, { from: (e.currentTarget as HTMLInputElement).value })} />
                <span class="muted">{t("app.projects.general.to")}</span>
                <input class="input" type="time" aria-label={t("app.projects.general.toLabel")} value={d.to} onInput={(e) => setDay(i, { to: (e.currentTarget as HTMLInputElement).value })} />
                <button type="button" class="icon-btn small" aria-label={t("app.projects.general.removeDay", { day: weekday(d.weekday) })} onClick={() => setDays(days.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <div class="row-start">
            <button type="button" class="btn small" onClick={() => setDays([...days, { weekday: 1, from: "09:00", to: "18:00" }])}>
              {t("app.projects.general.addPeriod")}
            </button>
            <button
              type="button"
              class="btn small"
              onClick={() => setDays([1, 2, 3, 4, 5].map((w) => ({ weekday: w, from: "09:00", to: "18:00" })))}
            >
              {t("app.projects.general.weekdays")}
            </button>
            {days.length ? (
              <button type="button" class="btn small" onClick={() => setDays([])}>
                {t("app.projects.general.alwaysOpen")}
              </button>
            ) : null}
          </div>
        </fieldset>
        <div class="row-end">
          {status}
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </div>
      </form>
      <hr class="sep" />
      <div class="row-end">
        <span class="muted grow">{t("app.projects.general.deleteHint")}</span>
        <button class="btn danger" onClick={() => setDeleting(true)}>
          {t("app.projects.general.delete")}
        </button>
      </div>
      {deleting ? (
        <Modal
          title={t("app.projects.general.deleteTitle")}
          onClose={() => setDeleting(false)}
          footer={
            <>
              <button class="btn" onClick={() => setDeleting(false)}>
                {t("app.projects.cancel")}
              </button>
              <button
                class="btn danger"
                onClick={async () => {
                  try {
                    await api.del(`/projects/${p.id}`);
                    live.refreshProjects();
                    navigate("/admin/projects");
                  } catch (e) {
                    store.fail(e);
                  }
                }}
              >
                {t("app.projects.delete")}
              </button>
            </>
          }
        >
          <p>{tp("app.projects.general.deleteText", { name: <strong>{p.name}</strong> })}</p>
        </Modal>
      ) : null}
    </section>
  );
}

function MessagesSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const m = p.messages || { greeting: "", offline: "", waiting: "", shortcuts: [] };
  const [greeting, setGreeting] = useState(m.greeting || "");
  const [offline, setOffline] = useState(m.offline || "");
  const [waiting, setWaiting] = useState(m.waiting || "");
  const [shortcuts, setShortcuts] = useState(m.shortcuts || []);
  const [fields, setFields] = useState(p.prechat_fields || []);
  const { save, status } = useSave(p, props.onSaved);
  const area = (label: string, hint: string, v: string, set: (s: string) => void, name: string) => (
    <label class="field">
      <span>
        {label} <small class="muted">— {hint}</small>
      </span>
      <textarea class="input" name={name} rows={2} value={v} onInput={(e) => set((e.currentTarget as HTMLTextAreaElement).value)} />
    </label>
  );
  const submit = (e: Event) => {
    e.preventDefault();
    save({
      messages: {
        greeting,
        offline,
        waiting,
        shortcuts: shortcuts.filter((s) => s.name.trim() && s.text.trim()).map((s) => ({ name: s.name.trim().replace(/^\//, ""), text: s.text })),
      },
      prechat_fields: fields.filter((f) => f.name.trim()).map((f) => ({ ...f, name: f.name.trim(), label: f.label.trim() || f.name.trim() })),
    });
  };
  return (
    <section class="card">
      <form onSubmit={submit}>
        {area(t("app.projects.messages.greeting"), t("app.projects.messages.greetingHint"), greeting, setGreeting, "greeting")}
        {area(t("app.projects.messages.offline"), t("app.projects.messages.offlineHint"), offline, setOffline, "offline")}
        {area(t("app.projects.messages.waiting"), t("app.projects.messages.waitingHint"), waiting, setWaiting, "waiting")}
        <fieldset>
          <legend>{t("app.projects.messages.shortcuts")}</legend>
          <p class="muted small">{t("app.projects.messages.shortcutsHint")}</p>
          <ul class="kv-list">
            {shortcuts.map((s, i) => (
              <li key={i}>
                <input
                  class="input sc-name"
                  aria-label={t("app.projects.messages.shortcutName")}
                  placeholder={t("app.projects.messages.shortcutNamePlaceholder")}
                  value={s.name}
                  onInput={(e) => setShortcuts(shortcuts.map((x, j) => (j === i ? { ...x, name: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <textarea
                  class="input"
                  rows={1}
                  aria-label={t("app.projects.messages.shortcutText")}
                  placeholder={t("app.projects.messages.shortcutTextPlaceholder")}
                  value={s.text}
                  onInput={(e) => setShortcuts(shortcuts.map((x, j) => (j === i ? { ...x, text: (e.currentTarget as HTMLTextAreaElement).value } : x)))}
                />
                <button type="button" class="icon-btn small" aria-label={t("app.projects.messages.removeShortcut", { name: s.name })} onClick={() => setShortcuts(shortcuts.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setShortcuts([...shortcuts, { name: "", text: "" }])}>
            {t("app.projects.messages.addShortcut")}
          </button>
        </fieldset>
        <fieldset>
          <legend>{t("app.projects.messages.prechat")}</legend>
          <p class="muted small">{t("app.projects.messages.prechatHint")}</p>
          <ul class="kv-list">
            {fields.map((f, i) => (
              <li key={i}>
                <input
                  class="input sc-name"
                  aria-label={t("app.projects.fieldName")}
                  placeholder={t("app.projects.fieldNamePlaceholder")}
                  value={f.name}
                  onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, name: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <input
                  class="input"
                  aria-label={t("app.projects.messages.question")}
                  placeholder={t("app.projects.messages.questionPlaceholder")}
                  value={f.label}
                  onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, label: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <label class="inline-check">
                  <input
                    type="checkbox"
                    checked={f.required}
                    onChange={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, required: (e.currentTarget as HTMLInputElement).checked } : x)))}
                  />
                  {t("app.projects.required")}
                </label>
                <button type="button" class="icon-btn small" aria-label={t("app.projects.messages.removeQuestion", { name: f.name })} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setFields([...fields, { name: "", label: "", required: false }])}>
            {t("app.projects.messages.addQuestion")}
          </button>
        </fieldset>
        <div class="row-end">
          {status}
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </div>
      </form>
    </section>
  );
}

// ---- specialists -----------------------------------------------------------------

function SpecialistsSection(props: { p: Project }) {
  const p = props.p;
  const [list, setList] = useState<Specialist[] | null>(null);
  const [groups, setGroups] = useState<Group[]>([]);
  const [sel, setSel] = useState<number[]>([]);
  const [adding, setAdding] = useState<"" | "users" | "group">("");
  const [level, setLevel] = useState(1);
  const [groupId, setGroupId] = useState(0);
  const [err, setErr] = useState("");
  const load = () =>
    api.get<unknown>(`/projects/${p.id}/specialists`).then(
      (r) => setList(arr<Specialist>(r, "specialists")),
      (e) => setErr(e.message),
    );
  useEffect(() => {
    load();
    api.get<{ groups: Group[] }>("/groups").then((g) => setGroups(g.groups), () => {});
  }, [p.id]);
  const add = async (body: Record<string, number>[]) => {
    setErr("");
    try {
      for (const b of body) await api.post(`/projects/${p.id}/specialists`, b);
    } catch (e) {
      setErr((e as Error).message);
    }
    await load();
    live.refreshProjects();
  };
  const erase = async () => {
    setErr("");
    try {
      await api.post(`/projects/${p.id}/specialists/erase`, { ids: sel });
      setSel([]);
    } catch (e) {
      setErr((e as Error).message);
    }
    await load();
    live.refreshProjects();
  };
  const levelPicker = (
    <fieldset class="level-pick">
      <legend>{t("app.projects.specialists.levelTerm")}</legend>
      <label class="toggle">
        <input type="radio" name="level" checked={level === 1} onChange={() => setLevel(1)} />
        <span class="toggle-text">
          {t("app.projects.level", { n: 1 })}
          <small>{t("app.projects.specialists.level1Hint")}</small>
        </span>
      </label>
      <label class="toggle">
        <input type="radio" name="level" checked={level === 2} onChange={() => setLevel(2)} />
        <span class="toggle-text">
          {t("app.projects.level", { n: 2 })}
          <small>{t("app.projects.specialists.level2Hint")}</small>
        </span>
      </label>
    </fieldset>
  );
  const all = list || [];
  const allOn = all.length > 0 && sel.length === all.length;
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.projects.specialists.title")}</h2>
        <button class="btn" onClick={() => (setLevel(1), setAdding("users"))}>
          {t("app.projects.specialists.addUsers")}
        </button>
        <button class="btn" onClick={() => (setLevel(1), setGroupId(groups[0]?.id || 0), setAdding("group"))} disabled={!groups.length}>
          {t("app.projects.specialists.addGroup")}
        </button>
        <button class="btn danger" disabled={!sel.length} onClick={erase}>
          {sel.length ? t("app.projects.specialists.eraseN", { n: sel.length }) : t("app.projects.specialists.erase")}
        </button>
      </div>
      <p class="muted small">{t("app.projects.specialists.intro")}</p>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">{t("app.projects.specialists.empty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="table specialists">
            <thead>
              <tr>
                <th class="check-col">
                  <input type="checkbox" aria-label={t("app.projects.specialists.selectAll")} checked={allOn} onChange={() => setSel(allOn ? [] : all.map((s) => s.id))} />
                </th>
                <th>{t("app.projects.name")}</th>
                <th>{t("app.projects.specialists.kind")}</th>
                <th>{t("app.projects.specialists.levelTerm")}</th>
              </tr>
            </thead>
            <tbody>
              {all.map((s) => (
                <tr key={s.id} class={sel.includes(s.id) ? "picked" : ""}>
                  <td class="check-col">
                    <input
                      type="checkbox"
                      aria-label={t("app.projects.specialists.select", { name: s.name })}
                      checked={sel.includes(s.id)}
                      onChange={() => setSel(sel.includes(s.id) ? sel.filter((x) => x !== s.id) : [...sel, s.id])}
                    />
                  </td>
                  <td>
                    <span class="cell-user">
                      <Avatar id={s.user_id || (s.group_id || 0) * 7} name={s.name} size={26} />
                      <span class="ellipsis">{s.name}</span>
                    </span>
                  </td>
                  <td>{s.group_id ? t("app.projects.specialists.group") : t("app.projects.specialists.user")}</td>
                  <td>
                    <span class={"pill level" + s.level}>{t("app.projects.level", { n: s.level })}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {adding === "users" ? (
        <UserPicker
          title={t("app.projects.specialists.addTitle")}
          confirm={t("app.projects.specialists.add")}
          includeMe
          exclude={all.filter((s) => s.user_id).map((s) => s.user_id!)}
          onClose={() => setAdding("")}
          onPick={async (ids) => {
            await add(ids.map((id) => ({ user_id: id, level })));
            setAdding("");
          }}
        >
          {levelPicker}
        </UserPicker>
      ) : null}
      {adding === "group" ? (
        <Modal
          title={t("app.projects.specialists.addGroupTitle")}
          onClose={() => setAdding("")}
          footer={
            <>
              <button class="btn" onClick={() => setAdding("")}>
                {t("app.projects.cancel")}
              </button>
              <button
                class="btn primary"
                disabled={!groupId}
                onClick={async () => {
                  await add([{ group_id: groupId, level }]);
                  setAdding("");
                }}
              >
                {t("app.projects.specialists.add")}
              </button>
            </>
          }
        >
          <label class="field">
            <span>{t("app.projects.specialists.group")}</span>
            <select class="input" name="group_id" value={String(groupId)} onChange={(e) => setGroupId(Number((e.currentTarget as HTMLSelectElement).value))}>
              {groups.map((g) => (
                <option key={g.id} value={String(g.id)}>
                  {t("app.projects.specialists.groupOption", { name: g.name, n: g.member_ids?.length || 0 })}
                </option>
              ))}
            </select>
          </label>
          {levelPicker}
        </Modal>
      ) : null}
    </section>
  );
}

// ---- chat cases -------------------------------------------------------------------

const mandatory = (tpl: CaseTemplate) => (tpl.fields || []).some((f) => f.required && !f.default);

function CasesSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const [templates, setTemplates] = useState<CaseTemplate[] | null>(null);
  const [choice, setChoice] = useState(p.case_template_id || 0);
  const [edit, setEdit] = useState<CaseTemplate | "new" | null>(null);
  const [err, setErr] = useState("");
  const { save, status, state } = useSave(p, props.onSaved);
  const load = () =>
    api.get<unknown>("/case-templates").then(
      (r) => setTemplates(arr<CaseTemplate>(r, "templates").length ? arr<CaseTemplate>(r, "templates") : arr<CaseTemplate>(r, "case_templates")),
      (e) => setErr(e.message),
    );
  useEffect(() => {
    load();
  }, []);
  return (
    <>
      <section class="card">
        <h2>{t("app.projects.cases.title")}</h2>
        <p class="muted small">{t("app.projects.cases.intro")}</p>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            save({ case_template_id: choice });
          }}
        >
          <label class="field">
            <span>{t("app.projects.cases.template")}</span>
            <select
              class={"input" + (state.field === "case_template_id" ? " invalid" : "")}
              name="case_template_id"
              value={String(choice)}
              aria-invalid={state.field === "case_template_id" || undefined}
              onChange={(e) => setChoice(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              <option value="0">{t("app.projects.cases.builtIn")}</option>
              {(templates || []).map((tpl) => (
                <option key={tpl.id} value={String(tpl.id)}>
                  {mandatory(tpl) ? t("app.projects.cases.optionMandatory", { name: tpl.name }) : tpl.name}
                </option>
              ))}
            </select>
          </label>
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </form>
        {status}
      </section>
      <section class="card">
        <div class="card-head">
          <h2>{t("app.projects.cases.templates")}</h2>
          <button class="btn" onClick={() => setEdit("new")}>
            {t("app.projects.cases.newTemplate")}
          </button>
        </div>
        {err ? <p class="form-error">{err}</p> : null}
        {templates === null ? (
          <Spinner />
        ) : !templates.length ? (
          <p class="muted">{t("app.projects.cases.empty")}</p>
        ) : (
          <ul class="group-list">
            {templates.map((tpl) => (
              <li key={tpl.id}>
                <button class="group-row" onClick={() => setEdit(tpl)}>
                  <strong class="ellipsis">{tpl.name}</strong>
                  {mandatory(tpl) ? <span class="pill warn">{t("app.projects.cases.mandatory")}</span> : null}
                  <span class="muted ellipsis">
                    {(tpl.fields || []).map((f) => f.label || f.name).join(", ") || t("app.projects.cases.noFields")}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {edit ? (
        <TemplateEditor
          tpl={edit === "new" ? null : edit}
          onClose={() => setEdit(null)}
          onSaved={() => {
            setEdit(null);
            load();
          }}
        />
      ) : null}
    </>
  );
}

function TemplateEditor(props: { tpl: CaseTemplate | null; onClose: () => void; onSaved: () => void }) {
  const tpl = props.tpl;
  const [name, setName] = useState(tpl?.name || "");
  const [fields, setFields] = useState<CaseField[]>(tpl?.fields || []);
  const [err, setErr] = useState("");
  const setField = (i: number, patch: Partial<CaseField>) => setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr("");
    const body = {
      name: name.trim(),
      fields: fields
        .filter((f) => f.name.trim())
        .map((f) => ({ name: f.name.trim(), label: (f.label || "").trim() || f.name.trim(), required: !!f.required, default: f.default || "" })),
    };
    try {
      if (tpl) await api.patch(`/case-templates/${tpl.id}`, body);
      else await api.post("/case-templates", body);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  const remove = async () => {
    try {
      await api.del(`/case-templates/${tpl!.id}`);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  return (
    <Modal title={tpl ? t("app.projects.template.editTitle") : t("app.projects.template.newTitle")} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <label class="field">
          <span>{t("app.projects.name")}</span>
          <input class="input" name="name" required maxLength={100} value={name} data-autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <fieldset>
          <legend>{t("app.projects.template.fields")}</legend>
          <ul class="kv-list fields">
            {fields.map((f, i) => (
              <li key={i}>
                <input class="input sc-name" aria-label={t("app.projects.fieldName")} placeholder={t("app.projects.fieldNamePlaceholder")} value={f.name} onInput={(e) => setField(i, { name: (e.currentTarget as HTMLInputElement).value })} />
                <input class="input" aria-label={t("app.projects.template.fieldLabel")} placeholder={t("app.projects.template.labelPlaceholder")} value={f.label} onInput={(e) => setField(i, { label: (e.currentTarget as HTMLInputElement).value })} />
                <input
                  class="input"
                  aria-label={t("app.projects.template.default")}
                  placeholder={t("app.projects.template.defaultPlaceholder")}
                  value={f.default || ""}
                  onInput={(e) => setField(i, { default: (e.currentTarget as HTMLInputElement).value })}
                />
                <label class="inline-check">
                  <input type="checkbox" checked={f.required} onChange={(e) => setField(i, { required: (e.currentTarget as HTMLInputElement).checked })} />
                  {t("app.projects.required")}
                </label>
                <button type="button" class="icon-btn small" aria-label={t("app.projects.template.removeField", { name: f.name })} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setFields([...fields, { name: "", label: "", required: false, default: "" }])}>
            {t("app.projects.template.addField")}
          </button>
        </fieldset>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          {tpl ? (
            <button type="button" class="btn danger" onClick={remove}>
              {t("app.projects.template.delete")}
            </button>
          ) : null}
          <span class="grow" />
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.projects.cancel")}
          </button>
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </div>
      </form>
    </Modal>
  );
}

// ---- embed -------------------------------------------------------------------------

/** The call that identifies a verified visitor, as a site writes it (code, the same in every language). */
const IDENTIFY = 'Parley.identify({ user_id: "42", user_hash: hex(HMAC-SHA256(secret, "42")) })';

function EmbedSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const [copied, setCopied] = useState("");
  const [show, setShow] = useState(false);
  const [rotating, setRotating] = useState(false);
  const snippet = `<script async src="${location.origin}/widget.js" data-project="${p.key}"></script>`;
  const copy = async (what: string, text: string) => {
    try {
      await copyText(text);
      setCopied(what);
      setTimeout(() => setCopied(""), 2000);
    } catch (e) {
      store.fail(e);
    }
  };
  const rotate = async () => {
    try {
      const out = await api.post<Partial<Project>>(`/projects/${p.id}/secret`);
      props.onSaved({ ...p, ...(out && out.id ? out : {}), secret: out?.secret || p.secret });
      setShow(true);
      setRotating(false);
    } catch (e) {
      store.fail(e);
    }
  };
  return (
    <>
      <section class="card">
        <h2>{t("app.projects.embed.title")}</h2>
        <p class="muted small">{t("app.projects.embed.paste")}</p>
        <pre class="code" aria-label={t("app.projects.embed.snippet")}>
          <code>{snippet}</code>
        </pre>
        <div class="row-end">
          {copied === "snippet" ? <span class="ok-text">{t("app.projects.embed.copied")}</span> : null}
          <button class="btn primary" onClick={() => copy("snippet", snippet)}>
            {t("app.projects.embed.copy")}
          </button>
        </div>
        <p class="muted small">
          {tp("app.projects.embed.allowed", {
            list: (p.origins || []).length ? (p.origins || []).join(", ") : <strong>{t("app.projects.embed.noOrigins")}</strong>,
          })}
        </p>
      </section>
      <section class="card">
        <h2>{t("app.projects.embed.verified")}</h2>
        <p class="muted small">{tp("app.projects.embed.verifiedText", { code: <code>{IDENTIFY}</code> })}</p>
        <div class="secret-row">
          <code class="secret" aria-label={t("app.projects.embed.secret")}>
            {p.secret ? (show ? p.secret : "•".repeat(Math.min(32, p.secret.length))) : "—"}
          </code>
          <button class="btn small" onClick={() => setShow(!show)} disabled={!p.secret}>
            {show ? t("app.projects.embed.hide") : t("app.projects.embed.show")}
          </button>
          <button class="btn small" onClick={() => copy("secret", p.secret || "")} disabled={!p.secret}>
            {copied === "secret" ? t("app.projects.embed.copied") : t("app.projects.embed.copy")}
          </button>
          <button class="btn small danger" onClick={() => setRotating(true)}>
            {t("app.projects.embed.rotate")}
          </button>
        </div>
      </section>
      {rotating ? (
        <Modal
          title={t("app.projects.embed.rotateTitle")}
          onClose={() => setRotating(false)}
          footer={
            <>
              <button class="btn" onClick={() => setRotating(false)}>
                {t("app.projects.cancel")}
              </button>
              <button class="btn danger" onClick={rotate}>
                {t("app.projects.embed.rotate")}
              </button>
            </>
          }
        >
          <p>{t("app.projects.embed.rotateText")}</p>
        </Modal>
      ) : null}
    </>
  );
}

// ---- metrics ---------------------------------------------------------------------------

/** The kinds of attachment with their names (message keys). */
const KINDS: [keyof AttachmentLimits, string][] = [
  ["image", "app.projects.limits.kind.image"],
  ["audio", "app.projects.limits.kind.audio"],
  ["video", "app.projects.limits.kind.video"],
  ["other", "app.projects.limits.kind.other"],
];
const MB = 1 << 20;

/** A limit field's text: minutes or megabytes, "" for none. */
const unitText = (v: number | undefined, unit: number) => (v ? String(Math.round((v / unit) * 10) / 10) : "");

/**
 * Seed 003's time limits (a warning, then the time to process, counted from
 * the customer's first unanswered message) and the widget's attachment
 * limits per kind of file. Messenger channels start from the seed's table.
 */
function InboxLimitsSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const rl = p.reply_limits || { warn_s: 0, limit_s: 0 };
  const [warn, setWarn] = useState(unitText(rl.warn_s, 60));
  const [limit, setLimit] = useState(unitText(rl.limit_s, 60));
  const widget = p.attachment_limits?.widget || { image: 0, audio: 0, video: 0, other: 0 };
  const [sizes, setSizes] = useState<Record<string, string>>(Object.fromEntries(KINDS.map(([k]) => [k, unitText(widget[k], MB)])));
  const times = useSave(p, props.onSaved);
  const files = useSave(p, props.onSaved);
  const minutes = (v: string) => Math.round(Number(v || "0") * 60);
  const bytes = (v: string) => Math.round(Number(v || "0") * MB);
  const bad = (v: string) => v.trim() !== "" && !(Number(v) >= 0);
  return (
    <>
      <section class="card">
        <h2>{t("app.projects.limits.replyTitle")}</h2>
        <p class="muted small">{t("app.projects.limits.replyIntro")}</p>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (bad(warn) || bad(limit)) return;
            times.save({ reply_limits: { ...rl, warn_s: minutes(warn), limit_s: minutes(limit) } });
          }}
        >
          <label class="field">
            <span>{t("app.projects.limits.warn")}</span>
            <input class={"input" + (bad(warn) ? " invalid" : "")} inputMode="decimal" name="warn" value={warn} onInput={(e) => setWarn(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>{t("app.projects.limits.limit")}</span>
            <input class={"input" + (bad(limit) ? " invalid" : "")} inputMode="decimal" name="limit" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
          </label>
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </form>
        {times.status}
      </section>
      <section class="card">
        <h2>{t("app.projects.limits.filesTitle")}</h2>
        <p class="muted small">{t("app.projects.limits.filesIntro")}</p>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (KINDS.some(([k]) => bad(sizes[k]))) return;
            const w = Object.fromEntries(KINDS.map(([k]) => [k, bytes(sizes[k])])) as unknown as AttachmentLimits;
            files.save({ attachment_limits: { ...(p.attachment_limits || {}), widget: w } });
          }}
        >
          {KINDS.map(([k, label]) => (
            <label class="field" key={k}>
              <span>{t("app.projects.limits.mb", { kind: t(label) })}</span>
              <input
                class={"input" + (bad(sizes[k]) ? " invalid" : "")}
                inputMode="decimal"
                name={"limit-" + k}
                value={sizes[k]}
                onInput={(e) => setSizes({ ...sizes, [k]: e.currentTarget.value })}
              />
            </label>
          ))}
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </form>
        {files.status}
      </section>
      <RetentionCard p={p} onSaved={props.onSaved} />
    </>
  );
}

/** The project's retention: dialogs closed longer ago are deleted with their files (docs/inbox.md#retention). */
function RetentionCard(props: { p: Project; onSaved: (p: Project) => void }) {
  const [days, setDays] = useState(props.p.retention_days ? String(props.p.retention_days) : "");
  const keep = useSave(props.p, props.onSaved);
  const bad = days.trim() !== "" && !/^\d+$/.test(days.trim());
  return (
    <section class="card">
      <h2>{t("app.projects.retention.title")}</h2>
      <p class="muted small">{t("app.projects.retention.intro")}</p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) keep.save({ retention_days: Number(days.trim() || "0") });
        }}
      >
        <label class="field">
          <span>{t("app.projects.retention.days")}</span>
          <input class={"input" + (bad ? " invalid" : "")} inputMode="numeric" name="retention_days" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <button class="btn primary">{t("app.projects.save.button")}</button>
      </form>
      {keep.status}
    </section>
  );
}

// ---- distribution ------------------------------------------------------------------

/** The policies: name and what it does (message keys). */
const POLICY_CHOICES: [Policy, string, string][] = [
  ["off", "app.projects.policy.off", "app.projects.dist.policyHint.off"],
  ["round_robin", "app.projects.policy.roundRobin", "app.projects.dist.policyHint.roundRobin"],
  ["fewest_open", "app.projects.policy.fewestOpen", "app.projects.dist.policyHint.fewestOpen"],
];

const NO_DISTRIBUTION: Distribution = { policy: "off", capacity: 0, managers: [], project_capacity: 0, burst: 0, channels: {}, reassign_overdue: false };

/** A limit's text: "" for none (0). */
const limitText = (n: number | undefined) => (n ? String(n) : "");

/** whole reads a limit field: "" is 0 (no limit); anything but a whole number is NaN. Range checks are the server's. */
const whole = (v: string) => (v.trim() === "" ? 0 : /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN);

/**
 * The auto-distribution of dialogs (seed 003's distribution bot): who gets
 * a new dialog (the policy), how many open dialogs a manager may have in
 * charge (by default and per person), how many the project may have in
 * charge, how many a manager gets in a minute, which managers serve a
 * channel, and whether a dialog past its reply time limit goes to someone
 * else. The server checks the values; its refusals show beside the field.
 */
function DistributionSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const d0 = { ...NO_DISTRIBUTION, ...(p.distribution || {}) };
  const [policy, setPolicy] = useState<Policy>(d0.policy || "off");
  const [capacity, setCapacity] = useState(limitText(d0.capacity));
  const [projectCap, setProjectCap] = useState(limitText(d0.project_capacity));
  const [burst, setBurst] = useState(limitText(d0.burst));
  const [managers, setManagers] = useState<{ user_id: number; capacity: string }[]>((d0.managers || []).map((m) => ({ user_id: m.user_id, capacity: String(m.capacity) })));
  const [rules, setRules] = useState<{ kind: string; ids: number[] }[]>(Object.entries(d0.channels || {}).map(([kind, ids]) => ({ kind, ids: ids || [] })));
  const [reassign, setReassign] = useState(!!d0.reassign_overdue);
  const [people, setPeople] = useState<live.Person[] | null>(null);
  const [peopleErr, setPeopleErr] = useState("");
  const [local, setLocal] = useState<Record<string, string>>({});
  const { save, status, state } = useSave(p, props.onSaved);
  // A refused field takes the focus, so the message beside it is seen.
  const badField = Object.keys(local)[0] || (state.field.startsWith("distribution.") ? state.field.slice("distribution.".length) : "");
  useEffect(() => {
    if (!badField) return;
    const el = document.getElementById("dist-" + badField) || document.querySelector<HTMLElement>(`.dist-${badField} :is(input, select, button)`);
    el?.focus();
  }, [badField, state.err]);
  useEffect(() => {
    live.specialists(p.id).then(
      (list) => setPeople(list.sort((a, b) => a.name.localeCompare(b.name))),
      (e) => setPeopleErr((e as Error).message),
    );
  }, [p.id]);
  const nameOf = (id: number) => people?.find((x) => x.id === id)?.name || t("app.projects.dist.user", { id: String(id) });
  const rl = p.reply_limits;
  const hasLimits = !!rl && (rl.limit_s > 0 || Object.values(rl.channels || {}).some((c) => c.limit_s > 0));
  /** The error about a field: the browser's own check first, then the server's. */
  const err = (f: string) => local[f] || (state.field === "distribution." + f ? state.err : "");
  const submit = (e: Event) => {
    e.preventDefault();
    const bad: Record<string, string> = {};
    const read = (f: string, v: string) => {
      const n = whole(v);
      if (Number.isNaN(n)) bad[f] = t("app.projects.dist.errWhole");
      return n;
    };
    const out: Distribution = {
      policy,
      capacity: read("capacity", capacity),
      project_capacity: read("project_capacity", projectCap),
      burst: read("burst", burst),
      managers: managers.map((m) => {
        const n = whole(m.capacity);
        if (Number.isNaN(n) || m.capacity.trim() === "") bad.managers = t("app.projects.dist.errManagers");
        return { user_id: m.user_id, capacity: n };
      }),
      channels: Object.fromEntries(rules.map((r) => [r.kind, r.ids])),
      reassign_overdue: reassign,
    };
    if (rules.some((r) => !r.ids.length)) bad.channels = t("app.projects.dist.errChannels");
    setLocal(bad);
    if (Object.keys(bad).length) return;
    save({ distribution: out });
  };
  const freeUsers = (except?: number) => (people || []).filter((x) => x.id === except || !managers.some((m) => m.user_id === x.id));
  const freeKinds = (except?: string) => CHANNEL_KINDS.filter((k) => k === except || !rules.some((r) => r.kind === k));
  const limitField = (f: string, label: string, v: string, set: (s: string) => void, help: string) => (
    <FieldRow id={"dist-" + f} label={label} help={help} error={err(f)}>
      {(a) => (
        <input
          {...a}
          class={"input" + (err(f) ? " invalid" : "")}
          name={f}
          inputMode="numeric"
          placeholder={t("app.projects.dist.noLimit")}
          value={v}
          onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </FieldRow>
  );
  return (
    <section class="card dist">
      <h2>{t("app.projects.dist.title")}</h2>
      <p class="muted small">
        {tp("app.projects.dist.intro", {
          available: <em>{t("app.projects.availability.available")}</em>,
          queue: (
            <a href={`/queue/${p.id}`} onClick={onLink}>
              {t("app.projects.dist.queueLink")}
            </a>
          ),
        })}
      </p>
      <form onSubmit={submit} aria-label={t("app.projects.dist.form")} noValidate>
        <fieldset class="level-pick dist-policy">
          <legend>{t("app.projects.dist.policy")}</legend>
          {POLICY_CHOICES.map(([v, label, hint]) => (
            <label class="toggle" key={v}>
              <input type="radio" name="policy" value={v} checked={policy === v} onChange={() => setPolicy(v)} />
              <span class="toggle-text">
                {t(label)}
                <small>{t(hint)}</small>
              </span>
            </label>
          ))}
          {err("policy") ? (
            <p class="form-error" role="alert">
              {err("policy")}
            </p>
          ) : null}
        </fieldset>
        <div class="dist-limits">
          {limitField("capacity", t("app.projects.dist.capacity"), capacity, setCapacity, t("app.projects.dist.capacityHelp"))}
          {limitField("project_capacity", t("app.projects.dist.projectCapacity"), projectCap, setProjectCap, t("app.projects.dist.projectCapacityHelp"))}
          {limitField("burst", t("app.projects.dist.burst"), burst, setBurst, t("app.projects.dist.burstHelp"))}
        </div>
        <fieldset class={"dist-managers" + (err("managers") ? " has-error" : "")}>
          <legend>{t("app.projects.dist.perPerson")}</legend>
          <p class="muted small">{t("app.projects.dist.perPersonHint")}</p>
          {peopleErr ? <p class="form-error">{peopleErr}</p> : null}
          {managers.length ? (
            <ul class="kv-list">
              {managers.map((m, i) => (
                <li key={i}>
                  <select
                    class="input"
                    aria-label={t("app.projects.dist.manager")}
                    value={String(m.user_id)}
                    onChange={(e) => setManagers(managers.map((x, j) => (j === i ? { ...x, user_id: Number((e.currentTarget as HTMLSelectElement).value) } : x)))}
                  >
                    {people && !people.some((x) => x.id === m.user_id) ? <option value={String(m.user_id)}>{t("app.projects.dist.notSpecialist", { name: nameOf(m.user_id) })}</option> : null}
                    {freeUsers(m.user_id).map((x) => (
                      <option key={x.id} value={String(x.id)}>
                        {x.name}
                      </option>
                    ))}
                  </select>
                  <input
                    class="input dist-cap"
                    inputMode="numeric"
                    aria-label={t("app.projects.dist.capacityOf", { name: nameOf(m.user_id) })}
                    value={m.capacity}
                    onInput={(e) => setManagers(managers.map((x, j) => (j === i ? { ...x, capacity: (e.currentTarget as HTMLInputElement).value } : x)))}
                  />
                  <button type="button" class="icon-btn small" aria-label={t("app.projects.dist.removeManager", { name: nameOf(m.user_id) })} onClick={() => setManagers(managers.filter((_, j) => j !== i))}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <button
            type="button"
            class="btn small"
            disabled={!people || !freeUsers().length}
            onClick={() => {
              const u = freeUsers()[0];
              if (u) setManagers([...managers, { user_id: u.id, capacity: limitText(whole(capacity) || 5) }]);
            }}
          >
            {t("app.projects.dist.addManager")}
          </button>
          {people && !people.length ? <span class="muted small"> {t("app.projects.dist.noSpecialists")}</span> : null}
          {err("managers") ? (
            <p class="form-error" role="alert">
              {err("managers")}
            </p>
          ) : null}
        </fieldset>
        <fieldset class={"dist-channels" + (err("channels") ? " has-error" : "")}>
          <legend>{t("app.projects.dist.perChannel")}</legend>
          <p class="muted small">{t("app.projects.dist.perChannelHint")}</p>
          {rules.length ? (
            <ul class="dist-rules">
              {rules.map((r, i) => (
                <li key={r.kind} class="dist-rule">
                  <div class="dist-rule-head">
                    <ChannelIcon channel={r.kind} size={14} />
                    <select
                      class="input small"
                      aria-label={t("app.projects.dist.channel")}
                      value={r.kind}
                      onChange={(e) => setRules(rules.map((x, j) => (j === i ? { ...x, kind: (e.currentTarget as HTMLSelectElement).value } : x)))}
                    >
                      {freeKinds(r.kind).map((k) => (
                        <option key={k} value={k}>
                          {channelName(k)}
                        </option>
                      ))}
                    </select>
                    <span class="grow" />
                    <button type="button" class="icon-btn small" aria-label={t("app.projects.dist.removeRule", { channel: channelName(r.kind) })} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                      ×
                    </button>
                  </div>
                  <PickList
                    label={t("app.projects.dist.managersOf", { channel: channelName(r.kind) })}
                    options={(people || []).map((x) => ({ value: x.id, label: x.name, hint: t("app.projects.dist.levelHint", { n: x.level }), icon: <Avatar id={x.id} name={x.name} size={22} /> }))}
                    selected={r.ids}
                    onChange={(ids) => setRules(rules.map((x, j) => (j === i ? { ...x, ids } : x)))}
                    search={8}
                    empty={t("app.projects.dist.noSpecialistsShort")}
                  />
                </li>
              ))}
            </ul>
          ) : null}
          <button type="button" class="btn small" disabled={!freeKinds().length} onClick={() => setRules([...rules, { kind: freeKinds()[0], ids: [] }])}>
            {t("app.projects.dist.addRule")}
          </button>
          {err("channels") ? (
            <p class="form-error" role="alert">
              {err("channels")}
            </p>
          ) : null}
        </fieldset>
        <Toggle
          label={t("app.projects.dist.reassign")}
          hint={t("app.projects.dist.reassignHint") + (hasLimits ? "" : " " + t("app.projects.dist.reassignNeedsLimits"))}
          checked={reassign}
          onChange={setReassign}
        />
        <div class="row-end">
          {status}
          <button class="btn primary">{t("app.projects.save.button")}</button>
        </div>
      </form>
    </section>
  );
}

function duration(ms: number | null | undefined): string {
  if (!ms || ms < 0) return "—";
  if (ms < 1000) return t("app.projects.duration.underSecond");
  const s = Math.round(ms / 1000);
  if (s < 60) return t("app.projects.duration.s", { s });
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? t("app.projects.duration.minS", { m, s: s % 60 }) : t("app.projects.duration.min", { m });
  const h = Math.floor(m / 60);
  return m % 60 ? t("app.projects.duration.hMin", { h, m: m % 60 }) : t("app.projects.duration.h", { h });
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function MetricsSection(props: { p: Project }) {
  const p = props.p;
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 30 * 86400_000)));
  const [to, setTo] = useState(() => day(new Date()));
  const [rows, setRows] = useState<SpecialistMetrics[] | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    setErr("");
    const f = new Date(from + "T00:00:00");
    const end = new Date(to + "T00:00:00");
    end.setDate(end.getDate() + 1);
    if (isNaN(f.getTime()) || isNaN(end.getTime())) return;
    api.get<unknown>(`/projects/${p.id}/metrics` + api.qs({ from: f.toISOString(), to: end.toISOString() })).then(
      (r) => {
        const list = arr<SpecialistMetrics>(r, "specialists");
        setRows(list.length ? list : arr<SpecialistMetrics>(r, "metrics"));
      },
      (e) => setErr(e.message),
    );
  }, [p.id, from, to]);
  return (
    <section class="card wide-card">
      <div class="card-head">
        <h2>{t("app.projects.metrics.title")}</h2>
        <label class="date-field">
          <span>{t("app.projects.metrics.from")}</span>
          <input class="input" type="date" value={from} max={to} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="date-field">
          <span>{t("app.projects.metrics.to")}</span>
          <input class="input" type="date" value={to} min={from} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {rows === null ? (
        <Spinner />
      ) : !rows.length ? (
        <p class="muted">{t("app.projects.metrics.empty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="table metrics">
            <thead>
              <tr>
                <th class="name-col">{t("app.projects.metrics.specialist")}</th>
                <th>{t("app.projects.metrics.conversations")}</th>
                <th>{t("app.projects.metrics.firstResponse")}</th>
                <th>{t("app.projects.metrics.handling")}</th>
                <th>{t("app.projects.metrics.ratings")}</th>
                <th>{t("app.projects.metrics.average")}</th>
                <th class="act-col" />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.user_id} data-user={r.user_id}>
                  <td class="name-col">
                    <span class="cell-user">
                      <Avatar id={r.user_id} name={r.name} size={26} />
                      <span class="ellipsis">{r.name}</span>
                    </span>
                  </td>
                  <td class="num" data-label={t("app.projects.metrics.conversations")}>
                    {r.conversations}
                  </td>
                  <td class="num" data-label={t("app.projects.metrics.firstResponse")}>
                    {duration(r.median_first_response_ms)}
                  </td>
                  <td class="num" data-label={t("app.projects.metrics.handling")}>
                    {duration(r.median_handling_ms)}
                  </td>
                  <td class="num" data-label={t("app.projects.metrics.ratings")}>
                    {r.ratings}
                  </td>
                  <td class="num" data-label={t("app.projects.metrics.average")}>
                    {r.ratings ? <Stars n={r.average_rating} /> : "—"}
                  </td>
                  <td class="act-col">
                    <a class="btn small" href={`${base(p.id)}/metrics/${r.user_id}`} onClick={onLink}>
                      {t("app.projects.metrics.detail")}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Stars(props: { n: number }) {
  const v = Math.round(props.n * 10) / 10;
  return (
    <span class="stars" title={t("app.projects.metrics.stars", { n: v })} aria-label={t("app.projects.metrics.stars", { n: v })}>
      <span aria-hidden="true">★</span> {num(v, locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 })}
    </span>
  );
}

function MetricsDetail(props: { p: Project; userId: number }) {
  const p = props.p;
  const [list, setList] = useState<Dialog[] | null>(null);
  const [name, setName] = useState("");
  const [err, setErr] = useState("");
  useEffect(() => {
    api.get<unknown>(`/projects/${p.id}/metrics/${props.userId}/dialogs`).then(
      (r) => setList(arr<Dialog>(r, "dialogs")),
      (e) => setErr(e.message),
    );
    api.get<{ name: string }>(`/users/${props.userId}`).then((u) => setName(u.name), () => {});
  }, [p.id, props.userId]);
  return (
    <section class="card wide-card">
      <div class="card-head">
        <h2>{name ? t("app.projects.metrics.of", { name }) : t("app.projects.metrics.ofSpecialist")}</h2>
        <a class="btn small" href={`${base(p.id)}/metrics`} onClick={onLink}>
          {t("app.projects.metrics.back")}
        </a>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">{t("app.projects.metrics.none")}</p>
      ) : (
        <ul class="record-list">
          {list.map((d) => (
            <li key={d.conversation.id}>
              <a class="record" href={`/d/${d.conversation.id}`} onClick={onLink} data-dialog={d.conversation.id}>
                <Avatar id={(d.contact?.id || 0) * 31 + 7} name={live.contactName(d)} size={32} />
                <span class="record-main">
                  <strong class="ellipsis">{live.contactName(d)}</strong>
                  <span class="muted ellipsis">
                    {d.contact?.email ? d.contact.email + " · " : ""}
                    {fullTime(d.conversation.created_at)}
                  </span>
                </span>
                <span class="record-end">
                  {d.rating ? <Stars n={d.rating.score} /> : null}
                  <span class={"pill " + (d.support.status === "open" ? "on" : "off")}>{d.support.status === "open" ? t("app.projects.metrics.open") : t("app.projects.metrics.closed")}</span>
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
