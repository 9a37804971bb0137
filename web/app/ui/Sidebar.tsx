// The sidebar: the user menu (Settings, Assistance, Administration, Sign
// out), a specialist's availability for the distribution, a search box, and one windowed list with the Direct messages block,
// the multi-chats and the Assistance chats. While searching, the list shows
// matching conversations, people from the directory and messages.

import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import * as api from "../api";
import * as live from "../livechat";
import { convURL, navigate, onLink, route } from "../router";
import { memo, use, useSelect } from "../sig";
import * as store from "../store";
import type { Conversation, Message, User } from "../types";
import { debounce, messagePreview, shortWhen } from "../util";
import { AvailabilityButton } from "./Availability";
import { Avatar, Menu, useMenu } from "./common";
import { Gear, Help, Plus, Search, Users } from "./icons";
import { DialogRow } from "./DialogRow";
import { SideTabs } from "./Inbox";
import { FriendStar, NewMessage, UserPicker } from "./People";
import { VirtualList, type VirtualListHandle } from "./VirtualList";
import { ChatMarks } from "./ChatBits";
import { mutedNow } from "../chat";
import { t, tp } from "../../i18n/i18n";

type Item =
  | { t: "head"; key: string; label: string; section: string; count: number; action?: { label: string; run: () => void; icon?: "cases" } }
  | { t: "conv"; key: number; id: number }
  | { t: "dlg"; key: string; id: number }
  | { t: "user"; key: string; user: User }
  | { t: "msg"; key: string; msg: Message }
  | { t: "note"; key: string; text: string };

const SECTIONS = [
  { kind: "direct", label: "app.account.sidebar.direct" },
  { kind: "group", label: "app.account.sidebar.groups" },
  { kind: "assistance", label: "app.account.sidebar.assistance" },
] as const satisfies readonly { kind: Conversation["kind"]; label: string }[];

