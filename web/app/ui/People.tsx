// Finding people: the "New message" window (a direct conversation with
// someone found by name or e-mail) and the picker used for multi-chats,
// "Add interlocutors" and adding members; the friend star shown beside a
// person wherever one is found.

import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import * as people from "../people";
import "../people.css";
import { use } from "../sig";
import * as store from "../store";
import type { User } from "../types";
import { debounce } from "../util";
import { Avatar, Modal, Spinner } from "./common";

function useDirectory(q: string, exclude: number[]) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState("");
  const run = useMemo(
    () =>
      debounce(async (text: string) => {
        try {
          const res = await api.get<{ users: User[] }>("/users" + api.qs({ q: text.trim(), limit: 30 }));
          setUsers(res.users.filter((u) => u.active));
          setError("");
        } catch (e) {
          setError((e as Error).message);
        }
      }, 150),
    [],
  );
  useEffect(() => run(q), [q, run]);
  return { users: users?.filter((u) => !exclude.includes(u.id)) ?? null, error };
}

/** listKeys lets ArrowUp/ArrowDown move from the search field through the results. */
function listKeys(e: KeyboardEvent) {
  const root = (e.currentTarget as HTMLElement).closest(".modal");
  if (!root) return;
  const items = [...root.querySelectorAll<HTMLElement>("[data-pick]")];
  const i = items.indexOf(document.activeElement as HTMLElement);
  if (e.key === "ArrowDown") {
    e.preventDefault();
    items[Math.min(items.length - 1, i + 1)]?.focus();
  } else if (e.key === "ArrowUp") {
    e.preventDefault();
    if (i <= 0) root.querySelector<HTMLInputElement>("input[type=search]")?.focus();
    else items[i - 1]?.focus();
  }
}

function PersonLine(props: { u: User }) {
  const u = props.u;
  return (
    <>
      <Avatar id={u.id} name={u.name} photo={u.photo_file_id} size={34} presence={u.presence} />
      <span class="person-main">
        <span class="person-name">{u.name}</span>
        <span class="person-sub">{u.email}</span>
      </span>
    </>
  );
}

export function NewMessage(props: { onClose: () => void }) {
  const [q, setQ] = useState("");
  const me = store.me.value!;
  const { users, error } = useDirectory(q, [me.id]);
  const [busy, setBusy] = useState(0);
  const open = async (u: User) => {
    setBusy(u.id);
    try {
      await store.openDirect(u.id);
      props.onClose();
    } catch (e) {
      store.fail(e);
      setBusy(0);
    }
  };
  return (
    <Modal title={t("app.people.find.newMessage")} onClose={props.onClose}>
      <div onKeyDown={listKeys}>
        <input
          type="search"
          class="input block"
          placeholder={t("app.people.find.search")}
          aria-label={t("app.people.find.search")}
          value={q}
          data-autofocus
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
        />
        {error ? <p class="form-error">{error}</p> : null}
        <ul class="people" aria-label={t("app.people.find.list")}>
          {users === null ? (
            <li class="muted">
              <Spinner />
            </li>
          ) : users.length === 0 ? (
            <li class="muted">{t("app.people.find.nobodyMatchesQuery", { q })}</li>
          ) : (
            users.map((u) => (
              <li key={u.id}>
                <button class="person" data-pick onClick={() => open(u)} disabled={busy === u.id}>
                  <PersonLine u={u} />
                </button>
              </li>
            ))
          )}
        </ul>
      </div>
    </Modal>
  );
}

export function UserPicker(props: {
  title: string;
  confirm: string;
  exclude?: number[];
  askTitle?: boolean;
  /** Offer the signed-in user too (associating specialists). */
  includeMe?: boolean;
  /** More fields above the search (the level of new specialists). */
  children?: ComponentChildren;
  onClose: () => void;
  onPick: (ids: number[], title: string) => Promise<void>;
}) {
  const me = store.me.value!;
  const [q, setQ] = useState("");
  const [title, setTitle] = useState("");
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const { users } = useDirectory(q, [...(props.includeMe ? [] : [me.id]), ...(props.exclude || [])]);
  const search = useRef<HTMLInputElement>(null);
  const toggle = (u: User) => setPicked(picked.some((p) => p.id === u.id) ? picked.filter((p) => p.id !== u.id) : [...picked, u]);
  const submit = async () => {
    setBusy(true);
    setError("");
    try {
      await props.onPick(
        picked.map((u) => u.id),
        title.trim(),
      );
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.people.find.cancel")}
          </button>
          <button class="btn primary" onClick={submit} disabled={busy || !picked.length}>
            {props.confirm}
            {picked.length ? ` (${picked.length})` : ""}
          </button>
        </>
      }
    >
      <div onKeyDown={listKeys}>
        {props.askTitle ? (
          <label class="field">
            <span>{t("app.people.find.titleOptional")}</span>
            <input class="input" value={title} maxLength={100} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
          </label>
        ) : null}
        {props.children}
        {picked.length ? (
          <div class="chips" aria-label={t("app.people.find.chosen")}>
            {picked.map((u) => (
              <button key={u.id} class="chip" onClick={() => toggle(u)} aria-label={t("app.people.find.remove", { name: u.name })}>
                {u.name} ×
              </button>
            ))}
          </div>
        ) : null}
        <input
          ref={search}
          type="search"
          class="input block"
          placeholder={t("app.people.find.search")}
          aria-label={t("app.people.find.search")}
          value={q}
          data-autofocus={props.askTitle ? undefined : true}
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
        />
        <ul class="people" aria-label={t("app.people.find.list")}>
          {users === null ? (
            <li class="muted">
              <Spinner />
            </li>
          ) : users.length === 0 ? (
            <li class="muted">{t("app.people.find.nobodyMatches")}</li>
          ) : (
            users.map((u) => {
              const on = picked.some((p) => p.id === u.id);
              return (
                <li key={u.id}>
                  <button class={"person" + (on ? " on" : "")} data-pick role="checkbox" aria-checked={on} onClick={() => toggle(u)}>
                    <span class="tickbox" aria-hidden="true">
                      {on ? "✓" : ""}
                    </span>
                    <PersonLine u={u} />
                  </button>
                </li>
              );
            })
          )}
        </ul>
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}

/** FriendStar adds the user to "My friends" or takes them off it. */
export function FriendStar(props: { user: User; labelled?: boolean }) {
  const list = use(people.friends);
  useEffect(() => {
    people.loadFriends().catch(() => {});
  }, []);
  const u = props.user;
  if (u.id === store.me.value?.id || !list) return null;
  const on = people.isFriend(u.id);
  const label = on ? t("app.people.star.remove", { name: u.name }) : t("app.people.star.add", { name: u.name });
  return (
    <button
      class={(props.labelled ? "btn small" : "icon-btn small") + " friend-star" + (on ? " on" : "")}
      aria-pressed={on}
      aria-label={props.labelled ? undefined : label}
      title={label}
      onClick={(e) => {
        e.stopPropagation();
        (on ? people.removeFriend(u) : people.addFriend(u)).catch(store.fail);
      }}
    >
      <span aria-hidden="true">{on ? "★" : "☆"}</span>
      {props.labelled ? " " + (on ? t("app.people.star.friend") : t("app.people.star.addToFriends")) : null}
    </button>
  );
}
