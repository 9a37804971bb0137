// Tasks (seed 001, loaded on demand): "My tasks" — assigned to me or
// created by me, filtered by status, overdue ones in red — a task with its
// comments (each moved message links back to where it was written), the
// window that creates or edits a task ("Create a task" in the user panel),
// the "Move to task" window with its two tabs, To task and To table, and a
// customer card's history.

import { useEffect, useMemo, useState } from "preact/hooks";
import * as api from "../api";
import { convURL, navigate, onLink } from "../router";
import { use } from "../sig";
import * as store from "../store";
import * as tasks from "../tasks";
import type { Task, TaskComment, TaskStatus, TaskView } from "../tasks";
import type { Case, Dialog, Message, User } from "../types";
import { Avatar, CommentForm, Modal, Spinner } from "../ui/common";
import { Back } from "../ui/icons";
import { fullTime, messagePreview, shortWhen } from "../util";

const STATUSES: TaskStatus[] = ["open", "in_progress", "closed"];

const FILTERS: [string, string][] = [
  ["active", "Not done"],
  ["open", "Open"],
  ["in_progress", "In progress"],
  ["closed", "Done"],
  ["all", "All"],
];

function dueText(t: Task, prefix = true): string {
  if (!t.due_at) return "";
  return (tasks.overdue(t) ? "Overdue since " : prefix ? "Due " : "") + fullTime(t.due_at);
}

/** msgURL links to a message in its chat (a dialog's, for a customer's). */
function msgURL(convId: number, msgId: number): string {
  return store.convs.get(convId)?.kind === "support" ? `/d/${convId}` : convURL(convId, msgId);
}

/** useNames fills in the names of users a view shows. */
function useNames(ids: number[]) {
  const [, setN] = useState(0);
  use(store.peopleV);
  const key = [...new Set(ids)].filter((id) => id && !store.people.has(id)).join(",");
  useEffect(() => {
    if (!key) return;
    api.get<{ users: User[] }>("/users" + api.qs({ ids: key, limit: 500 })).then(
      (r) => {
        for (const u of r.users) store.people.set(u.id, { name: u.name, email: u.email, photo_file_id: u.photo_file_id });
        store.peopleV.bump();
        setN((n) => n + 1);
      },
      () => {},
    );
  }, [key]);
}

export function TasksPage(props: { id?: number; role: string; status: string }) {
  return (
    <section class="pane page tasks-page" aria-labelledby="tasks-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label="Back" onClick={() => (props.id ? navigate("/tasks") : navigate("/"))}>
          <Back />
        </button>
        <h1 id="tasks-title">{props.id ? `Task #${props.id}` : "My tasks"}</h1>
      </header>
      {props.id ? <TaskDetail key={props.id} id={props.id} /> : <TaskList role={props.role} status={props.status} />}
    </section>
  );
}

