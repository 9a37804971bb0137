// Tasks (seed 001, loaded on demand): "My tasks" — assigned to me or
// created by me, filtered by status, overdue ones in red — a task with its
// comments (each moved message links back to where it was written), the
// window that creates or edits a task ("Create a task" in the user panel),
// the "Move to task" window with its two tabs, To task and To table, and a
// customer card's history.

import { useEffect, useMemo, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
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

const FILTERS = [
  ["active", "app.tasks.filter.active"],
  ["open", "app.tasks.filter.open"],
  ["in_progress", "app.tasks.filter.inProgress"],
  ["closed", "app.tasks.filter.done"],
  ["all", "app.tasks.filter.all"],
] as const;

function dueText(task: Task, prefix = true): string {
  if (!task.due_at) return "";
  const time = fullTime(task.due_at);
  return tasks.overdue(task) ? t("app.tasks.due.overdueSince", { time }) : prefix ? t("app.tasks.due.due", { time }) : time;
}

/** no is a record's number as shown: "#12". */
const no = (id: number) => "#" + id;

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
        <button class="icon-btn back" aria-label={t("app.tasks.page.back")} onClick={() => (props.id ? navigate("/tasks") : navigate("/"))}>
          <Back />
        </button>
        <h1 id="tasks-title">{props.id ? t("app.tasks.link.task", { no: no(props.id) }) : t("app.tasks.page.title")}</h1>
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
        setList((r.tasks || []).filter((x) => status !== "active" || x.status !== "closed"));
        setErr("");
      },
      (e) => !stale && setErr((e as Error).message),
    );
    return () => {
      stale = true;
    };
  }, [role, status, v]);
  useNames((list || []).flatMap((x) => [x.assignee_id, x.created_by]));
  const url = (r: string, s: string) => `/tasks?role=${r}&status=${s}`;
  return (
    <>
      <nav class="tabs" aria-label={t("app.tasks.list.whose")}>
        <a href={url("assigned", status)} class={role === "assigned" ? "on" : ""} aria-current={role === "assigned" ? "page" : undefined} onClick={onLink}>
          {t("app.tasks.list.tabAssigned")}
        </a>
        <a href={url("created", status)} class={role === "created" ? "on" : ""} aria-current={role === "created" ? "page" : undefined} onClick={onLink}>
          {t("app.tasks.list.tabCreated")}
        </a>
        <span class="grow" />
        <select class="input tab-select" aria-label={t("app.tasks.list.status")} value={status} onChange={(e) => navigate(url(role, (e.currentTarget as HTMLSelectElement).value))}>
          {FILTERS.map(([k, l]) => (
            <option key={k} value={k}>
              {t(l)}
            </option>
          ))}
        </select>
        <button class="btn small primary" onClick={() => setCreating(true)}>
          {t("app.tasks.list.new")}
        </button>
      </nav>
      <div class="page-body">
        <section class="card wide-card">
          {err ? <p class="form-error">{err}</p> : null}
          {list === null ? (
            <Spinner />
          ) : !list.length ? (
            <p class="muted">{role === "assigned" ? t("app.tasks.list.emptyAssigned") : t("app.tasks.list.emptyCreated")}</p>
          ) : (
            <ul class="record-list task-list">
              {list.map((task) => (
                <li key={task.id}>
                  <a class={"record task-row" + (tasks.overdue(task) ? " overdue" : "")} href={`/tasks/${task.id}`} onClick={onLink} data-task={task.id}>
                    <span class="case-no">#{task.id}</span>
                    <span class="record-main">
                      <strong class="ellipsis">{task.title}</strong>
                      <span class="muted ellipsis">
                        {role === "assigned" ? t("app.tasks.list.from", { name: store.personName(task.created_by) }) : t("app.tasks.list.for", { name: store.personName(task.assignee_id) })}
                        {task.due_at ? " · " + dueText(task) : ""} · {t("app.tasks.list.createdWhen", { when: shortWhen(task.created_at) })}
                      </span>
                    </span>
                    {tasks.overdue(task) ? <span class="pill bad">{t("app.tasks.overdue")}</span> : null}
                    <span class={"pill " + (task.status === "closed" ? "off" : task.status === "in_progress" ? "warn" : "on")}>{tasks.statusLabel(task.status)}</span>
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
          onDone={(x) => {
            setCreating(false);
            navigate(`/tasks/${x.id}`);
          }}
        />
      ) : null}
    </>
  );
}

function TaskDetail(props: { id: number }) {
  const [task, setTask] = useState<TaskView | null>(null);
  const [err, setErr] = useState("");
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(false);
  const v = use(tasks.tasksV);
  const load = () =>
    api.get<TaskView>(`/tasks/${props.id}`).then(
      (r) => {
        setTask({ ...r, comments: r.comments || [] });
        setErr("");
      },
      (e) => setErr((e as Error).message),
    );
  useEffect(() => {
    if (v && tasks.lastTask && tasks.lastTask.id !== props.id) return;
    load();
  }, [props.id, v]);
  useNames(task ? [task.assignee_id, task.created_by, task.closed_by || 0, ...task.comments.map((c) => c.author_id || 0)] : []);
  if (err)
    return (
      <div class="page-body">
        <section class="card">
          <p class="form-error">{err}</p>
          <a href="/tasks" onClick={onLink}>
            {t("app.tasks.page.title")}
          </a>
        </section>
      </div>
    );
  if (!task)
    return (
      <div class="page-body">
        <Spinner />
      </div>
    );
  const setStatus = async (s: TaskStatus) => {
    setBusy(true);
    try {
      const out = await api.patch<Task>(`/tasks/${task.id}`, { status: s });
      setTask({ ...task, ...out });
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
      const c = await api.post<TaskComment>(`/tasks/${task.id}/comments`, { text: text.trim() });
      setTask({ ...task, comments: [...task.comments.filter((x) => x.id !== c.id), c] });
      setText("");
    } catch (x) {
      store.fail(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page-body">
      <section class={"card case-card task-card" + (tasks.overdue(task) ? " overdue" : "")} data-task={task.id} data-status={task.status}>
        <div class="card-head">
          <h2 class="case-title">{task.title}</h2>
          <span class={"pill " + (task.status === "closed" ? "off" : task.status === "in_progress" ? "warn" : "on")}>{tasks.statusLabel(task.status)}</span>
        </div>
        <dl class="facts case-fields">
          <dt>{t("app.tasks.field.assignee")}</dt>
          <dd>{store.personName(task.assignee_id)}</dd>
          <dt>{t("app.tasks.field.created")}</dt>
          <dd>{t("app.tasks.detail.createdBy", { name: store.personName(task.created_by), time: fullTime(task.created_at) })}</dd>
          <dt>{t("app.tasks.field.due")}</dt>
          <dd class={tasks.overdue(task) ? "due overdue" : "due"}>{task.due_at ? dueText(task, false) : <span class="muted">{t("app.tasks.detail.noDue")}</span>}</dd>
          {task.closed_at ? (
            <>
              <dt>{t("app.tasks.field.done")}</dt>
              <dd>{task.closed_by ? t("app.tasks.detail.doneBy", { time: fullTime(task.closed_at), name: store.personName(task.closed_by) }) : fullTime(task.closed_at)}</dd>
            </>
          ) : null}
        </dl>
        <div class="row-start task-actions">
          <label class="inline">
            {t("app.tasks.list.status")}{" "}
            <select class="input" aria-label={t("app.tasks.list.status")} value={task.status} disabled={busy} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as TaskStatus)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {tasks.statusLabel(s)}
                </option>
              ))}
            </select>
          </label>
          <button class="btn small" onClick={() => setEditing(true)}>
            {t("app.tasks.detail.edit")}
          </button>
          {task.parent_id ? (
            <a class="btn small" href={`/cases/${task.parent_id}`} onClick={onLink}>
              {t("app.tasks.link.case", { no: no(task.parent_id) })}
            </a>
          ) : null}
          {task.conversation_id ? (
            <a class="btn small" href={task.project_id ? `/d/${task.conversation_id}` : convURL(task.conversation_id)} onClick={onLink}>
              {t("app.tasks.detail.openChat")}
            </a>
          ) : null}
        </div>
        <h3 class="sub-title">{t("app.tasks.field.description")}</h3>
        <div class="case-desc">{task.description || <span class="muted">{t("app.tasks.detail.noDescription")}</span>}</div>
      </section>
      <section class="card case-card">
        <h2>{t("app.tasks.detail.comments")}</h2>
        {!task.comments.length ? <p class="muted">{t("app.tasks.detail.noComments")}</p> : null}
        <ul class="comments">
          {task.comments.map((x) => (
            <li key={x.id} data-comment={x.id}>
              <Avatar id={x.author_id || 0} name={store.personName(x.author_id)} size={28} />
              <div class="comment-body">
                <div class="comment-head">
                  <strong>{store.personName(x.author_id)}</strong> <time class="muted">{fullTime(x.created_at)}</time>
                  {x.message_id && x.conversation_id ? (
                    <a class="moved-from" href={msgURL(x.conversation_id, x.message_id)} onClick={onLink}>
                      {t("app.tasks.detail.original")}
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
          task={task}
          onClose={() => setEditing(false)}
          onDone={(x) => {
            setEditing(false);
            setTask({ ...task, ...x });
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
    const timer = setTimeout(() => {
      api.get<{ users: User[] }>("/users" + api.qs({ q: q.trim() || undefined, limit: 20 })).then(
        (r) => !stale && setFound((r.users || []).filter((u) => u.active && !u.bot)),
        () => {},
      );
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
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
            <span class="muted">{t("app.tasks.select.nobody")}</span>
          )}
          <button type="button" class="btn small" onClick={() => setOpen(true)}>
            {t("app.tasks.select.change")}
          </button>
        </div>
      ) : (
        <>
          <input class="input" type="search" aria-label={props.label} placeholder={t("app.tasks.select.search")} value={q} autoFocus onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
          <ul class="pick-results" role="listbox" aria-label={t("app.tasks.select.colleagues")}>
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
  const task = props.task;
  const [title, setTitle] = useState(task?.title || props.title || "");
  const [desc, setDesc] = useState(task?.description || "");
  const [due, setDue] = useState(localInput(task?.due_at));
  const [assignee, setAssignee] = useState<User | null>(props.assignee || null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const id = task ? task.assignee_id : props.assignee ? 0 : me.id;
    if (!id) return;
    if (id === me.id) return setAssignee(me);
    api.get<User>(`/users/${id}`).then(setAssignee, () => {});
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!assignee) return setErr(t("app.tasks.form.chooseAssignee"));
    setBusy(true);
    setErr("");
    const body: Record<string, unknown> = { title, description: desc, assignee_id: assignee.id };
    if (due) body.due_at = new Date(due).toISOString();
    else if (task?.due_at) body.no_due = true;
    try {
      let out: Task;
      if (task) {
        if (task.due_at && due === localInput(task.due_at)) delete body.due_at;
        out = await api.patch<Task>(`/tasks/${task.id}`, body);
      } else {
        if (props.conversationId) body.conversation_id = props.conversationId;
        out = await api.post<Task>("/tasks", body);
        store.toast(assignee.id === me.id ? t("app.tasks.form.createdForYou", { no: no(out.id) }) : t("app.tasks.form.createdFor", { no: no(out.id), name: assignee.name }));
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
      title={task ? t("app.tasks.form.editTitle", { no: no(task.id) }) : props.assignee ? t("app.tasks.form.newFor", { name: props.assignee.name }) : t("app.tasks.list.new")}
      onClose={props.onClose}
      class="task-form"
      footer={
        <>
          <button class="btn" type="button" onClick={props.onClose}>
            {t("app.tasks.form.cancel")}
          </button>
          <button class="btn primary" type="submit" form="task-form" disabled={busy || !title.trim()}>
            {task ? t("app.tasks.form.save") : t("app.tasks.form.create")}
          </button>
        </>
      }
    >
      <form id="task-form" onSubmit={submit}>
        <label class="field">
          <span>{t("app.tasks.field.title")}</span>
          <input class="input" required maxLength={200} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </label>
        <label class="field">
          <span>{t("app.tasks.field.description")}</span>
          <textarea class="input" rows={4} maxLength={10000} value={desc} onInput={(e) => setDesc((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        <div class="field">
          <span>{t("app.tasks.field.assignee")}</span>
          <UserSelect label={t("app.tasks.field.assignee")} value={assignee} onChange={setAssignee} />
        </div>
        <label class="field">
          <span>{t("app.tasks.field.due")}</span>
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
        const open = (r.tasks || []).filter((x) => x.status !== "closed");
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
        out.push({ key: "contact-" + k.id, target: "contact", id: k.id, title: k.name || k.email || t("app.tasks.move.customer", { no: no(k.id) }), sub: t("app.tasks.link.contact") + (k.email ? " · " + k.email : "") });
      };
      // The customer of the dialog the message is in comes first.
      if (conv?.kind === "support") await api.get<Dialog>(`/dialogs/${conv.id}`).then(customer, () => {});
      await api.get<{ dialogs: Dialog[] }>("/dialogs" + api.qs({ limit: 100 })).then((r) => (r.dialogs || []).forEach(customer), () => {});
      await api.get<{ cases: Case[] }>("/cases" + api.qs({ status: "open", limit: 100 })).then(
        (r) => {
          for (const c of r.cases || []) {
            if ((c as unknown as Task).kind === "task") continue;
            out.push({ key: "case-" + c.id, target: "case", id: c.id, title: c.title || t("app.tasks.link.case", { no: no(c.id) }), sub: t("app.tasks.link.case", { no: no(c.id) }) });
          }
        },
        () => {},
      );
      setRecords(out);
      if (out.length) setRec(out[0].key);
    })();
  }, [tab]);
  const f = filter.trim().toLowerCase();
  const shownTasks = useMemo(() => (mine || []).filter((x) => !f || x.title.toLowerCase().includes(f) || String(x.id) === f), [mine, f]);
  const shownRecords = useMemo(() => (records || []).filter((r) => !f || r.title.toLowerCase().includes(f) || r.sub.toLowerCase().includes(f)), [records, f]);
  const move = async () => {
    let body: Record<string, unknown>;
    if (tab === "task") {
      if (mode === "existing") {
        if (!pick) return setErr(t("app.tasks.move.chooseTask"));
        body = { target: "task", target_id: pick };
      } else {
        if (!assignee) return setErr(t("app.tasks.form.chooseAssignee"));
        body = { target: "task", task: { title, assignee_id: assignee.id } };
      }
    } else {
      const r = (records || []).find((x) => x.key === rec);
      if (!r) return setErr(t("app.tasks.move.chooseRecord"));
      body = { target: r.target, target_id: r.id };
    }
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<{ link: tasks.MessageLink }>(`/messages/${m.id}/move`, body);
      const to = no(out.link.target_id);
      store.toast(
        out.link.target === "contact" ? t("app.tasks.move.doneContact") : out.link.target === "task" ? t("app.tasks.move.doneTask", { no: to }) : t("app.tasks.move.doneCase", { no: to }),
      );
      props.onClose();
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t("app.tasks.move.title")}
      onClose={props.onClose}
      wide
      class="move-dialog"
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.tasks.form.cancel")}
          </button>
          <button class="btn primary" onClick={move} disabled={busy}>
            {t("app.tasks.move.move")}
          </button>
        </>
      }
    >
      <blockquote class="move-quote">{messagePreview(m)}</blockquote>
      <div class="tabs modal-tabs" role="tablist">
        <button role="tab" aria-selected={tab === "task"} class={tab === "task" ? "on" : ""} onClick={() => (setTab("task"), setFilter(""))}>
          {t("app.tasks.move.toTask")}
        </button>
        <button role="tab" aria-selected={tab === "table"} class={tab === "table" ? "on" : ""} onClick={() => (setTab("table"), setFilter(""))}>
          {t("app.tasks.move.toTable")}
        </button>
      </div>
      {tab === "task" ? (
        <div role="tabpanel" aria-label={t("app.tasks.move.toTask")}>
          <div class="seg">
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "existing"} onChange={() => setMode("existing")} /> {t("app.tasks.move.existing")}
            </label>
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "new"} onChange={() => setMode("new")} /> {t("app.tasks.move.newTask")}
            </label>
          </div>
          {mode === "existing" ? (
            mine === null ? (
              <Spinner />
            ) : (
              <>
                <input class="input block" type="search" placeholder={t("app.tasks.move.findTask")} aria-label={t("app.tasks.move.findTask")} value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
                {!shownTasks.length ? <p class="muted">{t("app.tasks.move.noTask")}</p> : null}
                <ul class="pick-list" role="listbox" aria-label={t("app.tasks.move.tasks")}>
                  {shownTasks.map((task) => (
                    <li key={task.id}>
                      <label class={"pick-row" + (pick === task.id ? " on" : "") + (tasks.overdue(task) ? " overdue" : "")}>
                        <input type="radio" name="task" checked={pick === task.id} onChange={() => setPick(task.id)} />
                        <span class="case-no">#{task.id}</span>
                        <span class="record-main">
                          <strong class="ellipsis">{task.title}</strong>
                          <span class="muted ellipsis">
                            {tasks.statusLabel(task.status)}
                            {task.due_at ? " · " + dueText(task) : ""}
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
                <span>{t("app.tasks.field.title")}</span>
                <input class="input" maxLength={200} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
              </label>
              <div class="field">
                <span>{t("app.tasks.field.assignee")}</span>
                <UserSelect label={t("app.tasks.field.assignee")} value={assignee} onChange={setAssignee} />
              </div>
            </>
          )}
        </div>
      ) : (
        <div role="tabpanel" aria-label={t("app.tasks.move.toTable")}>
          <p class="muted small">{t("app.tasks.move.tableHint")}</p>
          {records === null ? (
            <Spinner />
          ) : (
            <>
              <input class="input block" type="search" placeholder={t("app.tasks.move.findCustomerOrCase")} aria-label={t("app.tasks.move.findRecord")} value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
              {!shownRecords.length ? <p class="muted">{records.length ? t("app.tasks.move.nothingMatches") : t("app.tasks.move.noRecords")}</p> : null}
              <ul class="pick-list" role="listbox" aria-label={t("app.tasks.move.records")}>
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
      <h4>{t("app.tasks.history.title")}</h4>
      {notes === null ? null : !notes.length ? (
        <p class="muted small">{t("app.tasks.history.empty")}</p>
      ) : (
        <ul class="contact-history">
          {notes.map((n) => (
            <li key={n.id} data-note={n.id}>
              <div class="comment-head">
                <strong>{store.personName(n.author_id)}</strong> <time class="muted">{fullTime(n.created_at)}</time>
                {n.message_id && n.conversation_id ? (
                  <a class="moved-from" href={msgURL(n.conversation_id, n.message_id)} onClick={onLink}>
                    {t("app.tasks.detail.original")}
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
