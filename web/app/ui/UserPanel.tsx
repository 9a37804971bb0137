// The user panel (seed 001): photo, name, e-mail, groups, the client and
// version they last wrote from, "Copy" and "Add interlocutors"; and the
// members panel of a multi-chat.

import { useEffect, useState } from "preact/hooks";
import { t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { use } from "../sig";
import * as store from "../store";
import type { Conversation, User } from "../types";
import { copyText } from "../util";
import { Avatar, Spinner } from "./common";
import { Close } from "./icons";
import { lazy } from "./lazy";
import { presenceLabel } from "../people";
import { FriendStar } from "./People";

const PhoneFacts = lazy(() => import("../lazy/SMS").then((m) => m.PhoneFacts));

const TaskForm = lazy(() => import("../lazy/Tasks").then((m) => m.TaskForm));
import { PanelCallButtons } from "./Calls";

const ROLE: Record<string, "app.people.role.admin" | "app.people.role.supervisor" | "app.people.role.agent" | "app.people.role.member"> = {
  admin: "app.people.role.admin",
  supervisor: "app.people.role.supervisor",
  agent: "app.people.role.agent",
  member: "app.people.role.member",
};

/** roleLabel is a role's name in the app's language (the code itself for one it does not know). */
const roleLabel = (role: string) => (ROLE[role] ? t(ROLE[role]) : role);

export function userInfo(u: User): string {
  return [
    u.name,
    u.email,
    roleLabel(u.role),
    u.groups?.length ? t("app.people.panel.copyGroups", { groups: u.groups.map((g) => g.name).join(", ") }) : "",
    u.last_client ? t("app.people.panel.copyClient", { client: u.last_client, version: u.last_client_version || "" }).trim() : "",
  ]
    .filter(Boolean)
    .join("\n");
}

export function UserPanel(props: { userId: number; conv: Conversation; onClose: () => void; onAddInterlocutors: () => void }) {
  const [u, setU] = useState<User | null>(null);
  const [err, setErr] = useState("");
  const [copied, setCopied] = useState(false);
  const [tasking, setTasking] = useState(false);
  use(store.presenceV);
  const me = store.me.value!;
  useEffect(() => {
    setU(null);
    api.get<User>(`/users/${props.userId}`).then(setU, (e) => setErr(e.message));
  }, [props.userId]);
  const presence = store.presenceOf(props.userId);
  const isDirect = props.conv.kind === "direct" && store.other(props.conv)?.user_id === props.userId;
  return (
    <aside class="side-panel" aria-label={t("app.people.panel.label")}>
      <header class="panel-head">
        <h2>{t("app.people.panel.title")}</h2>
        <button class="icon-btn" aria-label={t("app.people.panel.close")} onClick={props.onClose}>
          <Close />
        </button>
      </header>
      {err ? <p class="form-error">{err}</p> : null}
      {!u ? (
        <Spinner />
      ) : (
        <div class="user-card">
          <div class="photo">
            {u.photo_file_id ? (
              <img src={api.thumbURL(u.photo_file_id)} alt={t("app.people.panel.photoOf", { name: u.name })} width={120} height={120} />
            ) : (
              <Avatar id={u.id} name={u.name} size={120} />
            )}
          </div>
          <p class="client-line">
            {u.last_client ? (
              <>
                {u.last_client_version
                  ? tp("app.people.panel.lastWroteVersion", { client: <strong>{u.last_client}</strong>, version: u.last_client_version })
                  : tp("app.people.panel.lastWrote", { client: <strong>{u.last_client}</strong> })}
              </>
            ) : (
              t("app.people.panel.neverWrote")
            )}
          </p>
          <div class="panel-actions">
            <button
              class="btn small"
              onClick={async () => {
                try {
                  await copyText(userInfo(u));
                  setCopied(true);
                  setTimeout(() => setCopied(false), 2000);
                } catch (e) {
                  store.fail(e);
                }
              }}
            >
              {copied ? t("app.people.panel.copied") : t("app.people.panel.copy")}
            </button>
            <PanelCallButtons userId={u.id} name={u.name} conv={props.conv} />
            {isDirect && props.conv.state === "allowed" ? (
              <button class="btn small" onClick={props.onAddInterlocutors}>
                {t("app.people.panel.addInterlocutors")}
              </button>
            ) : null}
            {!isDirect && u.id !== me.id ? (
              <button class="btn small" onClick={() => store.openDirect(u.id).catch(store.fail)}>
                {t("app.people.panel.write")}
              </button>
            ) : null}
            <FriendStar user={u} labelled />
            {u.active && !u.bot ? (
              <button class="btn small" onClick={() => setTasking(true)}>
                {t("app.people.panel.createTask")}
              </button>
            ) : null}
          </div>
          {tasking ? <TaskForm assignee={u} conversationId={props.conv.id} onClose={() => setTasking(false)} onDone={() => setTasking(false)} /> : null}
          <h3 class="user-name">{u.name}</h3>
          <dl class="facts">
            <dt>{t("app.people.panel.email")}</dt>
            <dd>
              <a href={"mailto:" + u.email}>{u.email}</a>
            </dd>
            <dt>{t("app.people.panel.role")}</dt>
            <dd>{roleLabel(u.role)}</dd>
            <dt>{t("app.people.panel.status")}</dt>
            <dd>
              <span class={"presence-dot " + presence} /> {presenceLabel(presence)}
              {!u.active ? " " + t("app.people.panel.deactivated") : ""}
            </dd>
            <dt>{t("app.people.panel.groups")}</dt>
            <dd>{u.groups?.length ? u.groups.map((g) => <span class="chip static" key={g.id}>{g.name}</span>) : t("app.people.panel.none")}</dd>
          </dl>
          <PhoneFacts userId={u.id} />
        </div>
      )}
    </aside>
  );
}

export function MembersPanel(props: { c: Conversation; onClose: () => void; onUser: (id: number) => void; onAdd: () => void }) {
  use(store.presenceV);
  const me = store.me.value!;
  const owner = props.c.created_by === me.id || me.role === "admin" || me.role === "supervisor";
  return (
    <aside class="side-panel" aria-label={t("app.people.members.label")}>
      <header class="panel-head">
        <h2>{t("app.people.members.title", { n: props.c.members.length })}</h2>
        <button class="icon-btn" aria-label={t("app.people.panel.close")} onClick={props.onClose}>
          <Close />
        </button>
      </header>
      {props.c.kind === "group" ? (
        <div class="panel-actions">
          <button class="btn small" onClick={props.onAdd}>
            {t("app.people.members.add")}
          </button>
        </div>
      ) : null}
      <ul class="people">
        {props.c.members.map((m) => (
          <li key={m.user_id} class="member">
            <button class="person" onClick={() => props.onUser(m.user_id)}>
              <Avatar id={m.user_id} name={m.name} photo={m.photo_file_id} size={32} presence={store.presenceOf(m.user_id)} />
              <span class="person-main">
                <span class="person-name">
                  {m.name}
                  {m.user_id === me.id ? " " + t("app.people.members.you") : ""}
                </span>
                <span class="person-sub">{m.email}</span>
              </span>
            </button>
            {props.c.kind === "group" && owner && m.user_id !== me.id ? (
              <button class="icon-btn small" aria-label={t("app.people.members.remove", { name: m.name })} title={t("app.people.members.removeTitle")} onClick={() => store.removeMember(props.c.id, m.user_id).catch(store.fail)}>
                <Close size={14} />
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </aside>
  );
}