export function Sidebar() {
  const me = use(store.me)!;
  const r = use(route);
  const order = use(store.orderV);
  const [q, setQ] = useState("");
  const dialogOrder = use(live.dialogOrderV);
  const specialist = use(live.isSpecialist);
  // Names matter for the visitors' rows only while searching.
  const dialogContent = useSelect([live.dialogsV], () => (q.trim() ? live.dialogsV.value : 0));
  // Titles matter for the rows only while searching.
  const content = useSelect([store.convsV], () => (q.trim() ? store.convsV.value : 0));
  use(store.chatSettings, store.rights);
  const loadingMore = use(store.convsLoading);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  const [modal, setModal] = useState<"" | "direct" | "group">("");
  const [people, setPeople] = useState<User[]>([]);
  const [found, setFound] = useState<Message[]>([]);
  const menu = useMenu();
  const list = useRef<VirtualListHandle>(null);
  const search = useRef<HTMLInputElement>(null);

  // Server-side search for people and messages, as you type.
  const remote = useMemo(
    () =>
      debounce(async (text: string) => {
        if (text.trim().length < 2) {
          setPeople([]);
          setFound([]);
          return;
        }
        const [u, m] = await Promise.all([
          api.get<{ users: User[] }>("/users" + api.qs({ q: text, limit: 8 })).catch(() => ({ users: [] as User[] })),
          api.get<{ messages: Message[] }>("/search" + api.qs({ q: text, limit: 20 })).catch(() => ({ messages: [] as Message[] })),
        ]);
        setPeople(u.users.filter((x) => x.id !== me.id && x.active));
        store.know(m.messages || []);
        setFound(m.messages || []);
      }, 200),
    [me.id],
  );

  useLayoutEffect(() => {
    // For the cold-start budget: the list is in the page and usable.
    if (!performance.getEntriesByName("parley-list").length) performance.mark("parley-list");
  }, []);

  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        search.current?.focus();
        search.current?.select();
      }
    };
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, []);

  const items = useMemo(() => {
    const out: Item[] = [];
    const query = q.trim().toLowerCase();
    const byKind: Record<string, number[]> = { direct: [], group: [], assistance: [], support: [] };
    if (specialist) {
      const ids = live.dialogOrder.filter((id) => {
        if (!query) return true;
        const d = live.dialogs.get(id)!;
        return (live.contactName(d) + " " + (d.contact?.email || "")).toLowerCase().includes(query);
      });
      out.push({
        t: "head",
        key: "h-visitors",
        label: t("app.account.sidebar.visitors"),
        section: "visitors",
        count: ids.length,
        action: { label: t("app.account.sidebar.cases"), run: () => navigate("/cases"), icon: "cases" },
      });
      if (!collapsed.visitors || query) for (const id of ids) out.push({ t: "dlg", key: "d-" + id, id });
      if (!ids.length && (!collapsed.visitors || query))
        out.push({ t: "note", key: "n-visitors", text: query ? t("app.account.sidebar.noMatches") : t("app.account.sidebar.noVisitors") });
    }
    for (const id of store.convOrder) {
      const c = store.convs.get(id)!;
      if (query) {
        const hay = (store.convTitle(c) + " " + (c.members || []).map((m) => m.name + " " + m.email).join(" ")).toLowerCase();
        if (!hay.includes(query)) continue;
      }
      (byKind[c.kind] || byKind.support).push(id);
    }
    for (const s of SECTIONS) {
      const ids = byKind[s.kind];
      // Shown from the start wherever Assistance can be used, not only after the first question.
      const ask = store.chatSettings.value.assistance_enabled && store.chatSettings.value.assistance_admin_id !== store.me.value?.id;
      if (s.kind === "assistance" && !ids.length && !ask) continue;
      const action =
        s.kind === "direct"
          ? { label: t("app.account.sidebar.newMessage"), run: () => setModal("direct") }
          : s.kind === "group"
            ? { label: t("app.account.sidebar.newGroup"), run: () => setModal("group") }
            : undefined;
      out.push({ t: "head", key: "h-" + s.kind, label: t(s.label), section: s.kind, count: ids.length, action });
      if (collapsed[s.kind] && !query) continue;
      for (const id of ids) out.push({ t: "conv", key: id, id });
      if (!ids.length)
        out.push({
          t: "note",
          key: "n-" + s.kind,
          text: query
            ? t("app.account.sidebar.noMatches")
            : s.kind === "direct"
              ? t("app.account.sidebar.noDirect")
              : s.kind === "assistance"
                ? t("app.account.sidebar.noAssistance")
                : t("app.account.sidebar.noGroups"),
        });
    }
    if (query) {
      if (people.length) {
        out.push({ t: "head", key: "h-people", label: t("app.account.sidebar.people"), section: "people", count: people.length });
        for (const u of people) out.push({ t: "user", key: "u-" + u.id, user: u });
      }
      out.push({ t: "head", key: "h-msgs", label: t("app.account.sidebar.messages"), section: "msgs", count: found.length });
      if (!found.length) out.push({ t: "note", key: "n-msgs", text: query.length < 2 ? t("app.account.sidebar.typeMore") : t("app.account.sidebar.noMessages") });
      for (const m of found) out.push({ t: "msg", key: "m-" + m.id, msg: m });
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [order, content, q, collapsed, people, found, dialogOrder, specialist, dialogContent, store.chatSettings.value]);

  const activeId = r.name === "conv" ? r.convId : 0;
  const activeDialog = r.name === "dialog" ? r.id : 0;
  const cs = store.chatSettings.value;
  const assistance = cs.assistance_enabled && cs.assistance_admin_id !== me.id;

  const userMenu = [
    ...(assistance ? [{ label: t("app.account.sidebar.assistance"), onSelect: () => store.openAssistance().catch(store.fail) }] : []),
    { label: t("app.account.sidebar.people"), onSelect: () => navigate("/people") },
    { label: t("app.account.sidebar.settings"), onSelect: () => navigate("/settings") },
    { label: t("app.account.sidebar.myTasks"), onSelect: () => navigate("/tasks") },
    ...(specialist || store.canManageChat(me) ? [{ label: t("app.account.sidebar.cases"), onSelect: () => navigate("/cases") }] : []),
    ...(store.canAdminister(me) ? [{ label: t("app.account.sidebar.administration"), onSelect: () => navigate("/admin") }] : []),
    { label: t("app.account.sidebar.signOut"), onSelect: () => store.logout() },
  ];

  // Arrow keys move between results only: section headers and notes are
  // skipped (a header's button stays reachable with Tab; Enter on it would
  // collapse the section instead of opening a result). The list is windowed,
  // so the target row may have to be scrolled into existence first.
  const result = (i: number) => i >= 0 && i < items.length && items[i].t !== "head" && items[i].t !== "note";
  /** focusRow moves the focus to the first result at or after from (step 1) or before it (step -1). */
  const focusRow = (from: number, step: 1 | -1) => {
    let target = from;
    while (target >= 0 && target < items.length && !result(target)) target += step;
    if (!result(target)) return false;
    const el = list.current?.element();
    list.current?.scrollToIndex(target, step > 0 ? "end" : "start");
    // A row already rendered takes the focus at once; one scrolled into
    // existence, on the next frame.
    const row = () => el?.querySelector<HTMLElement>(`[data-row="${target}"]`);
    const now = row();
    if (now) now.focus();
    else requestAnimationFrame(() => row()?.focus());
    return true;
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Home" && e.key !== "End") return;
    const cur = (document.activeElement as HTMLElement)?.closest<HTMLElement>("[data-row]");
    const i = cur ? Number(cur.dataset.row) : -1;
    const moved =
      e.key === "Home" ? focusRow(0, 1) : e.key === "End" ? focusRow(items.length - 1, -1) : focusRow(i + (e.key === "ArrowDown" ? 1 : -1), e.key === "ArrowDown" ? 1 : -1);
    // Up from the first result goes back to the search box.
    if (!moved && e.key === "ArrowUp") search.current?.focus();
    e.preventDefault();
  };

  return (
    <nav class="sidebar" aria-label={t("app.account.sidebar.conversations")}>
      <div class="side-top">
        <button class="me-btn" onClick={(e) => menu.open(e.currentTarget as HTMLElement)} aria-haspopup="menu" title={t("app.account.sidebar.menu")} aria-label={t("app.account.sidebar.menuOf", { name: me.name })}>
          <Avatar id={me.id} name={me.name} photo={me.photo_file_id} size={32} presence="online" />
          <span class="me-name">{me.name}</span>
          <span class="chev" aria-hidden="true">
            ▾
          </span>
        </button>
        {assistance ? (
          <button class="btn small labelled-icon" title={t("app.account.sidebar.assistanceTitle")} onClick={() => store.openAssistance().catch(store.fail)}>
            <Help size={16} /> {t("app.account.sidebar.assistance")}
          </button>
        ) : null}
        <AvailabilityButton />
        <button class={"icon-btn" + (r.name === "people" ? " on" : "")} title={t("app.account.sidebar.peopleTitle")} aria-label={t("app.account.sidebar.people")} onClick={() => navigate("/people")}>
          <Users />
        </button>
        <button class="icon-btn" title={t("app.account.sidebar.settings")} aria-label={t("app.account.sidebar.settings")} onClick={() => navigate("/settings")}>
          <Gear />
        </button>
      </div>
      {menu.at ? <Menu x={menu.at.x} y={menu.at.y} items={userMenu} onClose={menu.close} label={t("app.account.sidebar.menu")} /> : null}
      {store.canAdminister(me) ? <AdminHint userId={me.id} at={r.name === "admin"} /> : null}
      <SideTabs />
      <div class="side-search">
        <Search size={16} />
        <input
          ref={search}
          type="search"
          placeholder={t("app.account.sidebar.search")}
          aria-label={t("app.account.sidebar.searchLabel")}
          value={q}
          onInput={(e) => {
            const v = (e.currentTarget as HTMLInputElement).value;
            setQ(v);
            remote(v);
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              setQ("");
              remote("");
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              focusRow(0, 1);
            } else if (e.key === "Enter" && q.trim()) {
              // Enter in the quick search opens the first result.
              e.preventDefault();
              const i = items.findIndex((_, j) => result(j));
              if (i < 0) return;
              list.current?.scrollToIndex(i, "start");
              requestAnimationFrame(() => list.current?.element()?.querySelector<HTMLElement>(`[data-row="${i}"]`)?.click());
            }
          }}
        />
      </div>
      <VirtualList
        handle={list}
        class="conv-list"
        role="list"
        label={t("app.account.sidebar.conversations")}
        count={items.length}
        version={items}
        keyAt={(i) => items[i].key}
        estimate={(i) => (items[i].t === "head" ? 36 : items[i].t === "note" ? 44 : 62)}
        onKeyDown={onKey}
        render={(i) => {
          const it = items[i];
          switch (it.t) {
            case "head":
              return (
                <div class="side-head" role="listitem">
                  <button
                    class="side-head-btn"
                    data-row={i}
                    aria-expanded={!collapsed[it.section]}
                    onClick={() => setCollapsed({ ...collapsed, [it.section]: !collapsed[it.section] })}
                  >
                    <span class="caret">{collapsed[it.section] ? "▸" : "▾"}</span>
                    {it.label}
                    <span class="count">{it.count}</span>
                  </button>
                  {it.action ? (
                    it.action.icon === "cases" ? (
                      <button class="btn small head-link" title={t("app.account.sidebar.casesTitle")} onClick={it.action.run}>
                        {it.action.label}
                      </button>
                    ) : (
                      <button class="icon-btn small" title={it.action.label} aria-label={it.action.label} onClick={it.action.run}>
                        <Plus size={16} />
                      </button>
                    )
                  ) : null}
                </div>
              );
            case "conv":
              return <ConvRow id={it.id} row={i} active={it.id === activeId} />;
            case "dlg":
              return <DialogRow id={it.id} row={i} active={it.id === activeDialog} href={`/d/${it.id}`} />;
            case "user":
              return (
                <div role="listitem" class="user-hit">
                  <button class="conv-row" data-row={i} onClick={() => store.openDirect(it.user.id).catch(store.fail)}>
                    <Avatar id={it.user.id} name={it.user.name} photo={it.user.photo_file_id} size={36} presence={it.user.presence} />
                    <span class="conv-main">
                      <span class="conv-title">{it.user.name}</span>
                      <span class="conv-sub">{it.user.email}</span>
                    </span>
                  </button>
                  <FriendStar user={it.user} />
                </div>
              );
            case "msg": {
              const c = store.convs.get(it.msg.conversation_id);
              return (
                <div role="listitem">
                  <a
                    class="conv-row"
                    data-row={i}
                    href={convURL(it.msg.conversation_id, it.msg.id)}
                    onClick={onLink}
                  >
                    <span class="conv-main">
                      <span class="conv-title">
                        {store.senderName(it.msg)} · {c ? store.convTitle(c) : t("app.account.sidebar.conversation")}
                      </span>
                      <span class="conv-sub">{messagePreview(it.msg)}</span>
                    </span>
                    <span class="conv-when">{shortWhen(it.msg.created_at)}</span>
                  </a>
                </div>
              );
            }
            case "note":
              return (
                <div class="side-note" role="listitem">
                  {it.text}
                </div>
              );
          }
        }}
      />
      {loadingMore ? <div class="side-foot muted">{t("app.account.sidebar.loadingMore")}</div> : null}
      {modal === "direct" ? <NewMessage onClose={() => setModal("")} /> : null}
      {modal === "group" ? (
        <UserPicker
          title={t("app.account.sidebar.newGroup")}
          askTitle
          confirm={t("app.account.sidebar.createGroup")}
          onClose={() => setModal("")}
          onPick={async (ids, title) => {
            await store.createGroup(title || "", ids);
            setModal("");
          }}
        />
      ) : null}
    </nav>
  );
}

