// The user panel (seed 001): photo, name, e-mail, groups, the client and
// version they last wrote from, "Copy" and "Add interlocutors"; and the
// members panel of a multi-chat.

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import { use } from "../sig";
import * as store from "../store";
import type { Conversation, User } from "../types";
import { copyText } from "../util";
import { Avatar, Spinner } from "./common";
import { Close } from "./icons";
import { lazy } from "./lazy";
import { FriendStar } from "./People";

const PhoneFacts = lazy(() => import("../lazy/SMS").then((m) => m.PhoneFacts));

const TaskForm = lazy(() => import("../lazy/Tasks").then((m) => m.TaskForm));
import { PanelCallButtons } from "./Calls";

const ROLE: Record<string, string> = { admin: "Administrator", supervisor: "Chat administrator", agent: "Agent", member: "Member" };

export function userInfo(u: User): string {
  return [
    u.name,
    u.email,
    ROLE[u.role] || u.role,
    u.groups?.length ? "Groups: " + u.groups.map((g) => g.name).join(", ") : "",
    u.last_client ? `Last client: ${u.last_client} ${u.last_client_version || ""}`.trim() : "",
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
    <aside class="side-panel" aria-label="User information">
      <header class="panel-head">
        <h2>Information</h2>
        <button class="icon-btn" aria-label="Close the panel" onClick={props.onClose}>
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
              <img src={api.thumbURL(u.photo_file_id)} alt={`Photo of ${u.name}`} width={120} height={120} />
            ) : (
              <Avatar id={u.id} name={u.name} size={120} />
            )}
          </div>
          <p class="client-line">
            {u.last_client ? (
              <>
                Last wrote from <strong>{u.last_client}</strong> {u.last_client_version ? "version " + u.last_client_version : ""}
              </>
            ) : (
              "Has not written from any client yet"
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
              {copied ? "Copied" : "Copy"}
            </button>
            <PanelCallButtons userId={u.id} name={u.name} conv={props.conv} />
            {isDirect && props.conv.state === "allowed" ? (
              <button class="btn small" onClick={props.onAddInterlocutors}>
                Add interlocutors
              </button>
            ) : null}
            {!isDirect && u.id !== me.id ? (
              <button class="btn small" onClick={() => store.openDirect(u.id).catch(store.fail)}>
                Write
              </button>
            ) : null}
            <FriendStar user={u} labelled />
            {u.active && !u.bot ? (
              <button class="btn small" onClick={() => setTasking(true)}>
                Create a task
              </button>
            ) : null}
          </div>
          {tasking ? <TaskForm assignee={u} conversationId={props.conv.id} onClose={() => setTasking(false)} onDone={() => setTasking(false)} /> : null}
          <h3 class="user-name">{u.name}</h3>
          <dl class="facts">
            <dt>E-mail</dt>
            <dd>
              <a href={"mailto:" + u.email}>{u.email}</a>
            </dd>
            <dt>Role</dt>
            <dd>{ROLE[u.role] || u.role}</dd>
            <dt>Status</dt>
            <dd>
              <span class={"presence-dot " + presence} /> {presence}
              {!u.active ? " (deactivated)" : ""}
            </dd>
            <dt>Groups</dt>
            <dd>{u.groups?.length ? u.groups.map((g) => <span class="chip static" key={g.id}>{g.name}</span>) : "None"}</dd>
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
    <aside class="side-panel" aria-label="Members">
      <header class="panel-head">
        <h2>Members ({props.c.members.length})</h2>
        <button class="icon-btn" aria-label="Close the panel" onClick={props.onClose}>
          <Close />
        </button>
      </header>
      {props.c.kind === "group" ? (
        <div class="panel-actions">
          <button class="btn small" onClick={props.onAdd}>
            Add members
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
                  {m.user_id === me.id ? " (you)" : ""}
                </span>
                <span class="person-sub">{m.email}</span>
              </span>
            </button>
            {props.c.kind === "group" && owner && m.user_id !== me.id ? (
              <button class="icon-btn small" aria-label={`Remove ${m.name}`} title="Remove from the chat" onClick={() => store.removeMember(props.c.id, m.user_id).catch(store.fail)}>
                <Close size={14} />
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </aside>
  );
}
