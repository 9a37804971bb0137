// Cases (seed 004, loaded on demand): the cases made from chats — a
// visitor's message while nobody could answer, or a dialog a consultant
// converted — filtered open / closed; one case with its fields,
// description, comments (add one), Close, and a link to its conversation.

import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import * as live from "../livechat";
import { navigate, onLink } from "../router";
import * as store from "../store";
import type { Case, CaseComment, CaseTemplate, Contact, Project, User } from "../types";
import { Avatar, CommentForm, Spinner } from "../ui/common";
import { Back } from "../ui/icons";
import { fullTime, shortWhen } from "../util";

function arr<T>(res: unknown, key: string): T[] {
  if (Array.isArray(res)) return res as T[];
  const v = (res as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

const FILTERS = [
  ["open", "app.tasks.cases.filterOpen"],
  ["closed", "app.tasks.cases.filterClosed"],
  ["all", "app.tasks.cases.filterAll"],
] as const;

/** no is a case's number as shown: "#12". */
const no = (id: number) => "#" + id;

/** Project names: the user's own projects, and every project for those who manage them. */
function useProjectNames() {
  const [names, setNames] = useState<Map<number, string>>(() => new Map([...live.projects.values()].map((p) => [p.id, p.name])));
  useEffect(() => {
    if (!store.canManageChat(store.me.value)) return;
    api.get<unknown>("/projects").then(
      (r) => setNames(new Map(arr<Project>(r, "projects").map((p) => [p.id, p.name]))),
      () => {},
    );
  }, []);
  return names;
}

export function CasesPage(props: { id?: number; status: string }) {
  const names = useProjectNames();
  return (
    <section class="pane page" aria-labelledby="cases-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label={t("app.tasks.page.back")} onClick={() => (props.id ? navigate("/cases") : navigate("/"))}>
          <Back />
        </button>
        <h1 id="cases-title">{props.id ? t("app.tasks.link.case", { no: no(props.id) }) : t("app.tasks.cases.title")}</h1>
      </header>
      {props.id ? <CaseDetail key={props.id} id={props.id} names={names} /> : <CaseList status={props.status} names={names} />}
    </section>
  );
}

function CaseList(props: { status: string; names: Map<number, string> }) {
  const status = FILTERS.some(([k]) => k === props.status) ? props.status : "open";
  const [project, setProject] = useState(0);
  const [list, setList] = useState<Case[] | null>(null);
  const [more, setMore] = useState(false);
  const [err, setErr] = useState("");
  const load = async (before = 0, prev: Case[] = []) => {
    try {
      const r = await api.get<unknown>("/cases" + api.qs({ status: status === "all" ? undefined : status, project: project || undefined, before: before || undefined, limit: 50 }));
      const page = arr<Case>(r, "cases");
      setList([...prev, ...page]);
      setMore(page.length === 50);
      setErr("");
    } catch (e) {
      setErr((e as Error).message);
      setList(prev);
    }
  };
  useEffect(() => {
    setList(null);
    load();
  }, [status, project]);
  return (
    <>
      <nav class="tabs" aria-label={t("app.tasks.cases.statusLabel")}>
        {FILTERS.map(([k, l]) => (
          <a key={k} href={`/cases?status=${k}`} class={status === k ? "on" : ""} aria-current={status === k ? "page" : undefined} onClick={onLink}>
            {t(l)}
          </a>
        ))}
        <span class="grow" />
        {props.names.size > 1 ? (
          <select class="input tab-select" aria-label={t("app.tasks.cases.project")} value={String(project)} onChange={(e) => setProject(Number((e.currentTarget as HTMLSelectElement).value))}>
            <option value="0">{t("app.tasks.cases.allProjects")}</option>
            {[...props.names].map(([id, n]) => (
              <option key={id} value={String(id)}>
                {n}
              </option>
            ))}
          </select>
        ) : null}
      </nav>
      <div class="page-body">
        <section class="card wide-card">
          {err ? <p class="form-error">{err}</p> : null}
          {list === null ? (
            <Spinner />
          ) : !list.length ? (
            <p class="muted">{status === "closed" ? t("app.tasks.cases.emptyClosed") : status === "open" ? t("app.tasks.cases.emptyOpen") : t("app.tasks.cases.emptyAll")}</p>
          ) : (
            <ul class="record-list cases">
              {list.map((c) => (
                <li key={c.id}>
                  <a class="record" href={`/cases/${c.id}`} onClick={onLink} data-case={c.id}>
                    <span class="case-no">#{c.id}</span>
                    <span class="record-main">
                      <strong class="ellipsis">{c.title || t("app.tasks.cases.untitled")}</strong>
                      <span class="muted ellipsis">
                        {props.names.get(c.project_id) ? props.names.get(c.project_id) + " · " : ""}
                        {c.source === "offline" ? t("app.tasks.cases.offline") : t("app.tasks.cases.converted")} · {shortWhen(c.created_at)}
                      </span>
                    </span>
                    <span class={"pill " + (c.status === "open" ? "on" : "off")}>{c.status === "open" ? t("app.tasks.cases.statusOpen") : t("app.tasks.cases.statusClosed")}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
          {more && list ? (
            <button class="btn small center-btn" onClick={() => load(Math.min(...list.map((c) => c.id)), list)}>
              {t("app.tasks.cases.more")}
            </button>
          ) : null}
        </section>
      </div>
    </>
  );
}

interface CaseOut {
  case?: Case;
  comments?: CaseComment[] | null;
  conversation_id?: number;
  contact?: Contact | null;
}

function CaseDetail(props: { id: number; names: Map<number, string> }) {
  const [c, setC] = useState<Case | null>(null);
  const [comments, setComments] = useState<CaseComment[]>([]);
  const [contact, setContact] = useState<Contact | null>(null);
  const [labels, setLabels] = useState<Map<string, string>>(new Map());
  const [authors, setAuthors] = useState<Map<number, User>>(new Map());
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const load = async () => {
    try {
      const r = await api.get<CaseOut & Case>(`/cases/${props.id}`);
      const cs = (r.case || r) as Case;
      if (!cs.conversation_id && r.conversation_id) cs.conversation_id = r.conversation_id;
      setC(cs);
      setContact(r.contact || null);
      setComments(r.comments || ((cs as unknown as CaseOut).comments ?? []) || []);
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  useEffect(() => {
    load();
    // Field labels come from the templates when the user may read them.
    api.get<unknown>("/case-templates").then(
      (r) => {
        const m = new Map<string, string>();
        for (const tpl of arr<CaseTemplate>(r, "templates")) for (const f of tpl.fields || []) m.set(f.name, f.label || f.name);
        setLabels(m);
      },
      () => {},
    );
  }, [props.id]);
  useEffect(() => {
    const ids = [...new Set([...comments.map((x) => x.author_id || 0), c?.created_by || 0, c?.closed_by || 0])].filter((id) => id && !authors.has(id));
    if (!ids.length) return;
    api.get<{ users: User[] }>("/users" + api.qs({ ids: ids.join(","), limit: 500 })).then(
      (r) => setAuthors(new Map([...authors, ...r.users.map((u) => [u.id, u] as [number, User])])),
      () => {},
    );
  }, [comments, c]);
  const comment = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      const out = await api.post<CaseComment>(`/cases/${props.id}/comments`, { text: text.trim() });
      if (out && out.id) setComments([...comments, out]);
      else await load();
      setText("");
    } catch (x) {
      store.fail(x);
    } finally {
      setBusy(false);
    }
  };
  const close = async () => {
    setBusy(true);
    try {
      const out = await api.post<Case | CaseOut>(`/cases/${props.id}/close`);
      const cs = (out as CaseOut)?.case || (out as Case);
      if (cs && cs.id) setC({ ...c!, ...cs });
      else await load();
    } catch (x) {
      store.fail(x);
    } finally {
      setBusy(false);
    }
  };
  if (err)
    return (
      <div class="page-body">
        <section class="card">
          <p class="form-error">{err}</p>
          <a href="/cases" onClick={onLink}>
            {t("app.tasks.cases.all")}
          </a>
        </section>
      </div>
    );
  if (!c)
    return (
      <div class="page-body">
        <Spinner />
      </div>
    );
  const fields = Object.entries(c.fields || {});
  const visitor = (contact && (contact.name || contact.email)) || t("app.tasks.cases.theVisitor");
  const who = (id?: number) => (id ? authors.get(id)?.name || store.personName(id) : visitor);
  return (
    <div class="page-body">
      <section class="card case-card" data-case={c.id} data-status={c.status}>
        <div class="card-head">
          <h2 class="case-title">{c.title || t("app.tasks.cases.untitled")}</h2>
          <span class={"pill " + (c.status === "open" ? "on" : "off")}>{c.status === "open" ? t("app.tasks.cases.statusOpen") : t("app.tasks.cases.statusClosed")}</span>
        </div>
        <p class="muted small">
          {props.names.get(c.project_id) ? props.names.get(c.project_id) + " · " : ""}
          {c.source === "offline" ? t("app.tasks.cases.fromOffline") : t("app.tasks.cases.convertedBy", { name: who(c.created_by) })} ·{" "}
          {fullTime(c.created_at)}
          {c.closed_at
            ? " · " +
              (c.closed_by
                ? t("app.tasks.cases.closedBy", { time: fullTime(c.closed_at), name: who(c.closed_by) })
                : t("app.tasks.cases.closedAt", { time: fullTime(c.closed_at) }))
            : ""}
        </p>
        <div class="row-start">
          {c.conversation_id ? (
            <a class="btn small" href={`/d/${c.conversation_id}`} onClick={onLink}>
              {t("app.tasks.cases.openConversation")}
            </a>
          ) : null}
          {c.status === "open" ? (
            <button class="btn small danger" onClick={close} disabled={busy}>
              {t("app.tasks.cases.close")}
            </button>
          ) : null}
        </div>
        {contact ? (
          <>
            <h3 class="sub-title">{t("app.tasks.cases.visitor")}</h3>
            <dl class="facts case-fields">
              <dt>{t("app.tasks.cases.name")}</dt>
              <dd>{contact.name || <span class="muted">—</span>}</dd>
              <dt>{t("app.tasks.cases.email")}</dt>
              <dd>{contact.email ? <a href={"mailto:" + contact.email}>{contact.email}</a> : <span class="muted">—</span>}</dd>
              {contact.page_url ? (
                <>
                  <dt>{t("app.tasks.cases.page")}</dt>
                  <dd>{contact.page_url}</dd>
                </>
              ) : null}
            </dl>
          </>
        ) : null}
        {fields.length ? (
          <>
            <h3 class="sub-title">{t("app.tasks.cases.fields")}</h3>
            <dl class="facts case-fields">
              {fields.map(([k, v]) => (
                <>
                  <dt key={"k" + k}>{labels.get(k) || k}</dt>
                  <dd key={"v" + k}>{v || <span class="muted">—</span>}</dd>
                </>
              ))}
            </dl>
          </>
        ) : null}
        <h3 class="sub-title">{t("app.tasks.field.description")}</h3>
        <div class="case-desc">{c.description || <span class="muted">{t("app.tasks.detail.noDescription")}</span>}</div>
      </section>
      <section class="card case-card">
        <h2>{t("app.tasks.detail.comments")}</h2>
        {!comments.length ? <p class="muted">{t("app.tasks.cases.noComments")}</p> : null}
        <ul class="comments">
          {comments.map((x) => (
            <li key={x.id} class={x.contact_id && !x.author_id ? "from-visitor" : ""}>
              <Avatar id={x.author_id || (x.contact_id || 0) * 31 + 7} name={who(x.author_id)} size={28} />
              <div class="comment-body">
                <div class="comment-head">
                  <strong>{who(x.author_id)}</strong> <time class="muted">{fullTime(x.created_at)}</time>
                </div>
                <div class="comment-text">{x.text}</div>
              </div>
            </li>
          ))}
        </ul>
        <CommentForm text={text} busy={busy} onText={setText} onSubmit={comment} />
      </section>
    </div>
  );
}
