// The People page (seed 001): "My friends" with presence, and the
// organisation's contact tree (departments are the groups, nested by
// parent) with its members' presence. A search filters either tab. From
// any person: start a chat (double click, Enter, Ctrl+Enter or "Chat"),
// add to or remove from friends, open their panel.
//
// The tree follows the WAI-ARIA tree pattern: one tab stop; Up/Down move,
// Right opens a department or goes into it, Left closes it or goes to its
// parent, Home/End jump, Enter opens a chat (on a person) or toggles (on a
// department).

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import * as people from "../people";
import { navigate } from "../router";
import { use } from "../sig";
import * as store from "../store";
import type { Group, User } from "../types";
import { Avatar, Spinner } from "../ui/common";
import { Back, Search } from "../ui/icons";

type Tab = "friends" | "org";

async function loadDirectory(): Promise<User[]> {
  const out: User[] = [];
  let cursor = "";
  // An organisation of a few thousand people loads in a few pages.
  for (let i = 0; i < 20; i++) {
    const page = await api.get<{ users: User[]; next_cursor?: string }>("/users" + api.qs({ limit: 500, cursor }));
    out.push(...page.users);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out.filter((u) => u.active && !u.bot);
}

function matches(u: User, q: string) {
  return !q || (u.name + " " + u.email).toLowerCase().includes(q);
}

export function PeoplePage(props: { tab: Tab }) {
  const tab = props.tab;
  const [q, setQ] = useState("");
  const query = q.trim().toLowerCase();
  const tabs: { id: Tab; label: string; href: string }[] = [
    { id: "friends", label: t("app.people.page.friends"), href: "/people" },
    { id: "org", label: t("app.people.page.org"), href: "/people/org" },
  ];
  const search = tab === "org" ? t("app.people.page.searchOrg") : t("app.people.page.searchFriends");
  const tabKeys = (e: KeyboardEvent) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const next = tabs[(tabs.findIndex((x) => x.id === tab) + 1) % tabs.length];
    navigate(next.href, true);
    requestAnimationFrame(() => document.getElementById("people-tab-" + next.id)?.focus());
  };
  return (
    <section class="pane page people-page" aria-labelledby="people-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label={t("app.people.page.back")} onClick={() => navigate("/")}>
          <Back />
        </button>
        <h1 id="people-title">{t("app.people.page.title")}</h1>
      </header>
      <div class="people-bar">
        <div class="people-tabs" role="tablist" aria-label={t("app.people.page.tabs")} onKeyDown={tabKeys}>
          {tabs.map((x) => (
            <button
              key={x.id}
              id={"people-tab-" + x.id}
              role="tab"
              aria-selected={tab === x.id}
              aria-controls="people-panel"
              tabIndex={tab === x.id ? 0 : -1}
              class={tab === x.id ? "on" : ""}
              onClick={() => navigate(x.href, true)}
            >
              {x.label}
            </button>
          ))}
        </div>
        <label class="people-search">
          <Search size={16} />
          <input
            type="search"
            placeholder={search}
            aria-label={search}
            value={q}
            onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") setQ("");
              if (e.key === "ArrowDown") {
                e.preventDefault();
                document.querySelector<HTMLElement>("#people-panel [data-nav]")?.focus();
              }
            }}
          />
        </label>
      </div>
      <div id="people-panel" role="tabpanel" aria-labelledby={"people-tab-" + tab} class="people-body">
        {tab === "friends" ? <Friends query={query} /> : <OrgTree query={query} />}
      </div>
    </section>
  );
}

/** PersonActions: Chat, and add to or remove from friends. */
function PersonActions(props: { u: User }) {
  use(people.friends);
  const me = store.me.value!;
  const u = props.u;
  const friend = people.isFriend(u.id);
  if (u.id === me.id) return <span class="muted small">{t("app.people.page.you")}</span>;
  return (
    <span class="person-actions">
      <button class="btn small" tabIndex={-1} onClick={() => store.openDirect(u.id).catch(store.fail)} title={t("app.people.page.chatTitle")}>
        {t("app.people.page.chat")}
      </button>
      <button
        class={"btn small" + (friend ? " on" : "")}
        tabIndex={-1}
        aria-pressed={friend}
        title={friend ? t("app.people.page.removeTitle") : t("app.people.page.addTitle")}
        onClick={() => (friend ? people.removeFriend(u) : people.addFriend(u)).catch(store.fail)}
      >
        {friend ? "★ " + t("app.people.page.friend") : "☆ " + t("app.people.page.addFriend")}
      </button>
    </span>
  );
}