function TaskList(props: { role: string; status: string }) {
  const role = props.role === "created" ? "created" : "assigned";
  const status = FILTERS.some(([k]) => k === props.status) ? props.status : "active";
  const [list, setList] = useState<Task[] | null>(null);
  const [err, setErr] = useState("");
  const [creating, setCreating] = useState(false);
  const v = use(tasks.tasksV);
  useEffect(() => {
    let stale = false;
    const one = status !== "active" && status !== "all" ? status : undefined;
    api.get<{ tasks: Task[] }>("/tasks" + api.qs({ role, status: one, limit: 200 })).then(
      (r) => {
        if (stale) return;
        setList((r.tasks || []).filter((t) => status !== "active" || t.status !== "closed"));
        setErr("");
      },
      (e) => !stale && setErr((e as Error).message),
    );
    return () => {
      stale = true;
    };
  }, [role, status, v]);
  useNames((list || []).flatMap((t) => [t.assignee_id, t.created_by]));
  const url = (r: string, s: string) => `/tasks?role=${r}&status=${s}`;
  return (
    <>
      <nav class="tabs" aria-label="Whose tasks">
        <a href={url("assigned", status)} class={role === "assigned" ? "on" : ""} aria-current={role === "assigned" ? "page" : undefined} onClick={onLink}>
          Assigned to me
        </a>
        <a href={url("created", status)} class={role === "created" ? "on" : ""} aria-current={role === "created" ? "page" : undefined} onClick={onLink}>
          Created by me
        </a>
        <span class="grow" />
        <select class="input tab-select" aria-label="Status" value={status} onChange={(e) => navigate(url(role, (e.currentTarget as HTMLSelectElement).value))}>
          {FILTERS.map(([k, l]) => (
            <option key={k} value={k}>
              {l}
            </option>
          ))}
        </select>
        <button class="btn small primary" onClick={() => setCreating(true)}>
          New task
        </button>
      </nav>
      <div class="page-body">
        <section class="card wide-card">
          {err ? <p class="form-error">{err}</p> : null}
          {list === null ? (
            <Spinner />
          ) : !list.length ? (
            <p class="muted">
              {role === "assigned" ? "No tasks for you here." : "You have not created tasks here."} Create one with New task, from a colleague's panel
              (Create a task), or from a message (Move to task).
            </p>
          ) : (
            <ul class="record-list task-list">
              {list.map((t) => (
                <li key={t.id}>
                  <a class={"record task-row" + (tasks.overdue(t) ? " overdue" : "")} href={`/tasks/${t.id}`} onClick={onLink} data-task={t.id}>
                    <span class="case-no">#{t.id}</span>
                    <span class="record-main">
                      <strong class="ellipsis">{t.title}</strong>
                      <span class="muted ellipsis">
                        {role === "assigned" ? "From " + store.personName(t.created_by) : "For " + store.personName(t.assignee_id)}
                        {t.due_at ? " · " + dueText(t) : ""} · created {shortWhen(t.created_at)}
                      </span>
                    </span>
                    {tasks.overdue(t) ? <span class="pill bad">Overdue</span> : null}
                    <span class={"pill " + (t.status === "closed" ? "off" : t.status === "in_progress" ? "warn" : "on")}>{tasks.STATUS_LABEL[t.status]}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {creating ? (
        <TaskForm
          onClose={() => setCreating(false)}
          onDone={(t) => {
            setCreating(false);
            navigate(`/tasks/${t.id}`);
          }}
        />
      ) : null}
    </>
  );
}

function TaskDetail(props: { id: number }) {
  const [t, setT] = useState<TaskView | null>(null);
  const [err, setErr] = useState("");
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(false);
  const v = use(tasks.tasksV);
  const load = () =>
    api.get<TaskView>(`/tasks/${props.id}`).then(
      (r) => {
        setT({ ...r, comments: r.comments || [] });
        setErr("");
      },
      (e) => setErr((e as Error).message),
    );
  useEffect(() => {
    if (v && tasks.lastTask && tasks.lastTask.id !== props.id) return;
    load();
  }, [props.id, v]);
  useNames(t ? [t.assignee_id, t.created_by, t.closed_by || 0, ...t.comments.map((c) => c.author_id || 0)] : []);
  if (err)
    return (
      <div class="page-body">
        <section class="card">
          <p class="form-error">{err}</p>
          <a href="/tasks" onClick={onLink}>
            My tasks
          </a>
        </section>
      </div>
    );
  if (!t)
    return (
      <div class="page-body">
        <Spinner />
      </div>
    );
  const setStatus = async (s: TaskStatus) => {
    setBusy(true);
    try {
      const out = await api.patch<Task>(`/tasks/${t.id}`, { status: s });
      setT({ ...t, ...out });
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy(false);
    }
  };
  const comment = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      const c = await api.post<TaskComment>(`/tasks/${t.id}/comments`, { text: text.trim() });
      setT({ ...t, comments: [...t.comments.filter((x) => x.id !== c.id), c] });
      setText("");
    } catch (x) {
      store.fail(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page-body">
      <section class={"card case-card task-card" + (tasks.overdue(t) ? " overdue" : "")} data-task={t.id} data-status={t.status}>
        <div class="card-head">
          <h2 class="case-title">{t.title}</h2>
          <span class={"pill " + (t.status === "closed" ? "off" : t.status === "in_progress" ? "warn" : "on")}>{tasks.STATUS_LABEL[t.status]}</span>
        </div>
        <dl class="facts case-fields">
          <dt>Assignee</dt>
          <dd>{store.personName(t.assignee_id)}</dd>
          <dt>Created</dt>
          <dd>
            by {store.personName(t.created_by)}, {fullTime(t.created_at)}
          </dd>
          <dt>Due</dt>
          <dd class={tasks.overdue(t) ? "due overdue" : "due"}>{t.due_at ? dueText(t, false) : <span class="muted">No due date</span>}</dd>
          {t.closed_at ? (
            <>
              <dt>Done</dt>
              <dd>
                {fullTime(t.closed_at)}
                {t.closed_by ? " by " + store.personName(t.closed_by) : ""}
              </dd>
            </>
          ) : null}
        </dl>
        <div class="row-start task-actions">
          <label class="inline">
            Status{" "}
            <select class="input" aria-label="Status" value={t.status} disabled={busy} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as TaskStatus)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {tasks.STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
          <button class="btn small" onClick={() => setEditing(true)}>
            Edit
          </button>
          {t.parent_id ? (
            <a class="btn small" href={`/cases/${t.parent_id}`} onClick={onLink}>
              Case #{t.parent_id}
            </a>
          ) : null}
          {t.conversation_id ? (
            <a class="btn small" href={t.project_id ? `/d/${t.conversation_id}` : convURL(t.conversation_id)} onClick={onLink}>
              Open the chat
            </a>
          ) : null}
        </div>
        <h3 class="sub-title">Description</h3>
        <div class="case-desc">{t.description || <span class="muted">No description.</span>}</div>
      </section>
      <section class="card case-card">
        <h2>Comments</h2>
        {!t.comments.length ? <p class="muted">No comments yet. Move a message here from a chat, or write one.</p> : null}
        <ul class="comments">
          {t.comments.map((x) => (
            <li key={x.id} data-comment={x.id}>
              <Avatar id={x.author_id || 0} name={store.personName(x.author_id)} size={28} />
              <div class="comment-body">
                <div class="comment-head">
                  <strong>{store.personName(x.author_id)}</strong> <time class="muted">{fullTime(x.created_at)}</time>
                  {x.message_id && x.conversation_id ? (
                    <a class="moved-from" href={msgURL(x.conversation_id, x.message_id)} onClick={onLink}>
                      Original message
                    </a>
                  ) : null}
                </div>
                <div class="comment-text">{x.text}</div>
              </div>
            </li>
          ))}
        </ul>
        <CommentForm text={text} busy={busy} onText={setText} onSubmit={comment} />
      </section>
      {editing ? (
        <TaskForm
          task={t}
          onClose={() => setEditing(false)}
          onDone={(x) => {
            setEditing(false);
            setT({ ...t, ...x });
          }}
        />
      ) : null}
    </div>
  );
}

const pad = (n: number) => String(n).padStart(2, "0");
/** localInput is a moment as a datetime-local field's value. */
function localInput(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** UserSelect picks a colleague from the directory by name or e-mail. */
function UserSelect(props: { value: User | null; onChange: (u: User) => void; label: string }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<User[]>([]);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!open) return;
    let stale = false;
    const t = setTimeout(() => {
      api.get<{ users: User[] }>("/users" + api.qs({ q: q.trim() || undefined, limit: 20 })).then(
        (r) => !stale && setFound((r.users || []).filter((u) => u.active && !u.bot)),
        () => {},
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [q, open]);
  return (
    <div class="user-select">
      {!open ? (
        <div class="user-select-value">
          {props.value ? (
            <>
              <Avatar id={props.value.id} name={props.value.name} photo={props.value.photo_file_id} size={24} /> <span>{props.value.name}</span>
            </>
          ) : (
            <span class="muted">Nobody yet</span>
          )}
          <button type="button" class="btn small" onClick={() => setOpen(true)}>
            Change
          </button>
        </div>
      ) : (
        <>
          <input class="input" type="search" aria-label={props.label} placeholder="Search by name or e-mail" value={q} autoFocus onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
          <ul class="pick-results" role="listbox" aria-label="Colleagues">
            {found.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  class="person"
                  role="option"
                  aria-selected={props.value?.id === u.id}
                  onClick={() => {
                    props.onChange(u);
                    setOpen(false);
                  }}
                >
                  <Avatar id={u.id} name={u.name} photo={u.photo_file_id} size={24} />
                  <span class="person-main">
                    <span class="person-name">{u.name}</span>
                    <span class="person-sub">{u.email}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export interface TaskFormProps {
  /** Editing this task; otherwise a new one. */
  task?: Task;
  /** A new task's assignee (the user panel's user). */
  assignee?: User;
  /** The chat a new task is made from. */
  conversationId?: number;
  title?: string;
  onClose: () => void;
  onDone: (t: Task) => void;
}

/** TaskForm creates a task ("Create a task") or edits one. */
export function TaskForm(props: TaskFormProps) {
  const me = store.me.value!;
  const t = props.task;
  const [title, setTitle] = useState(t?.title || props.title || "");
  const [desc, setDesc] = useState(t?.description || "");
  const [due, setDue] = useState(localInput(t?.due_at));
  const [assignee, setAssignee] = useState<User | null>(props.assignee || null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const id = t ? t.assignee_id : props.assignee ? 0 : me.id;
    if (!id) return;
    if (id === me.id) return setAssignee(me);
    api.get<User>(`/users/${id}`).then(setAssignee, () => {});
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!assignee) return setErr("Choose who the task is for.");
    setBusy(true);
    setErr("");
    const body: Record<string, unknown> = { title, description: desc, assignee_id: assignee.id };
    if (due) body.due_at = new Date(due).toISOString();
    else if (t?.due_at) body.no_due = true;
    try {
      let out: Task;
      if (t) {
        if (t.due_at && due === localInput(t.due_at)) delete body.due_at;
        out = await api.patch<Task>(`/tasks/${t.id}`, body);
      } else {
        if (props.conversationId) body.conversation_id = props.conversationId;
        out = await api.post<Task>("/tasks", body);
        store.toast(`Task #${out.id} created for ${assignee.id === me.id ? "you" : assignee.name}.`);
      }
      props.onDone(out);
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t ? `Edit task #${t.id}` : props.assignee ? `New task for ${props.assignee.name}` : "New task"}
      onClose={props.onClose}
      class="task-form"
      footer={
        <>
          <button class="btn" type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" type="submit" form="task-form" disabled={busy || !title.trim()}>
            {t ? "Save" : "Create task"}
          </button>
        </>
      }
    >
      <form id="task-form" onSubmit={submit}>
        <label class="field">
          <span>Title</span>
          <input class="input" required maxLength={200} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </label>
        <label class="field">
          <span>Description</span>
          <textarea class="input" rows={4} maxLength={10000} value={desc} onInput={(e) => setDesc((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        <div class="field">
          <span>Assignee</span>
          <UserSelect label="Assignee" value={assignee} onChange={setAssignee} />
        </div>
        <label class="field">
          <span>Due</span>
          <input class="input" type="datetime-local" value={due} onInput={(e) => setDue((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}

interface Record_ {
  key: string;
  target: "case" | "contact";
  id: number;
  title: string;
  sub: string;
}

/**
 * MoveDialog is "Move to task" (seed 001): To task puts the message into a
 * task the user can open, or a new one; To table into the history of a
 * record they can see: a customer's card or a case. The message stays in
 * the chat, marked with the link.
 */
export function MoveDialog(props: { message: Message; onClose: () => void }) {
  const m = props.message;
  const conv = store.convs.get(m.conversation_id);
  const [tab, setTab] = useState<"task" | "table">("task");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  // To task.
  const [mode, setMode] = useState<"existing" | "new">("existing");
  const [mine, setMine] = useState<Task[] | null>(null);
  const [pick, setPick] = useState(0);
  const [filter, setFilter] = useState("");
  const [title, setTitle] = useState(() => messagePreview(m).slice(0, 120));
  const [assignee, setAssignee] = useState<User | null>(store.me.value as User);
  // To table.
  const [records, setRecords] = useState<Record_[] | null>(null);
  const [rec, setRec] = useState("");
  useEffect(() => {
    api.get<{ tasks: Task[] }>("/tasks" + api.qs({ limit: 200 })).then(
      (r) => {
        const open = (r.tasks || []).filter((t) => t.status !== "closed");
        setMine(open);
        if (!open.length) setMode("new");
      },
      (e) => setErr((e as Error).message),
    );
  }, []);
  useEffect(() => {
    if (tab !== "table" || records) return;
    (async () => {
      const out: Record_[] = [];
      const seen = new Set<number>();
      const customer = (d: Dialog) => {
        const k = d.contact;
        if (!k || seen.has(k.id)) return;
        seen.add(k.id);
        out.push({ key: "contact-" + k.id, target: "contact", id: k.id, title: k.name || k.email || `Customer #${k.id}`, sub: "Customer card" + (k.email ? " · " + k.email : "") });
      };
      // The customer of the dialog the message is in comes first.
      if (conv?.kind === "support") await api.get<Dialog>(`/dialogs/${conv.id}`).then(customer, () => {});
      await api.get<{ dialogs: Dialog[] }>("/dialogs" + api.qs({ limit: 100 })).then((r) => (r.dialogs || []).forEach(customer), () => {});
      await api.get<{ cases: Case[] }>("/cases" + api.qs({ status: "open", limit: 100 })).then(
        (r) => {
          for (const c of r.cases || []) {
            if ((c as unknown as Task).kind === "task") continue;
            out.push({ key: "case-" + c.id, target: "case", id: c.id, title: c.title || `Case #${c.id}`, sub: `Case #${c.id}` });
          }
        },
        () => {},
      );
      setRecords(out);
      if (out.length) setRec(out[0].key);
    })();
  }, [tab]);
  const f = filter.trim().toLowerCase();
  const shownTasks = useMemo(() => (mine || []).filter((t) => !f || t.title.toLowerCase().includes(f) || String(t.id) === f), [mine, f]);
  const shownRecords = useMemo(() => (records || []).filter((r) => !f || r.title.toLowerCase().includes(f) || r.sub.toLowerCase().includes(f)), [records, f]);
  const move = async () => {
    let body: Record<string, unknown>;
    if (tab === "task") {
      if (mode === "existing") {
        if (!pick) return setErr("Choose a task.");
        body = { target: "task", target_id: pick };
      } else {
        if (!assignee) return setErr("Choose who the task is for.");
        body = { target: "task", task: { title, assignee_id: assignee.id } };
      }
    } else {
      const r = (records || []).find((x) => x.key === rec);
      if (!r) return setErr("Choose a record.");
      body = { target: r.target, target_id: r.id };
    }
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<{ link: tasks.MessageLink }>(`/messages/${m.id}/move`, body);
      store.toast(out.link.target === "contact" ? "Moved to the customer's card." : `Moved to ${out.link.target} #${out.link.target_id}.`);
      props.onClose();
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Move to task"
      onClose={props.onClose}
      wide
      class="move-dialog"
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" onClick={move} disabled={busy}>
            Move
          </button>
        </>
      }
    >
      <blockquote class="move-quote">{messagePreview(m)}</blockquote>
      <div class="tabs modal-tabs" role="tablist">
        <button role="tab" aria-selected={tab === "task"} class={tab === "task" ? "on" : ""} onClick={() => (setTab("task"), setFilter(""))}>
          To task
        </button>
        <button role="tab" aria-selected={tab === "table"} class={tab === "table" ? "on" : ""} onClick={() => (setTab("table"), setFilter(""))}>
          To table
        </button>
      </div>
      {tab === "task" ? (
        <div role="tabpanel" aria-label="To task">
          <div class="seg">
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "existing"} onChange={() => setMode("existing")} /> An existing task
            </label>
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "new"} onChange={() => setMode("new")} /> A new task
            </label>
          </div>
          {mode === "existing" ? (
            mine === null ? (
              <Spinner />
            ) : (
              <>
                <input class="input block" type="search" placeholder="Find a task" aria-label="Find a task" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
                {!shownTasks.length ? <p class="muted">No open task of yours matches.</p> : null}
                <ul class="pick-list" role="listbox" aria-label="Tasks">
                  {shownTasks.map((t) => (
                    <li key={t.id}>
                      <label class={"pick-row" + (pick === t.id ? " on" : "") + (tasks.overdue(t) ? " overdue" : "")}>
                        <input type="radio" name="task" checked={pick === t.id} onChange={() => setPick(t.id)} />
                        <span class="case-no">#{t.id}</span>
                        <span class="record-main">
                          <strong class="ellipsis">{t.title}</strong>
                          <span class="muted ellipsis">
                            {tasks.STATUS_LABEL[t.status]}
                            {t.due_at ? " · " + dueText(t) : ""}
                          </span>
                        </span>
                      </label>
                    </li>
                  ))}
                </ul>
              </>
            )
          ) : (
            <>
              <label class="field">
                <span>Title</span>
                <input class="input" maxLength={200} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
              </label>
              <div class="field">
                <span>Assignee</span>
                <UserSelect label="Assignee" value={assignee} onChange={setAssignee} />
              </div>
            </>
          )}
        </div>
      ) : (
        <div role="tabpanel" aria-label="To table">
          <p class="muted small">Add the message to the history of a customer's card or a case.</p>
          {records === null ? (
            <Spinner />
          ) : (
            <>
              <input class="input block" type="search" placeholder="Find a customer or a case" aria-label="Find a record" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
              {!shownRecords.length ? <p class="muted">{records.length ? "Nothing matches." : "There is no customer or case you can see."}</p> : null}
              <ul class="pick-list" role="listbox" aria-label="Records">
                {shownRecords.map((r) => (
                  <li key={r.key}>
                    <label class={"pick-row" + (rec === r.key ? " on" : "")}>
                      <input type="radio" name="record" checked={rec === r.key} onChange={() => setRec(r.key)} />
                      <span class="record-main">
                        <strong class="ellipsis">{r.title}</strong>
                        <span class="muted ellipsis">{r.sub}</span>
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

interface Note {
  id: number;
  contact_id: number;
  author_id: number;
  text: string;
  message_id?: number;
  conversation_id?: number;
  created_at: string;
}

/** ContactHistory is a customer card's history: the messages moved there ("To table"). */
export function ContactHistory(props: { contactId: number }) {
  const [notes, setNotes] = useState<Note[] | null>(null);
  const v = use(tasks.linksV);
  useEffect(() => {
    api.get<{ notes: Note[] }>(`/contacts/${props.contactId}/notes`).then(
      (r) => setNotes(r.notes || []),
      () => setNotes([]),
    );
  }, [props.contactId, v]);
  useNames((notes || []).map((n) => n.author_id));
  return (
    <>
      <h4>History</h4>
      {notes === null ? null : !notes.length ? (
        <p class="muted small">Nothing yet. Move a message here with Move to task → To table.</p>
      ) : (
        <ul class="contact-history">
          {notes.map((n) => (
            <li key={n.id} data-note={n.id}>
              <div class="comment-head">
                <strong>{store.personName(n.author_id)}</strong> <time class="muted">{fullTime(n.created_at)}</time>
                {n.message_id && n.conversation_id ? (
                  <a class="moved-from" href={msgURL(n.conversation_id, n.message_id)} onClick={onLink}>
                    Original message
                  </a>
                ) : null}
              </div>
              <div class="comment-text">{n.text}</div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