/**
 * AdminHint tells an administrator who has not used Administration yet where
 * it is: in the menu under their name. It is part of the sidebar (never over
 * the conversation or the composer) and goes for good, on this browser, once
 * they open Administration or click "Got it".
 */
function AdminHint(props: { userId: number; at: boolean }) {
  const key = "parley.adminHintSeen." + props.userId;
  const [seen, setSeen] = useState(() => {
    try {
      return localStorage.getItem(key) === "1";
    } catch {
      return true;
    }
  });
  const done = () => {
    try {
      localStorage.setItem(key, "1");
    } catch {
      /* storage refused: it shows again next time */
    }
    setSeen(true);
  };
  useEffect(() => {
    if (props.at && !seen) done();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.at, seen]);
  if (seen || props.at) return null;
  const what = store.canManageChat(store.me.value) ? t("app.account.adminHint.whatProjects") : t("app.account.adminHint.what");
  return (
    <div class="admin-hint" role="note" aria-label={t("app.account.adminHint.label")}>
      <p>{tp("app.account.adminHint.text", { admin: <strong>{t("app.account.sidebar.administration")}</strong>, what })}</p>
      <div class="admin-hint-actions">
        <button class="btn small primary" onClick={() => navigate("/admin")}>
          {t("app.account.adminHint.open")}
        </button>
        <button class="btn small" onClick={done}>
          {t("app.account.adminHint.gotIt")}
        </button>
      </div>
    </div>
  );
}