/** personKeys are a person row's keys: Enter/Ctrl+Enter chat, + or Insert adds a friend, Delete removes one. */
function personKey(e: KeyboardEvent, u: User): boolean {
  if (e.key === "Enter") {
    store.openDirect(u.id).catch(store.fail);
    return true;
  }
  if ((e.key === "+" || e.key === "Insert") && !people.isFriend(u.id) && u.id !== store.me.value?.id) {
    people.addFriend(u).catch(store.fail);
    return true;
  }
  if (e.key === "Delete" && people.isFriend(u.id)) {
    people.removeFriend(u).catch(store.fail);
    return true;
  }
  return false;
}

function PersonRow(props: { u: User; sub?: string }) {
  use(store.presenceV);
  const u = props.u;
  const p = people.presence(u);
  return (
    <>
      <Avatar id={u.id} name={u.name} photo={u.photo_file_id} size={34} presence={p} />
      <span class="person-main">
        <span class="person-name">{u.name}</span>
        <span class="person-sub">
          <span class={"presence-word " + p}>{people.presenceLabel(p)}</span> · {props.sub ?? u.email}
        </span>
      </span>
      <PersonActions u={u} />
    </>
  );
}

/** listNav moves the focus through the [data-nav] rows of a list with the arrows, Home and End. */
function listNav(e: KeyboardEvent): boolean {
  const root = e.currentTarget as HTMLElement;
  const rows = [...root.querySelectorAll<HTMLElement>("[data-nav]")];
  const i = rows.indexOf(document.activeElement as HTMLElement);
  let j = -1;
  if (e.key === "ArrowDown") j = Math.min(rows.length - 1, i + 1);
  else if (e.key === "ArrowUp") {
    if (i <= 0) {
      document.querySelector<HTMLInputElement>(".people-search input")?.focus();
      return true;
    }
    j = i - 1;
  } else if (e.key === "Home") j = 0;
  else if (e.key === "End") j = rows.length - 1;
  else return false;
  rows[j]?.focus();
  return true;
}

function Friends(props: { query: string }) {
  const list = use(people.friends);
  const [err, setErr] = useState("");
  useEffect(() => {
    people.loadFriends(true).catch((e) => setErr((e as Error).message));
  }, []);
  if (err) return <p class="form-error">{err}</p>;
  if (!list) return <Spinner label={t("app.people.page.loadingFriends")} />;
  const shown = list.filter((u) => matches(u, props.query));
  if (!list.length)
    return (
      <div class="people-empty">
        <p>{t("app.people.page.noFriends")}</p>
        <p class="muted">{t("app.people.page.noFriendsHint")}</p>
        <button class="btn" onClick={() => navigate("/people/org", true)}>
          {t("app.people.page.browse")}
        </button>
      </div>
    );
  if (!shown.length) return <p class="muted people-empty">{t("app.people.page.noFriendMatches", { q: props.query })}</p>;
  // Online first, then away, then the rest; by name within each.
  const order = { online: 0, away: 1, offline: 2 };
  shown.sort((a, b) => order[people.presence(a)] - order[people.presence(b)] || a.name.localeCompare(b.name));
  return (
    <ul class="people friends-list" aria-label={t("app.people.page.friends")} onKeyDown={(e) => listNav(e) && e.preventDefault()}>
      {shown.map((u, i) => (
        <li key={u.id}>
          <div
            class="person"
            data-nav
            tabIndex={i === 0 ? 0 : -1}
            aria-label={t("app.people.page.row", { name: u.name, presence: people.presenceLabel(people.presence(u)) })}
            onDblClick={() => store.openDirect(u.id).catch(store.fail)}
            onKeyDown={(e) => personKey(e, u) && e.preventDefault()}
          >
            <PersonRow u={u} />
          </div>
        </li>
      ))}
    </ul>
  );
}

