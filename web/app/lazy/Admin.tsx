// Administration (loaded on demand): the Chat page with the "Chat Settings"
// window (enable the Assistance menu, pick its one responsible
// administrator) and the sign-in rules, user management (create, role, deactivate) and groups
// (the contact tree, rights, members), chat projects, customer tags, and
// outgoing webhooks and bots (each loaded on demand).

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { navigate, type Route } from "../router";
import { use } from "../sig";
import * as store from "../store";
import type { ChatSettings, Group, Role, User } from "../types";
import { Avatar, Modal, Spinner } from "../ui/common";
import { Back } from "../ui/icons";
import { lazy } from "../ui/lazy";
import { UserPicker } from "../ui/People";
import { debounce, sentence } from "../util";
import { ROLES } from "../people";

const SMSSettingsCard = lazy(() => import("./SMS").then((m) => m.SMSSettingsCard));

// Each right with its label's key (the label is read at render time).
const RIGHTS = [
  ["users.manage", "app.admin.rights.usersManage"],
  ["chat.settings", "app.admin.rights.chatSettings"],
  ["dialogs.delete", "app.admin.rights.dialogsDelete"],
] as const;

const ProjectsTab = lazy(() => import("./Projects").then((m) => m.ProjectsTab));
const TagsAdmin = lazy(() => import("./InboxTools").then((m) => m.TagsAdmin));
const WebhooksTab = lazy(() => import("./Webhooks").then((m) => m.WebhooksTab));
const BotsTab = lazy(() => import("./Webhooks").then((m) => m.BotsTab));
const AuditTab = lazy(() => import("./Audit").then((m) => m.AuditTab));
const InvitesCard = lazy(() => import("./Accounts").then((m) => m.InvitesCard));
const ProviderCard = lazy(() => import("./Accounts").then((m) => m.ProviderCard));

export function AdminPage(props: { tab: string; route?: Route }) {
  const tab = props.tab || "chat";
  const nav = useRef<HTMLElement>(null);
  // On a narrow screen the tabs scroll: the current one stays in sight.
  useEffect(() => nav.current?.querySelector(".on")?.scrollIntoView({ block: "nearest", inline: "nearest" }), [tab]);
  const tabs: [string, string][] = [
    ["chat", t("app.admin.tabs.chat")],
    // The chat settings right: the API refuses the rest (403).
    ...(store.canManageChat(store.me.value)
      ? ([
          ["projects", t("app.admin.tabs.projects")],
          ["tags", t("app.admin.tabs.tags")],
          ["webhooks", t("app.admin.tabs.webhooks")],
          ["bots", t("app.admin.tabs.bots")],
        ] as [string, string][])
      : []),
    ["users", t("app.admin.tabs.users")],
    ["groups", t("app.admin.tabs.groups")],
    // Administrators only: the API refuses anyone else (403).
    ...(store.me.value?.role === "admin" ? ([["audit", t("app.admin.tabs.audit")]] as [string, string][]) : []),
  ];
  return (
    <section class="pane page" aria-labelledby="admin-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label={t("app.admin.page.back")} onClick={() => navigate("/")}>
          <Back />
        </button>
        <h1 id="admin-title">{t("app.admin.page.title")}</h1>
      </header>
      <nav ref={nav} class="tabs" aria-label={t("app.admin.page.title")}>
        {tabs.map(([k, l]) => (
          <a
            key={k}
            href={k === "chat" ? "/admin" : "/admin/" + k}
            class={tab === k ? "on" : ""}
            aria-current={tab === k ? "page" : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(k === "chat" ? "/admin" : "/admin/" + k);
            }}
          >
            {l}
          </a>
        ))}
      </nav>
      <div class="page-body">
        {tab === "users" ? (
          <>
            <InvitesCard />
            <UsersTab />
          </>
        ) : tab === "groups" ? (
          <GroupsTab />
        ) : tab === "tags" ? (
          <TagsAdmin />
        ) : tab === "webhooks" ? (
          <WebhooksTab id={props.route?.id} />
        ) : tab === "bots" ? (
          <BotsTab />
        ) : tab === "audit" ? (
          <AuditTab />
        ) : tab === "projects" ? (
          <ProjectsTab id={props.route?.id} section={props.route?.section} sub={props.route?.sub} />
        ) : (
          <ChatTab />
        )}
      </div>
    </section>
  );
}