/** StatusIcon: the seed's four icons of a direct conversation (allowed or request, online or not). */
export function StatusIcon(props: { c: Conversation }) {
  const c = props.c;
  use(store.presenceV);
  const o = store.other(c);
  const p = store.presenceOf(o?.user_id);
  const online = p !== "offline";
  const request = c.state !== "allowed";
  const state = !request
    ? t("app.account.status.allowed")
    : c.state === "cancelled"
      ? t("app.account.status.withdrawn")
      : c.state === "declined"
        ? t("app.account.status.declined")
        : c.created_by === store.me.value?.id
          ? t("app.account.status.requestSent")
          : t("app.account.status.requestReceived");
  const presence = p === "away" ? t("app.account.status.away") : online ? t("app.account.status.online") : t("app.account.status.offline");
  const label = t("app.account.status.label", { state, presence });
  return (
    <span class={`st ${request ? "request" : "allowed"} ${p} ${c.state}`} title={label} role="img" aria-label={label}>
      {request ? (
        <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
          <rect x="1.5" y="3.5" width="13" height="9" rx="1.5" />
          <path d="M2 4.5 8 9l6-4.5" />
          {c.state === "cancelled" || c.state === "declined" ? <path d="M2 14 14 2" /> : null}
        </svg>
      ) : (
        <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
          <circle cx="8" cy="8" r="5" />
        </svg>
      )}
    </span>
  );
}