type Node =
  | { t: "group"; key: string; g: Group; depth: number; open: boolean; count: number; parent?: string }
  | { t: "user"; key: string; u: User; depth: number; parent?: string };

const NO_DEPT = -1;

function OrgTree(props: { query: string }) {
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [users, setUsers] = useState<User[] | null>(null);
  const [err, setErr] = useState("");
  const [open, setOpen] = useState<Record<number, boolean>>({});
  const [focus, setFocus] = useState("");
  const tree = useRef<HTMLUListElement>(null);
  useEffect(() => {
    people.loadFriends().catch(() => {});
    Promise.all([api.get<{ groups: Group[] }>("/groups"), loadDirectory()]).then(
      ([g, u]) => {
        setGroups(g.groups);
        setUsers(u);
      },
      (e) => setErr((e as Error).message),
    );
  }, []);

  const nodes = useMemo(() => {
    if (!groups || !users) return [];
    const byId = new Map(users.map((u) => [u.id, u]));
    const children = new Map<number, Group[]>();
    const ids = new Set(groups.map((g) => g.id));
    for (const g of groups) {
      const p = g.parent_id && ids.has(g.parent_id) ? g.parent_id : 0;
      if (!children.has(p)) children.set(p, []);
      children.get(p)!.push(g);
    }
    for (const list of children.values()) list.sort((a, b) => a.name.localeCompare(b.name));
    const inSome = new Set(groups.flatMap((g) => g.member_ids));
    const loose = users.filter((u) => !inSome.has(u.id));
    const q = props.query;
    const membersOf = (g: Group) =>
      g.member_ids
        .map((id) => byId.get(id))
        .filter((u): u is User => !!u)
        .sort((a, b) => a.name.localeCompare(b.name));
    // hits: how many people match under a department (itself included);
    // a department whose name matches shows all of its people.
    const hits = new Map<number, number>();
    const count = (g: Group, nameHit: boolean): number => {
      const self = nameHit || (!!q && g.name.toLowerCase().includes(q));
      let n = membersOf(g).filter((u) => self || matches(u, q)).length;
      for (const c of children.get(g.id) || []) n += count(c, self);
      if (self && !n) n = 0.5; // a matching department with nobody in it is still shown
      hits.set(g.id, n);
      return n;
    };
    for (const g of children.get(0) || []) count(g, false);
    const out: Node[] = [];
    const walk = (g: Group, depth: number, parent: string | undefined, nameHit: boolean) => {
      const self = nameHit || (!!q && g.name.toLowerCase().includes(q));
      if (q && !hits.get(g.id)) return;
      const key = "g" + g.id;
      const isOpen = q ? true : !!open[g.id];
      const members = membersOf(g).filter((u) => self || matches(u, q));
      out.push({ t: "group", key, g, depth, open: isOpen, count: q ? Math.floor(hits.get(g.id) || 0) : g.member_ids.length, parent });
      if (!isOpen) return;
      for (const c of children.get(g.id) || []) walk(c, depth + 1, key, self);
      for (const u of members) out.push({ t: "user", key: key + "u" + u.id, u, depth: depth + 1, parent: key });
    };
    for (const g of children.get(0) || []) walk(g, 0, undefined, false);
    const looseShown = loose.filter((u) => matches(u, q));
    if (looseShown.length) {
      const g: Group = { id: NO_DEPT, name: t("app.people.page.noDepartment"), rights: [], member_ids: looseShown.map((u) => u.id), created_at: "" };
      const isOpen = q ? true : !!open[NO_DEPT];
      out.push({ t: "group", key: "g-none", g, depth: 0, open: isOpen, count: looseShown.length });
      if (isOpen) for (const u of looseShown.sort((a, b) => a.name.localeCompare(b.name))) out.push({ t: "user", key: "g-noneu" + u.id, u, depth: 1, parent: "g-none" });
    }
    return out;
  }, [groups, users, open, props.query]);

  // The roving tab stop stays on a visible row.
  const current = nodes.find((n) => n.key === focus) ? focus : nodes[0]?.key || "";
  const focusKey = (key: string) => {
    setFocus(key);
    // A row already drawn takes focus now (a key pressed next goes to it);
    // one that appears with this render, after it.
    const row = () => tree.current?.querySelector<HTMLElement>(`[data-key="${key}"]`);
    const now = row();
    if (now) now.focus();
    else requestAnimationFrame(() => row()?.focus());
  };
  const toggle = (g: Group, to?: boolean) => setOpen((o) => ({ ...o, [g.id]: to ?? !o[g.id] }));

  const onKey = (e: KeyboardEvent) => {
    const key = (document.activeElement as HTMLElement)?.dataset?.key;
    const i = nodes.findIndex((n) => n.key === key);
    if (i < 0) return;
    const n = nodes[i];
    let handled = true;
    switch (e.key) {
      case "ArrowDown":
        if (i + 1 < nodes.length) focusKey(nodes[i + 1].key);
        break;
      case "ArrowUp":
        if (i > 0) focusKey(nodes[i - 1].key);
        else document.querySelector<HTMLInputElement>(".people-search input")?.focus();
        break;
      case "Home":
        focusKey(nodes[0].key);
        break;
      case "End":
        focusKey(nodes[nodes.length - 1].key);
        break;
      case "ArrowRight":
        if (n.t === "group") {
          if (!n.open) toggle(n.g, true);
          else if (nodes[i + 1]?.parent === n.key) focusKey(nodes[i + 1].key);
        }
        break;
      case "ArrowLeft":
        if (n.t === "group" && n.open && !props.query) toggle(n.g, false);
        else if (n.parent) focusKey(n.parent);
        break;
      case "Enter":
      case " ":
        if (n.t === "group") toggle(n.g);
        else if (e.key === "Enter") handled = personKey(e, n.u);
        else handled = false;
        break;
      default:
        handled = n.t === "user" ? personKey(e, n.u) : false;
    }
    if (handled) e.preventDefault();
  };

  if (err) return <p class="form-error">{err}</p>;
  if (!groups || !users) return <Spinner label={t("app.people.page.loadingOrg")} />;
  if (!nodes.length)
    return <p class="muted people-empty">{props.query ? t("app.people.page.nothingMatches", { q: props.query }) : t("app.people.page.emptyOrg")}</p>;
  return (
    <ul class="org-tree" role="tree" aria-label={t("app.people.page.tree")} ref={tree} onKeyDown={onKey}>
      {nodes.map((n) =>
        n.t === "group" ? (
          <li
            key={n.key}
            role="treeitem"
            aria-level={n.depth + 1}
            aria-expanded={n.open}
            data-key={n.key}
            data-nav
            tabIndex={n.key === current ? 0 : -1}
            class="tree-group"
            style={{ paddingLeft: `${8 + n.depth * 20}px` }}
            onFocus={() => setFocus(n.key)}
            onClick={() => {
              setFocus(n.key);
              if (!props.query) toggle(n.g);
            }}
          >
            <span class="caret" aria-hidden="true">
              {n.open ? "▾" : "▸"}
            </span>
            <span class="tree-name">{n.g.name}</span>
            <span class="count" aria-label={t("app.people.page.count", { n: n.count })}>
              {n.count}
            </span>
          </li>
        ) : (
          <li
            key={n.key}
            role="treeitem"
            aria-level={n.depth + 1}
            aria-label={t("app.people.page.row", { name: n.u.name, presence: people.presenceLabel(people.presence(n.u)) })}
            data-key={n.key}
            data-nav
            tabIndex={n.key === current ? 0 : -1}
            class="person tree-person"
            style={{ paddingLeft: `${8 + n.depth * 20}px` }}
            onFocus={() => setFocus(n.key)}
            onDblClick={() => store.openDirect(n.u.id).catch(store.fail)}
          >
            <PersonRow u={n.u} />
          </li>
        ),
      )}
    </ul>
  );
}
