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
import * as api from "../api";
import { ApiError } from "../api";
import * as live from "../livechat";
import { navigate, onLink } from "../router";
import * as store from "../store";
import { CHANNELS } from "../inbox";
import type { AttachmentLimits, CaseField, CaseTemplate, Dialog, Distribution, Group, Policy, Project, Specialist, SpecialistMetrics } from "../types";
import { ChannelIcon } from "../ui/channels";
import { Avatar, Modal, Spinner, Toggle } from "../ui/common";
import { FieldRow } from "../ui/fields";
import { PickList } from "../ui/PickList";
import { lazy } from "../ui/lazy";
import { UserPicker } from "../ui/People";
import { copyText, fullTime } from "../util";

const ChannelsSection = lazy(() => import("./Channels").then((m) => m.ChannelsSection));

const SECTIONS: [string, string][] = [
  ["general", "General"],
  ["channels", "Channels"],
  ["messages", "Messages and shortcuts"],
  ["specialists", "Associate specialists"],
  ["cases", "Chat cases"],
  ["inbox", "Inbox limits"],
  ["distribution", "Distribution"],
  ["embed", "Embed"],
  ["metrics", "Metrics"],
];

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

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
        <h2>Chat projects</h2>
        <button class="btn primary" onClick={() => setCreating(true)}>
          Create project
        </button>
      </div>
      <p class="muted">A project is one support line: the chat on a website, its consultants and its settings.</p>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">No projects yet. Create one to put the chat on a website.</p>
      ) : (
        <ul class="group-list project-list">
          {list.map((p) => (
            <li key={p.id}>
              <a class="group-row" href={base(p.id)} onClick={onLink}>
                <strong class="ellipsis">{p.name}</strong>
                <span class={"pill " + (p.chat_enabled ? "on" : "off")}>{p.chat_enabled ? "Chat on" : "Chat off"}</span>
                <span class="muted ellipsis">{(p.origins || []).join(", ") || "no websites allowed yet"}</span>
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
    <Modal title="Create a chat project" onClose={props.onClose}>
      <form onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input class="input" name="name" required maxLength={100} value={name} data-autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Allowed websites, one per line (e.g. https://shop.example, or * for any)</span>
          <textarea class="input" name="origins" rows={3} value={origins} onInput={(e) => setOrigins((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" disabled={busy || !name.trim()}>
            Create
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
          All projects
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
          ‹ All projects
        </a>
        <h2 class="ellipsis">{p.name}</h2>
        <span class={"pill " + (p.chat_enabled ? "on" : "off")}>{p.chat_enabled ? "Chat on" : "Chat off"}</span>
        <span class="grow" />
        <a class="btn small" href={`/queue/${p.id}`} onClick={onLink} title="Waiting dialogs and the managers' load">
          Queue
        </a>
      </div>
      <nav class="subtabs" aria-label="Project settings">
        {SECTIONS.map(([k, l]) => (
          <a
            key={k}
            href={k === "general" ? base(p.id) : `${base(p.id)}/${k}`}
            class={sec === k ? "on" : ""}
            aria-current={sec === k ? "page" : undefined}
            onClick={onLink}
          >
            {l}
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
        <span class="form-error">Not saved: {state.err}</span>
      ) : state.ok ? (
        <span class="ok-text">Saved</span>
      ) : state.busy ? (
        <Spinner label="Saving" />
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
          <span>Name</span>
          <input class="input" name="name" required maxLength={100} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Allowed websites (origins), one per line: https://shop.example, or * for any</span>
          <textarea class="input" name="origins" rows={3} value={origins} onInput={(e) => setOrigins((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        <Toggle label="Chat enabled" hint="Visitors of the allowed websites see the chat button." checked={enabled} onChange={setEnabled} />
        <fieldset>
          <legend>Working hours</legend>
          <label class="field">
            <span>Time zone</span>
            <input class="input" name="time_zone" list="tz-list" value={tz} onInput={(e) => setTz((e.currentTarget as HTMLInputElement).value)} />
            <datalist id="tz-list">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
          {!days.length ? <p class="muted">No working hours: the chat is always open.</p> : null}
          <ul class="hours">
            {days.map((d, i) => (
              <li key={i}>
                <select class="input" aria-label="Day" value={String(d.weekday)} onChange={(e) => setDay(i, { weekday: Number((e.currentTarget as HTMLSelectElement).value) })}>
                  {[1, 2, 3, 4, 5, 6, 0].map((w) => (
                    <option key={w} value={String(w)}>
                      {WEEKDAYS[w]}
                    </option>
                  ))}
                </select>
                <input class="input" type="time" aria-label="From" value={d.from} onInput={(e) => setDay(i, { from: (e.currentTarget as HTMLInputElement).value })} />
                <span class="muted">to</span>
                <input class="input" type="time" aria-label="To" value={d.to} onInput={(e) => setDay(i, { to: (e.currentTarget as HTMLInputElement).value })} />
                <button type="button" class="icon-btn small" aria-label={`Remove ${WEEKDAYS[d.weekday]}`} onClick={() => setDays(days.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <div class="row-start">
            <button type="button" class="btn small" onClick={() => setDays([...days, { weekday: 1, from: "09:00", to: "18:00" }])}>
              Add a period
            </button>
            <button
              type="button"
              class="btn small"
              onClick={() => setDays([1, 2, 3, 4, 5].map((w) => ({ weekday: w, from: "09:00", to: "18:00" })))}
            >
              Monday to Friday, 9:00–18:00
            </button>
            {days.length ? (
              <button type="button" class="btn small" onClick={() => setDays([])}>
                Always open
              </button>
            ) : null}
          </div>
        </fieldset>
        <div class="row-end">
          {status}
          <button class="btn primary">Save</button>
        </div>
      </form>
      <hr class="sep" />
      <div class="row-end">
        <span class="muted grow">Deleting the project removes its chat from the websites.</span>
        <button class="btn danger" onClick={() => setDeleting(true)}>
          Delete project
        </button>
      </div>
      {deleting ? (
        <Modal
          title="Delete the project?"
          onClose={() => setDeleting(false)}
          footer={
            <>
              <button class="btn" onClick={() => setDeleting(false)}>
                Cancel
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
                Delete
              </button>
            </>
          }
        >
          <p>
            <strong>{p.name}</strong> and its settings will be removed. Its chat disappears from the websites.
          </p>
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
        {area("Greeting", "shown when the visitor opens the chat", greeting, setGreeting, "greeting")}
        {area("Offline message", "when nobody can answer; the message becomes a case", offline, setOffline, "offline")}
        {area("Waiting message", "while the visitor waits for a consultant", waiting, setWaiting, "waiting")}
        <fieldset>
          <legend>Shortcuts</legend>
          <p class="muted small">Consultants type “/” and the name in a dialog to insert the text.</p>
          <ul class="kv-list">
            {shortcuts.map((s, i) => (
              <li key={i}>
                <input
                  class="input sc-name"
                  aria-label="Shortcut name"
                  placeholder="name"
                  value={s.name}
                  onInput={(e) => setShortcuts(shortcuts.map((x, j) => (j === i ? { ...x, name: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <textarea
                  class="input"
                  rows={1}
                  aria-label="Shortcut text"
                  placeholder="The text inserted"
                  value={s.text}
                  onInput={(e) => setShortcuts(shortcuts.map((x, j) => (j === i ? { ...x, text: (e.currentTarget as HTMLTextAreaElement).value } : x)))}
                />
                <button type="button" class="icon-btn small" aria-label={`Remove the shortcut ${s.name}`} onClick={() => setShortcuts(shortcuts.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setShortcuts([...shortcuts, { name: "", text: "" }])}>
            Add a shortcut
          </button>
        </fieldset>
        <fieldset>
          <legend>Pre-chat questions</legend>
          <p class="muted small">Asked before the first message. “name” and “email” fill the contact; others become its attributes.</p>
          <ul class="kv-list">
            {fields.map((f, i) => (
              <li key={i}>
                <input
                  class="input sc-name"
                  aria-label="Field name"
                  placeholder="name"
                  value={f.name}
                  onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, name: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <input
                  class="input"
                  aria-label="Question"
                  placeholder="Label shown to the visitor"
                  value={f.label}
                  onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, label: (e.currentTarget as HTMLInputElement).value } : x)))}
                />
                <label class="inline-check">
                  <input
                    type="checkbox"
                    checked={f.required}
                    onChange={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, required: (e.currentTarget as HTMLInputElement).checked } : x)))}
                  />
                  required
                </label>
                <button type="button" class="icon-btn small" aria-label={`Remove the question ${f.name}`} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setFields([...fields, { name: "", label: "", required: false }])}>
            Add a question
          </button>
        </fieldset>
        <div class="row-end">
          {status}
          <button class="btn primary">Save</button>
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
      <legend>Level</legend>
      <label class="toggle">
        <input type="radio" name="level" checked={level === 1} onChange={() => setLevel(1)} />
        <span class="toggle-text">
          Level 1<small>Serves the conversations visitors start.</small>
        </span>
      </label>
      <label class="toggle">
        <input type="radio" name="level" checked={level === 2} onChange={() => setLevel(2)} />
        <span class="toggle-text">
          Level 2<small>Only serves conversations another specialist transfers.</small>
        </span>
      </label>
    </fieldset>
  );
  const all = list || [];
  const allOn = all.length > 0 && sel.length === all.length;
  return (
    <section class="card">
      <div class="card-head">
        <h2>Specialists</h2>
        <button class="btn" onClick={() => (setLevel(1), setAdding("users"))}>
          Add users
        </button>
        <button class="btn" onClick={() => (setLevel(1), setGroupId(groups[0]?.id || 0), setAdding("group"))} disabled={!groups.length}>
          Add a group
        </button>
        <button class="btn danger" disabled={!sel.length} onClick={erase}>
          Erase{sel.length ? ` (${sel.length})` : ""}
        </button>
      </div>
      <p class="muted small">A group associates all its members, now and later. Someone associated twice serves at the lower level.</p>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">No specialists yet: nobody answers this project's visitors.</p>
      ) : (
        <div class="table-wrap">
          <table class="table specialists">
            <thead>
              <tr>
                <th class="check-col">
                  <input type="checkbox" aria-label="Select all" checked={allOn} onChange={() => setSel(allOn ? [] : all.map((s) => s.id))} />
                </th>
                <th>Name</th>
                <th>Kind</th>
                <th>Level</th>
              </tr>
            </thead>
            <tbody>
              {all.map((s) => (
                <tr key={s.id} class={sel.includes(s.id) ? "picked" : ""}>
                  <td class="check-col">
                    <input
                      type="checkbox"
                      aria-label={`Select ${s.name}`}
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
                  <td>{s.group_id ? "Group" : "User"}</td>
                  <td>
                    <span class={"pill level" + s.level}>Level {s.level}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {adding === "users" ? (
        <UserPicker
          title="Add specialists"
          confirm="Add"
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
          title="Add a group of specialists"
          onClose={() => setAdding("")}
          footer={
            <>
              <button class="btn" onClick={() => setAdding("")}>
                Cancel
              </button>
              <button
                class="btn primary"
                disabled={!groupId}
                onClick={async () => {
                  await add([{ group_id: groupId, level }]);
                  setAdding("");
                }}
              >
                Add
              </button>
            </>
          }
        >
          <label class="field">
            <span>Group</span>
            <select class="input" name="group_id" value={String(groupId)} onChange={(e) => setGroupId(Number((e.currentTarget as HTMLSelectElement).value))}>
              {groups.map((g) => (
                <option key={g.id} value={String(g.id)}>
                  {g.name} ({g.member_ids?.length || 0} members)
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

const mandatory = (t: CaseTemplate) => (t.fields || []).some((f) => f.required && !f.default);

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
        <h2>Cases created from chat</h2>
        <p class="muted small">
          A case is made when a visitor writes while nobody can answer, and when a consultant converts a dialog. Only a template without mandatory fields (a
          required field with no default) can be used: chat cannot fill them.
        </p>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            save({ case_template_id: choice });
          }}
        >
          <label class="field">
            <span>Case template</span>
            <select
              class={"input" + (state.field === "case_template_id" ? " invalid" : "")}
              name="case_template_id"
              value={String(choice)}
              aria-invalid={state.field === "case_template_id" || undefined}
              onChange={(e) => setChoice(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              <option value="0">Built-in (no fields)</option>
              {(templates || []).map((t) => (
                <option key={t.id} value={String(t.id)}>
                  {t.name}
                  {mandatory(t) ? " — has mandatory fields" : ""}
                </option>
              ))}
            </select>
          </label>
          <button class="btn primary">Save</button>
        </form>
        {status}
      </section>
      <section class="card">
        <div class="card-head">
          <h2>Case templates</h2>
          <button class="btn" onClick={() => setEdit("new")}>
            New template
          </button>
        </div>
        {err ? <p class="form-error">{err}</p> : null}
        {templates === null ? (
          <Spinner />
        ) : !templates.length ? (
          <p class="muted">No templates yet: cases get the built-in one, with no fields.</p>
        ) : (
          <ul class="group-list">
            {templates.map((t) => (
              <li key={t.id}>
                <button class="group-row" onClick={() => setEdit(t)}>
                  <strong class="ellipsis">{t.name}</strong>
                  {mandatory(t) ? <span class="pill warn">mandatory fields</span> : null}
                  <span class="muted ellipsis">
                    {(t.fields || []).map((f) => f.label || f.name).join(", ") || "no fields"}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {edit ? (
        <TemplateEditor
          t={edit === "new" ? null : edit}
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

function TemplateEditor(props: { t: CaseTemplate | null; onClose: () => void; onSaved: () => void }) {
  const t = props.t;
  const [name, setName] = useState(t?.name || "");
  const [fields, setFields] = useState<CaseField[]>(t?.fields || []);
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
      if (t) await api.patch(`/case-templates/${t.id}`, body);
      else await api.post("/case-templates", body);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  const remove = async () => {
    try {
      await api.del(`/case-templates/${t!.id}`);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  return (
    <Modal title={t ? "Edit the case template" : "New case template"} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input class="input" name="name" required maxLength={100} value={name} data-autofocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <fieldset>
          <legend>Fields</legend>
          <ul class="kv-list fields">
            {fields.map((f, i) => (
              <li key={i}>
                <input class="input sc-name" aria-label="Field name" placeholder="name" value={f.name} onInput={(e) => setField(i, { name: (e.currentTarget as HTMLInputElement).value })} />
                <input class="input" aria-label="Field label" placeholder="Label" value={f.label} onInput={(e) => setField(i, { label: (e.currentTarget as HTMLInputElement).value })} />
                <input
                  class="input"
                  aria-label="Default value"
                  placeholder="Default"
                  value={f.default || ""}
                  onInput={(e) => setField(i, { default: (e.currentTarget as HTMLInputElement).value })}
                />
                <label class="inline-check">
                  <input type="checkbox" checked={f.required} onChange={(e) => setField(i, { required: (e.currentTarget as HTMLInputElement).checked })} />
                  required
                </label>
                <button type="button" class="icon-btn small" aria-label={`Remove the field ${f.name}`} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="btn small" onClick={() => setFields([...fields, { name: "", label: "", required: false, default: "" }])}>
            Add a field
          </button>
        </fieldset>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          {t ? (
            <button type="button" class="btn danger" onClick={remove}>
              Delete template
            </button>
          ) : null}
          <span class="grow" />
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary">Save</button>
        </div>
      </form>
    </Modal>
  );
}

// ---- embed -------------------------------------------------------------------------

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
        <h2>Put the chat on your website</h2>
        <p class="muted small">Paste this line before &lt;/body&gt; on every page of the allowed websites. It loads without blocking the page.</p>
        <pre class="code" aria-label="Embed snippet">
          <code>{snippet}</code>
        </pre>
        <div class="row-end">
          {copied === "snippet" ? <span class="ok-text">Copied</span> : null}
          <button class="btn primary" onClick={() => copy("snippet", snippet)}>
            Copy
          </button>
        </div>
        <p class="muted small">
          Allowed websites: {(p.origins || []).length ? (p.origins || []).join(", ") : <strong>none yet — add them under General</strong>}.
        </p>
      </section>
      <section class="card">
        <h2>Verified visitors</h2>
        <p class="muted small">
          A site that knows its user passes its id signed with this secret, so every device of that user is the same contact:{" "}
          <code>Parley.identify({"{"} user_id: "42", user_hash: hex(HMAC-SHA256(secret, "42")) {"}"})</code>. Compute the hash on your server; never put the secret
          in a page.
        </p>
        <div class="secret-row">
          <code class="secret" aria-label="Secret">
            {p.secret ? (show ? p.secret : "•".repeat(Math.min(32, p.secret.length))) : "—"}
          </code>
          <button class="btn small" onClick={() => setShow(!show)} disabled={!p.secret}>
            {show ? "Hide" : "Show"}
          </button>
          <button class="btn small" onClick={() => copy("secret", p.secret || "")} disabled={!p.secret}>
            {copied === "secret" ? "Copied" : "Copy"}
          </button>
          <button class="btn small danger" onClick={() => setRotating(true)}>
            Rotate
          </button>
        </div>
      </section>
      {rotating ? (
        <Modal
          title="Rotate the secret?"
          onClose={() => setRotating(false)}
          footer={
            <>
              <button class="btn" onClick={() => setRotating(false)}>
                Cancel
              </button>
              <button class="btn danger" onClick={rotate}>
                Rotate
              </button>
            </>
          }
        >
          <p>A new secret is made at once. Visitors signed with the old one are refused until your website uses the new one.</p>
        </Modal>
      ) : null}
    </>
  );
}

// ---- metrics ---------------------------------------------------------------------------

const KINDS: [keyof AttachmentLimits, string][] = [
  ["image", "Images"],
  ["audio", "Audio"],
  ["video", "Video"],
  ["other", "Other files"],
];
const MB = 1 << 20;

/** A limit field's text: minutes or megabytes, "" for none. */
const num = (v: number | undefined, unit: number) => (v ? String(Math.round((v / unit) * 10) / 10) : "");

/**
 * Seed 003's time limits (a warning, then the time to process, counted from
 * the customer's first unanswered message) and the widget's attachment
 * limits per kind of file. Messenger channels start from the seed's table.
 */
function InboxLimitsSection(props: { p: Project; onSaved: (p: Project) => void }) {
  const p = props.p;
  const rl = p.reply_limits || { warn_s: 0, limit_s: 0 };
  const [warn, setWarn] = useState(num(rl.warn_s, 60));
  const [limit, setLimit] = useState(num(rl.limit_s, 60));
  const widget = p.attachment_limits?.widget || { image: 0, audio: 0, video: 0, other: 0 };
  const [sizes, setSizes] = useState<Record<string, string>>(Object.fromEntries(KINDS.map(([k]) => [k, num(widget[k], MB)])));
  const times = useSave(p, props.onSaved);
  const files = useSave(p, props.onSaved);
  const minutes = (v: string) => Math.round(Number(v || "0") * 60);
  const bytes = (v: string) => Math.round(Number(v || "0") * MB);
  const bad = (v: string) => v.trim() !== "" && !(Number(v) >= 0);
  return (
    <>
      <section class="card">
        <h2>Reply time limits</h2>
        <p class="muted small">
          Counted from the customer's first unanswered message. The inbox turns a dialog yellow after the warning and red after the limit, and offers the
          processing order (most overdue first). Leave the limit empty for none.
        </p>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (bad(warn) || bad(limit)) return;
            times.save({ reply_limits: { ...rl, warn_s: minutes(warn), limit_s: minutes(limit) } });
          }}
        >
          <label class="field">
            <span>Warning after (minutes)</span>
            <input class={"input" + (bad(warn) ? " invalid" : "")} inputMode="decimal" name="warn" value={warn} onInput={(e) => setWarn(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Time to process (minutes)</span>
            <input class={"input" + (bad(limit) ? " invalid" : "")} inputMode="decimal" name="limit" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
          </label>
          <button class="btn primary">Save</button>
        </form>
        {times.status}
      </section>
      <section class="card">
        <h2>Widget attachment limits</h2>
        <p class="muted small">
          The largest file a visitor or a manager can send through the website widget, by kind, in MB. Empty means the server's own limit. Files over the
          limit are refused before they are uploaded. Messenger channels start from their services' own limits.
        </p>
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
              <span>{label} (MB)</span>
              <input
                class={"input" + (bad(sizes[k]) ? " invalid" : "")}
                inputMode="decimal"
                name={"limit-" + k}
                value={sizes[k]}
                onInput={(e) => setSizes({ ...sizes, [k]: e.currentTarget.value })}
              />
            </label>
          ))}
          <button class="btn primary">Save</button>
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
      <h2>Data retention</h2>
      <p class="muted small">
        Dialogs closed longer ago than this are deleted for good, with their messages and files, by a background job (hourly). Open dialogs are never deleted.
        Leave it empty to keep dialogs forever. Each run is recorded in the audit log.
      </p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) keep.save({ retention_days: Number(days.trim() || "0") });
        }}
      >
        <label class="field">
          <span>Delete closed dialogs after (days)</span>
          <input class={"input" + (bad ? " invalid" : "")} inputMode="numeric" name="retention_days" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <button class="btn primary">Save</button>
      </form>
      {keep.status}
    </section>
  );
}

// ---- distribution ------------------------------------------------------------------

const POLICY_CHOICES: [Policy, string, string][] = [
  ["off", "Off", "Managers take dialogs themselves: the first to connect is in charge."],
  ["round_robin", "Round robin", "Each new dialog goes to the free manager who has waited longest since their last one."],
  ["fewest_open", "Fewest open", "Each new dialog goes to the free manager with the fewest open dialogs (ties: longest since their last one)."],
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
  const nameOf = (id: number) => people?.find((x) => x.id === id)?.name || `User ${id}`;
  const rl = p.reply_limits;
  const hasLimits = !!rl && (rl.limit_s > 0 || Object.values(rl.channels || {}).some((c) => c.limit_s > 0));
  /** The error about a field: the browser's own check first, then the server's. */
  const err = (f: string) => local[f] || (state.field === "distribution." + f ? state.err : "");
  const submit = (e: Event) => {
    e.preventDefault();
    const bad: Record<string, string> = {};
    const num = (f: string, v: string) => {
      const n = whole(v);
      if (Number.isNaN(n)) bad[f] = "Enter a whole number, or leave it empty for no limit.";
      return n;
    };
    const out: Distribution = {
      policy,
      capacity: num("capacity", capacity),
      project_capacity: num("project_capacity", projectCap),
      burst: num("burst", burst),
      managers: managers.map((m) => {
        const n = whole(m.capacity);
        if (Number.isNaN(n) || m.capacity.trim() === "") bad.managers = "Give each manager a capacity (a whole number).";
        return { user_id: m.user_id, capacity: n };
      }),
      channels: Object.fromEntries(rules.map((r) => [r.kind, r.ids])),
      reassign_overdue: reassign,
    };
    if (rules.some((r) => !r.ids.length)) bad.channels = "Choose at least one manager for each channel rule, or remove the rule.";
    setLocal(bad);
    if (Object.keys(bad).length) return;
    save({ distribution: out });
  };
  const freeUsers = (except?: number) => (people || []).filter((x) => x.id === except || !managers.some((m) => m.user_id === x.id));
  const freeKinds = (except?: string) => Object.keys(CHANNELS).filter((k) => k === except || !rules.some((r) => r.kind === k));
  const limitField = (f: string, label: string, v: string, set: (s: string) => void, help: string) => (
    <FieldRow id={"dist-" + f} label={label} help={help} error={err(f)}>
      {(a) => (
        <input
          {...a}
          class={"input" + (err(f) ? " invalid" : "")}
          name={f}
          inputMode="numeric"
          placeholder="No limit"
          value={v}
          onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </FieldRow>
  );
  return (
    <section class="card dist">
      <h2>Auto-distribution of dialogs</h2>
      <p class="muted small">
        The distribution gives each waiting dialog to a free manager of its level: online, <em>Available</em>, and under their capacity. Dialogs nobody can
        take wait in the <a href={`/queue/${p.id}`} onClick={onLink}>queue</a>, oldest (or most overdue) first, and go out as soon as a place frees.
      </p>
      <form onSubmit={submit} aria-label="Distribution settings" noValidate>
        <fieldset class="level-pick dist-policy">
          <legend>Policy</legend>
          {POLICY_CHOICES.map(([v, label, hint]) => (
            <label class="toggle" key={v}>
              <input type="radio" name="policy" value={v} checked={policy === v} onChange={() => setPolicy(v)} />
              <span class="toggle-text">
                {label}
                <small>{hint}</small>
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
          {limitField("capacity", "Capacity per manager", capacity, setCapacity, "Open dialogs a manager may have in charge, in every project. Empty: no limit.")}
          {limitField("project_capacity", "Project capacity", projectCap, setProjectCap, "Open dialogs of this project with a manager in charge. Empty: no limit.")}
          {limitField("burst", "Burst limit", burst, setBurst, "Dialogs a manager gets from the distribution in a minute. Empty: no limit.")}
        </div>
        <fieldset class={"dist-managers" + (err("managers") ? " has-error" : "")}>
          <legend>Capacity per person</legend>
          <p class="muted small">Overrides the capacity above for some managers (at least 1).</p>
          {peopleErr ? <p class="form-error">{peopleErr}</p> : null}
          {managers.length ? (
            <ul class="kv-list">
              {managers.map((m, i) => (
                <li key={i}>
                  <select
                    class="input"
                    aria-label="Manager"
                    value={String(m.user_id)}
                    onChange={(e) => setManagers(managers.map((x, j) => (j === i ? { ...x, user_id: Number((e.currentTarget as HTMLSelectElement).value) } : x)))}
                  >
                    {people && !people.some((x) => x.id === m.user_id) ? <option value={String(m.user_id)}>{nameOf(m.user_id)} (not a specialist)</option> : null}
                    {freeUsers(m.user_id).map((x) => (
                      <option key={x.id} value={String(x.id)}>
                        {x.name}
                      </option>
                    ))}
                  </select>
                  <input
                    class="input dist-cap"
                    inputMode="numeric"
                    aria-label={`Capacity of ${nameOf(m.user_id)}`}
                    value={m.capacity}
                    onInput={(e) => setManagers(managers.map((x, j) => (j === i ? { ...x, capacity: (e.currentTarget as HTMLInputElement).value } : x)))}
                  />
                  <button type="button" class="icon-btn small" aria-label={`Remove ${nameOf(m.user_id)}`} onClick={() => setManagers(managers.filter((_, j) => j !== i))}>
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
            Add a manager
          </button>
          {people && !people.length ? <span class="muted small"> The project has no specialists yet.</span> : null}
          {err("managers") ? (
            <p class="form-error" role="alert">
              {err("managers")}
            </p>
          ) : null}
        </fieldset>
        <fieldset class={"dist-channels" + (err("channels") ? " has-error" : "")}>
          <legend>Managers per channel</legend>
          <p class="muted small">A channel with a rule goes only to the managers chosen; the others go to every manager of the level.</p>
          {rules.length ? (
            <ul class="dist-rules">
              {rules.map((r, i) => (
                <li key={r.kind} class="dist-rule">
                  <div class="dist-rule-head">
                    <ChannelIcon channel={r.kind} size={14} />
                    <select
                      class="input small"
                      aria-label="Channel"
                      value={r.kind}
                      onChange={(e) => setRules(rules.map((x, j) => (j === i ? { ...x, kind: (e.currentTarget as HTMLSelectElement).value } : x)))}
                    >
                      {freeKinds(r.kind).map((k) => (
                        <option key={k} value={k}>
                          {CHANNELS[k]}
                        </option>
                      ))}
                    </select>
                    <span class="grow" />
                    <button type="button" class="icon-btn small" aria-label={`Remove the rule for ${CHANNELS[r.kind] || r.kind}`} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                      ×
                    </button>
                  </div>
                  <PickList
                    label={`Managers of ${CHANNELS[r.kind] || r.kind}`}
                    options={(people || []).map((x) => ({ value: x.id, label: x.name, hint: `level ${x.level}`, icon: <Avatar id={x.id} name={x.name} size={22} /> }))}
                    selected={r.ids}
                    onChange={(ids) => setRules(rules.map((x, j) => (j === i ? { ...x, ids } : x)))}
                    search={8}
                    empty="The project has no specialists yet"
                  />
                </li>
              ))}
            </ul>
          ) : null}
          <button type="button" class="btn small" disabled={!freeKinds().length} onClick={() => setRules([...rules, { kind: freeKinds()[0], ids: [] }])}>
            Add a channel rule
          </button>
          {err("channels") ? (
            <p class="form-error" role="alert">
              {err("channels")}
            </p>
          ) : null}
        </fieldset>
        <Toggle
          label="Reassign overdue dialogs"
          hint={
            "When the manager in charge has not answered within the reply time limit, the dialog goes to another free manager (never back to one who missed it); the customer's clock keeps running." +
            (hasLimits ? "" : " Needs reply time limits: set them under Inbox limits.")
          }
          checked={reassign}
          onChange={setReassign}
        />
        <div class="row-end">
          {status}
          <button class="btn primary">Save</button>
        </div>
      </form>
    </section>
  );
}

function duration(ms: number | null | undefined): string {
  if (!ms || ms < 0) return "—";
  if (ms < 1000) return "< 1 s";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60 ? (s % 60) + " s" : ""}`.trim();
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60 ? (m % 60) + " min" : ""}`.trim();
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
    const t = new Date(to + "T00:00:00");
    t.setDate(t.getDate() + 1);
    if (isNaN(f.getTime()) || isNaN(t.getTime())) return;
    api.get<unknown>(`/projects/${p.id}/metrics` + api.qs({ from: f.toISOString(), to: t.toISOString() })).then(
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
        <h2>Specialists' metrics</h2>
        <label class="date-field">
          <span>From</span>
          <input class="input" type="date" value={from} max={to} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="date-field">
          <span>To</span>
          <input class="input" type="date" value={to} min={from} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {rows === null ? (
        <Spinner />
      ) : !rows.length ? (
        <p class="muted">No conversations in this period.</p>
      ) : (
        <div class="table-wrap">
          <table class="table metrics">
            <thead>
              <tr>
                <th class="name-col">Specialist</th>
                <th>Conversations</th>
                <th>Median first response</th>
                <th>Median handling</th>
                <th>Ratings</th>
                <th>Average rating</th>
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
                  <td class="num" data-label="Conversations">
                    {r.conversations}
                  </td>
                  <td class="num" data-label="Median first response">
                    {duration(r.median_first_response_ms)}
                  </td>
                  <td class="num" data-label="Median handling">
                    {duration(r.median_handling_ms)}
                  </td>
                  <td class="num" data-label="Ratings">
                    {r.ratings}
                  </td>
                  <td class="num" data-label="Average rating">
                    {r.ratings ? <Stars n={r.average_rating} /> : "—"}
                  </td>
                  <td class="act-col">
                    <a class="btn small" href={`${base(p.id)}/metrics/${r.user_id}`} onClick={onLink}>
                      View detail
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
    <span class="stars" title={`${v} out of 5`} aria-label={`${v} out of 5`}>
      <span aria-hidden="true">★</span> {v.toFixed(1)}
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
        <h2>Conversations of {name || "the specialist"}</h2>
        <a class="btn small" href={`${base(p.id)}/metrics`} onClick={onLink}>
          Back to metrics
        </a>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">No conversations.</p>
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
                  <span class={"pill " + (d.support.status === "open" ? "on" : "off")}>{d.support.status === "open" ? "Open" : "Closed"}</span>
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