const ConvRow = memo(function ConvRow(props: { id: number; row: number; active: boolean }) {
  const c = useSelect([store.convsV], () => store.convs.get(props.id));
  const typingNow = useSelect([store.typingV], () => (store.typing.get(props.id)?.size || 0) > 0);
  use(store.peopleV);
  if (!c) return null;
  const title = store.convTitle(c);
  const last = c.last_message;
  const mine = last && last.sender_id === store.me.value?.id;
  const o = c.kind === "direct" || c.kind === "assistance" ? store.other(c) : undefined;
  let sub: ComponentChildren;
  if (typingNow) sub = <em class="typing-sub">{t("app.account.row.typing")}</em>;
  else if (c.draft && !props.active)
    sub = (
      <>
        <span class="draft-label">{t("app.account.row.draft")}</span> {c.draft}
      </>
    );
  else if (c.state === "requested") sub = c.created_by === store.me.value?.id ? t("app.account.row.requestSent") : t("app.account.row.wantsToWrite");
  else if (c.state === "cancelled") sub = t("app.account.row.withdrawn");
  else if (c.state === "declined") sub = c.created_by === store.me.value?.id ? t("app.account.row.declinedYours") : t("app.account.row.youDeclined");
  else if (last)
    sub = mine
      ? t("app.account.row.you", { text: messagePreview(last) })
      : c.kind !== "direct" && last.sender_id
        ? t("app.account.row.from", { name: store.personName(last.sender_id).split(" ")[0], text: messagePreview(last) })
        : messagePreview(last);
  else sub = c.kind === "group" ? t("app.account.row.members", { n: c.members?.length || 0 }) : t("app.account.row.noMessages");
  const unread = c.unread || (c.marked_unread ? 1 : 0);
  return (
    <div role="listitem">
      <a
        class={"conv-row" + (props.active ? " active" : "") + (unread ? " unread" : "")}
        href={convURL(c.id)}
        data-row={props.row}
        aria-current={props.active ? "page" : undefined}
        onClick={onLink}
      >
        {c.kind === "direct" ? (
          <span class="conv-icon">
            <StatusIcon c={c} />
            <Avatar id={o?.user_id || 0} name={title} photo={o?.photo_file_id} size={36} />
          </span>
        ) : (
          <span class="conv-icon">
            <span class="kind-icon">{c.kind === "assistance" ? <Help size={16} /> : <Users size={16} />}</span>
            {o ? <Avatar id={o.user_id} name={o.name} photo={o.photo_file_id} size={36} /> : <Avatar id={c.id * 7} name={title} size={36} />}
          </span>
        )}
        <span class="conv-main">
          <span class="conv-title">{title}</span>
          <span class="conv-sub">{sub}</span>
        </span>
        <span class="conv-end">
          <span class="conv-when">{shortWhen(c.last_message_at)}</span>
          <span class="conv-marks">
            <ChatMarks c={c} />
            {unread ? (
              <span class={"badge" + (mutedNow(c) ? " muted" : "")} aria-label={t("app.account.row.unread", { n: unread })}>
                {unread > 999 ? "999+" : unread}
              </span>
            ) : null}
          </span>
        </span>
      </a>
    </div>
  );
});