function ChatTab() {
  const me = use(store.me);
  return (
    <>
      <ChatCard />
      <SMSSettingsCard />
      {me?.role === "admin" ? <SignInRules /> : null}
      {me?.role === "admin" ? <ProviderCard /> : null}
    </>
  );
}

/** SignInRules: the organisation's sign-in rules (administrators). */
function SignInRules() {
  const me = use(store.me);
  const [on, setOn] = useState<boolean | null>(null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<{ require_admin_two_factor: boolean }>("/security").then(
      (s) => setOn(s.require_admin_two_factor),
      (e) => setErr((e as Error).message),
    );
  }, []);
  const change = async (v: boolean) => {
    setBusy(true);
    setErr("");
    setOn(v);
    try {
      const s = await api.put<{ require_admin_two_factor: boolean }>("/security", { require_admin_two_factor: v });
      setOn(s.require_admin_two_factor);
    } catch (e) {
      setOn(!v);
      setErr(sentence((e as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="signin-rules-title">
      <h2 id="signin-rules-title">{t("app.admin.signIn.title")}</h2>
      {on === null && !err ? (
        <Spinner />
      ) : (
        <label class="toggle">
          <input type="checkbox" id="require-admin-2fa" checked={!!on} disabled={busy || on === null} onChange={(e) => change((e.currentTarget as HTMLInputElement).checked)} />
          <span class="toggle-text">
            {t("app.admin.signIn.require2fa")}
            <small>{me?.two_factor ? t("app.admin.signIn.require2faHintHave") : t("app.admin.signIn.require2faHint")}</small>
          </span>
        </label>
      )}
      {err ? (
        <div class="form-error sec-error" role="alert">
          <p>{err}</p>
          {!me?.two_factor ? (
            <a
              href="/settings"
              onClick={(e) => {
                e.preventDefault();
                navigate("/settings");
              }}
            >
              {t("app.admin.signIn.setUp")}
            </a>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function ChatCard() {
  const cs = use(store.chatSettings);
  const [open, setOpen] = useState(false);
  const [admin, setAdmin] = useState<User | null>(null);
  useEffect(() => {
    if (cs.assistance_admin_id) api.get<User>(`/users/${cs.assistance_admin_id}`).then(setAdmin, () => setAdmin(null));
    else setAdmin(null);
  }, [cs.assistance_admin_id]);
  return (
    <section class="card">
      <h2>{t("app.admin.chat.title")}</h2>
      <p>
        {cs.assistance_enabled
          ? tp("app.admin.chat.stateOn", {
              assistance: <strong>{t("app.admin.chat.assistance")}</strong>,
              on: <strong>{t("app.admin.chat.enabled")}</strong>,
              who: admin ? <strong>{admin.name}</strong> : "…",
            })
          : tp("app.admin.chat.stateOff", {
              assistance: <strong>{t("app.admin.chat.assistance")}</strong>,
              off: <strong>{t("app.admin.chat.disabled")}</strong>,
            })}
      </p>
      <button class="btn primary" onClick={() => setOpen(true)}>
        {t("app.admin.chat.settings")}
      </button>
      {open ? <ChatSettingsWindow onClose={() => setOpen(false)} /> : null}
    </section>
  );
}

function ChatSettingsWindow(props: { onClose: () => void }) {
  const cur = store.chatSettings.value;
  const [enabled, setEnabled] = useState(cur.assistance_enabled);
  const [adminId, setAdminId] = useState(cur.assistance_admin_id);
  const [admins, setAdmins] = useState<User[] | null>(null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    (async () => {
      const out: User[] = [];
      let cursor = "";
      do {
        const page = await api.get<{ users: User[]; next_cursor?: string }>("/users" + api.qs({ limit: 500, cursor }));
        out.push(...page.users.filter((u) => u.active && (u.role === "admin" || u.role === "supervisor")));
        cursor = page.next_cursor || "";
      } while (cursor && out.length < 2000);
      setAdmins(out);
    })().catch((e) => setErr(e.message));
  }, []);
  const save = async () => {
    setBusy(true);
    setErr("");
    try {
      if (enabled && !adminId) throw new Error(t("app.admin.chat.chooseAdmin"));
      store.chatSettings.value = await api.put<ChatSettings>("/chat/settings", { assistance_enabled: enabled, assistance_admin_id: adminId });
      props.onClose();
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t("app.admin.chat.settings")}
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.admin.common.cancel")}
          </button>
          <button class="btn primary" onClick={save} disabled={busy}>
            {t("app.admin.common.save")}
          </button>
        </>
      }
    >
      <label class="toggle">
        <input type="checkbox" name="assistance_enabled" checked={enabled} onChange={(e) => setEnabled((e.currentTarget as HTMLInputElement).checked)} />
        <span class="toggle-text">
          {t("app.admin.chat.enable")}
          <small>{t("app.admin.chat.enableHint")}</small>
        </span>
      </label>
      <label class="field">
        <span>{t("app.admin.chat.responsible")}</span>
        {admins === null ? (
          <Spinner />
        ) : (
          <select class="input" name="assistance_admin_id" value={String(adminId)} onChange={(e) => setAdminId(Number((e.currentTarget as HTMLSelectElement).value))}>
            <option value="0">{t("app.admin.chat.choose")}</option>
            {admins.map((u) => (
              <option key={u.id} value={String(u.id)}>
                {u.name} ({u.email})
              </option>
            ))}
          </select>
        )}
      </label>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

function UsersTab() {
  const [q, setQ] = useState("");
  const [users, setUsers] = useState<User[] | null>(null);
  const [next, setNext] = useState("");
  const [creating, setCreating] = useState(false);
  const [err, setErr] = useState("");
  const me = store.me.value!;
  const load = useMemo(
    () =>
      debounce(async (text: string, cursor: string = "", prev: User[] = []) => {
        try {
          const page = await api.get<{ users: User[]; next_cursor?: string }>("/users" + api.qs({ q: text.trim(), limit: 100, cursor }));
          setUsers([...prev, ...page.users]);
          setNext(page.next_cursor || "");
        } catch (e) {
          setErr((e as Error).message);
        }
      }, 150),
    [],
  );
  useEffect(() => load(q), [q]);
  const patch = async (u: User, body: Partial<User>) => {
    try {
      const out = await api.patch<User>(`/users/${u.id}`, body);
      setUsers((list) => list && list.map((x) => (x.id === u.id ? { ...x, ...out } : x)));
    } catch (e) {
      store.fail(e);
    }
  };
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.users.title")}</h2>
        <button class="btn primary" onClick={() => setCreating(true)}>
          {t("app.admin.users.create")}
        </button>
      </div>
      <input class="input block" type="search" placeholder={t("app.admin.users.search")} aria-label={t("app.admin.users.searchLabel")} value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      {err ? <p class="form-error">{err}</p> : null}
      {users === null ? (
        <Spinner />
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th>{t("app.admin.common.name")}</th>
                <th>{t("app.admin.users.email")}</th>
                <th>{t("app.admin.users.role")}</th>
                <th>{t("app.admin.users.status")}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} class={u.active ? "" : "inactive"}>
                  <td>
                    <span class="cell-user">
                      <Avatar id={u.id} name={u.name} photo={u.photo_file_id} size={28} />
                      <span class="ellipsis">{u.name}</span>
                    </span>
                  </td>
                  <td class="ellipsis">{u.email}</td>
                  <td>
                    <select
                      class="input"
                      aria-label={t("app.admin.users.roleOf", { name: u.name })}
                      value={u.role}
                      disabled={u.id === me.id}
                      onChange={(e) => patch(u, { role: (e.currentTarget as HTMLSelectElement).value as Role })}
                    >
                      {ROLES.map(([r, l]) => (
                        <option key={r} value={r} disabled={r === "admin" && me.role !== "admin"}>
                          {t(l)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {u.id === me.id ? (
                      t("app.admin.users.you")
                    ) : (
                      <button class={"btn small" + (u.active ? " danger" : "")} onClick={() => patch(u, { active: !u.active })}>
                        {u.active ? t("app.admin.users.deactivate") : t("app.admin.users.activate")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {next ? (
            <button class="btn small center-btn" onClick={() => load(q, next, users)}>
              {t("app.admin.users.showMore")}
            </button>
          ) : null}
        </div>
      )}
      {creating ? (
        <CreateUser
          onClose={() => setCreating(false)}
          onCreated={(u) => {
            setUsers((l) => [u, ...(l || [])]);
            setCreating(false);
          }}
        />
      ) : null}
    </section>
  );
}

function CreateUser(props: { onClose: () => void; onCreated: (u: User) => void }) {
  const [f, setF] = useState({ name: "", email: "", password: "", role: "member" as Role });
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      props.onCreated(await api.post<User>("/users", { ...f, name: f.name.trim(), email: f.email.trim() }));
    } catch (x) {
      setErr((x as Error).message);
      setBusy(false);
    }
  };
  const field = (k: keyof typeof f, label: string, type = "text") => (
    <label class="field">
      <span>{label}</span>
      <input class="input" name={k} type={type as "text"} required value={f[k]} onInput={(e) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value })} />
    </label>
  );
  return (
    <Modal title={t("app.admin.users.create")} onClose={props.onClose}>
      <form onSubmit={submit}>
        {field("name", t("app.admin.users.fullName"))}
        {field("email", t("app.admin.users.email"), "email")}
        {field("password", t("app.admin.users.password"), "password")}
        <label class="field">
          <span>{t("app.admin.users.role")}</span>
          <select class="input" name="role" value={f.role} onChange={(e) => setF({ ...f, role: (e.currentTarget as HTMLSelectElement).value as Role })}>
            {ROLES.map(([r, l]) => (
              <option key={r} value={r}>
                {t(l)}
              </option>
            ))}
          </select>
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.admin.common.cancel")}
          </button>
          <button class="btn primary" disabled={busy}>
            {t("app.admin.common.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function GroupsTab() {
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [edit, setEdit] = useState<Group | "new" | null>(null);
  const [err, setErr] = useState("");
  const load = () =>
    api.get<{ groups: Group[] }>("/groups").then(
      (g) => setGroups(g.groups),
      (e) => setErr(e.message),
    );
  useEffect(() => {
    load();
  }, []);
  const byId = new Map((groups || []).map((g) => [g.id, g]));
  // The contact tree: children under their parents.
  const ordered: { g: Group; depth: number }[] = [];
  const walk = (parent: number, depth: number) => {
    for (const g of (groups || []).filter((x) => (x.parent_id || 0) === parent).sort((a, b) => a.name.localeCompare(b.name))) {
      ordered.push({ g, depth });
      if (depth < 10) walk(g.id, depth + 1);
    }
  };
  walk(0, 0);
  for (const g of groups || []) if (g.parent_id && !byId.has(g.parent_id)) ordered.push({ g, depth: 0 });
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.groups.title")}</h2>
        <button class="btn primary" onClick={() => setEdit("new")}>
          {t("app.admin.groups.create")}
        </button>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {groups === null ? (
        <Spinner />
      ) : !groups.length ? (
        <p class="muted">{t("app.admin.groups.empty")}</p>
      ) : (
        <ul class="group-list">
          {ordered.map(({ g, depth }) => (
            <li key={g.id} style={{ paddingLeft: `${depth * 20}px` }}>
              <button class="group-row" onClick={() => setEdit(g)}>
                <strong class="ellipsis">{g.name}</strong>
                <span class="muted">
                  {t("app.admin.groups.memberCount", { n: g.member_ids?.length || 0 })}
                  {g.rights?.length ? " · " + g.rights.join(", ") : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {edit ? (
        <GroupEditor
          group={edit === "new" ? null : edit}
          groups={groups || []}
          onClose={() => setEdit(null)}
          onSaved={() => {
            setEdit(null);
            load();
          }}
        />
      ) : null}
    </section>
  );
}

function GroupEditor(props: { group: Group | null; groups: Group[]; onClose: () => void; onSaved: () => void }) {
  const g = props.group;
  const [name, setName] = useState(g?.name || "");
  const [parent, setParent] = useState(g?.parent_id || 0);
  const [rights, setRights] = useState<string[]>(g?.rights || []);
  const [members, setMembers] = useState<number[]>(g?.member_ids || []);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [picking, setPicking] = useState(false);
  const [err, setErr] = useState("");
  useEffect(() => {
    const ids = members.filter((id) => !names.has(id));
    if (!ids.length) return;
    api.get<{ users: User[] }>("/users" + api.qs({ ids: ids.slice(0, 500).join(","), limit: 500 })).then((r) => {
      const m = new Map(names);
      for (const u of r.users) m.set(u.id, u.name);
      setNames(m);
    });
  }, [members]);
  const save = async (e: Event) => {
    e.preventDefault();
    setErr("");
    try {
      const body = { name: name.trim(), parent_id: parent, rights, member_ids: members };
      if (g) await api.put(`/groups/${g.id}`, body);
      else await api.post("/groups", body);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  const remove = async () => {
    try {
      await api.del(`/groups/${g!.id}`);
      props.onSaved();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  return (
    <Modal title={g ? t("app.admin.groups.edit") : t("app.admin.groups.create")} onClose={props.onClose} wide>
      <form onSubmit={save}>
        <label class="field">
          <span>{t("app.admin.groups.name")}</span>
          <input class="input" required value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("app.admin.groups.parent")}</span>
          <select class="input" value={String(parent)} onChange={(e) => setParent(Number((e.currentTarget as HTMLSelectElement).value))}>
            <option value="0">{t("app.admin.groups.none")}</option>
            {props.groups
              .filter((x) => x.id !== g?.id)
              .map((x) => (
                <option key={x.id} value={String(x.id)}>
                  {x.name}
                </option>
              ))}
          </select>
        </label>
        <fieldset class="rights">
          <legend>{t("app.admin.groups.rights")}</legend>
          {RIGHTS.map(([r, l]) => (
            <label class="toggle" key={r}>
              <input type="checkbox" checked={rights.includes(r)} onChange={(e) => setRights((e.currentTarget as HTMLInputElement).checked ? [...rights, r] : rights.filter((x) => x !== r))} />
              <span class="toggle-text">
                {t(l)} <code>{r}</code>
              </span>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t("app.admin.groups.members", { n: members.length })}</legend>
          <div class="chips">
            {members.map((id) => (
              <button type="button" key={id} class="chip" aria-label={t("app.admin.groups.removeMember", { name: names.get(id) || String(id) })} onClick={() => setMembers(members.filter((x) => x !== id))}>
                {names.get(id) || "…"} ×
              </button>
            ))}
            <button type="button" class="btn small" onClick={() => setPicking(true)}>
              {t("app.admin.groups.addMembers")}
            </button>
          </div>
        </fieldset>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          {g ? (
            <button type="button" class="btn danger" onClick={remove}>
              {t("app.admin.groups.delete")}
            </button>
          ) : null}
          <span class="grow" />
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.admin.common.cancel")}
          </button>
          <button class="btn primary">{t("app.admin.common.save")}</button>
        </div>
      </form>
      {picking ? (
        <UserPicker
          title={t("app.admin.groups.addMembers")}
          confirm={t("app.admin.common.add")}
          exclude={members.filter((id) => id !== store.me.value?.id)}
          onClose={() => setPicking(false)}
          onPick={async (ids) => {
            setMembers([...new Set([...members, ...ids])]);
            setPicking(false);
          }}
        />
      ) : null}
    </Modal>
  );
}
