// A conversation: its header (name, presence, period filter, search,
// menu), the request banner (Allow / Cancel), the windowed history, the
// typing line, the composer, the user panel; files dropped anywhere on it
// are attached.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import * as api from "../api";
import { convURL, navigate } from "../router";
import { use, useSelect } from "../sig";
import * as store from "../store";
import * as tasks from "../tasks";
import type { Conversation, FileInfo, Message, Presence } from "../types";
import { copyText, debounce, fullTime } from "../util";
import { Avatar, Menu, Modal, Spinner, useMenu, type MenuItem } from "./common";
import { Composer, type ComposerHandle } from "./Composer";
import { Back, Help, More, Search, Users } from "./icons";
import { lazy } from "./lazy";
import { MessageRow, Text, estimateHeight, pendingRow, type Row, type RowActions } from "./Messages";
import { StatusIcon } from "./Sidebar";
import { UserPanel, MembersPanel } from "./UserPanel";
import { VirtualList, type VirtualListHandle } from "./VirtualList";
import { UserPicker } from "./People";
import { ThreadPanel } from "./ThreadPanel";
import { MutedIcon } from "./ChatBits";
import * as chat from "../chat";
import { CallBar, CallButtons } from "./Calls";
import { date, t, tp } from "../../i18n/i18n";
import { presenceLabel } from "../people";

const ReminderDialog = lazy(() => import("../lazy/Reminder").then((m) => m.ReminderDialog));
const SMSWindow = lazy(() => import("../lazy/SMS").then((m) => m.SMSWindow));
const TaskForm = lazy(() => import("../lazy/Tasks").then((m) => m.TaskForm));
const MoveDialog = lazy(() => import("../lazy/Tasks").then((m) => m.MoveDialog));
const SnoozeDialog = lazy(() => import("../lazy/Reminder").then((m) => m.SnoozeDialog));

/** The history's periods: the filter's value and its label (a function: labels are made at render time). */
const PERIODS: [string, () => string][] = [
  ["", () => t("app.chat.period.all")],
  ["yesterday", () => t("app.chat.period.yesterday")],
  ["7d", () => t("app.chat.period.days", { n: 7 })],
  ["30d", () => t("app.chat.period.days", { n: 30 })],
  ["3m", () => t("app.chat.period.months", { n: 3 })],
  ["1y", () => t("app.chat.period.years", { n: 1 })],
];

/** The words for a user's presence in the header. */
const presenceText = (p: Presence | undefined) => (p ? presenceLabel(p) : "");

export function ConversationView(props: { id: number; messageId?: number; snooze?: boolean }) {
  const c = useSelect([store.convsV], () => store.convs.get(props.id));
  const ready = use(store.ready);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    setMissing(false);
    if (ready && !store.convs.has(props.id)) store.ensureConv(props.id).then((x) => !x && setMissing(true));
  }, [props.id, ready]);
  // A live-chat dialog has its own view.
  useEffect(() => {
    if (c?.kind === "support") navigate(`/d/${c.id}`, true);
  }, [c?.kind]);
  if (!c || c.kind === "support") {
    return (
      <section class="pane empty-pane">
        {missing ? (
          <p>
            {t("app.chat.notFound")}{" "}
            <a href="/" onClick={(e) => (e.preventDefault(), navigate("/"))}>
              {t("app.chat.backToList")}
            </a>
          </p>
        ) : (
          <Spinner />
        )}
      </section>
    );
  }
  return <Chat key={c.id} c={c} messageId={props.messageId} snooze={props.snooze} />;
}

function Chat(props: { c: Conversation; messageId?: number; snooze?: boolean }) {
  const c = props.c;
  const me = store.me.value!;
  const h = store.history(c.id);
  const [panel, setPanel] = useState<"" | "user" | "members">("");
  const [panelUser, setPanelUser] = useState(0);
  const [query, setQuery] = useState("");
  const [searchOpen, setSearchOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [adding, setAdding] = useState<"" | "interlocutors" | "members" | "rename" | "task">("");
  const [smsTo, setSmsTo] = useState(0);
  const [reminderFor, setReminderFor] = useState<Message | null>(null);
  const [snoozeFor, setSnoozeFor] = useState<number>(props.snooze && props.messageId ? props.messageId : 0);
  const composer = useRef<ComposerHandle>(null);
  const menu = useMenu();
  const settings = use(store.settings);
  const thread = use(chat.thread);
  use(store.presenceV);
  const dragDepth = useRef(0);

  useEffect(() => {
    store.viewing.convId = c.id;
    return () => {
      if (store.viewing.convId === c.id) store.viewing.convId = 0;
    };
  }, [c.id]);

  // A link to a message (search, reminder, quote) brings it into view.
  useEffect(() => {
    if (props.messageId) {
      const id = props.messageId;
      (async () => {
        const m = h.byId(id) || (await store.findMessage(c.id, id));
        if (m) store.jumpTo(h, m);
        else if (!h.started) store.loadLatest(h);
      })();
      if (props.snooze) setSnoozeFor(props.messageId);
    } else if (!h.started) store.loadLatest(h);
  }, [props.messageId, props.snooze]);

  // The other side of a direct or Assistance chat.
  const other = c.kind === "direct" || c.kind === "assistance" ? store.other(c) : undefined;
  const title = store.convTitle(c);
  const presence = other ? store.presenceOf(other.user_id) : undefined;
  const requestedByMe = c.created_by === me.id;

  const openUser = (id: number) => {
    setPanelUser(id);
    setPanel("user");
  };

  const headerClick = () => {
    if (other) openUser(other.user_id);
    else setPanel(panel ? "" : "members");
  };

  const convMenu: MenuItem[] = [
    { label: t("app.chat.menu.sound"), checked: settings.sound, onSelect: () => store.saveSettings({ ...settings, sound: !settings.sound }) },
    {
      label: t("app.chat.menu.scrollToEnd"),
      checked: settings.always_scroll_to_end,
      onSelect: () => store.saveSettings({ ...settings, always_scroll_to_end: !settings.always_scroll_to_end }),
    },
    { label: t("app.chat.menu.markUnread"), onSelect: () => store.markUnread(c.id) },
    ...chat.muteChoices(c),
    { label: t("app.chat.menu.createTask"), onSelect: () => setAdding("task") },
    ...PERIODS.map(([v, l]) => ({ label: t("app.chat.menu.show", { period: l().toLocaleLowerCase() }), checked: h.period === v, onSelect: () => store.setPeriod(h, v) })),
  ];
  if (c.kind === "direct" && c.state === "allowed") convMenu.push({ label: t("app.chat.menu.addInterlocutors"), onSelect: () => setAdding("interlocutors") });
  if (c.kind === "direct" && other) convMenu.push({ label: t("app.chat.menu.sendSms"), onSelect: () => setSmsTo(other.user_id) });
  if (c.kind === "group") {
    convMenu.push({ label: t("app.chat.menu.members"), onSelect: () => setPanel("members") });
    convMenu.push({ label: t("app.chat.menu.addMembers"), onSelect: () => setAdding("members") });
    convMenu.push({ label: t("app.chat.menu.rename"), onSelect: () => setAdding("rename") });
    convMenu.push({
      label: t("app.chat.menu.leave"),
      danger: true,
      onSelect: () => store.removeMember(c.id, me.id).catch(store.fail),
    });
  }
  if (c.kind === "direct" && c.state === "requested")
    convMenu.push({ label: requestedByMe ? t("app.chat.menu.withdrawRequest") : t("app.chat.menu.declineRequest"), danger: true, onSelect: () => store.cancel(c.id).catch(store.fail) });

  const headTitle = c.kind === "direct" ? t("app.chat.head.aboutUser") : t("app.chat.menu.members");

  const files = (list: FileList | File[] | null | undefined) => {
    if (!list || !list.length) return;
    composer.current?.addFiles([...list]);
  };

  return (
    <section
      class={"pane chat" + (panel || thread?.root.conversation_id === c.id ? " with-panel" : "")}
      aria-label={title}
      onDragEnter={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        dragDepth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
      }}
      onDragLeave={() => {
        if (--dragDepth.current <= 0) {
          dragDepth.current = 0;
          setDragging(false);
        }
      }}
      onDrop={(e) => {
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        if (c.state === "allowed") files(e.dataTransfer?.files);
        else store.toast(t("app.chat.filesNotAllowed"), "error");
      }}
    >
      <div class="chat-main">
        <header class="chat-head">
          <button class="icon-btn back" aria-label={t("app.chat.head.back")} onClick={() => navigate("/")}>
            <Back />
          </button>
          <button class="chat-who" onClick={headerClick} title={headTitle}>
            {c.kind === "direct" ? (
              <span class="conv-icon">
                <StatusIcon c={c} />
                <Avatar id={other?.user_id || 0} name={title} photo={other?.photo_file_id} size={36} />
              </span>
            ) : (
              <span class="conv-icon">
                <span class="kind-icon">{c.kind === "assistance" ? <Help size={16} /> : <Users size={16} />}</span>
                {other ? (
                  <Avatar id={other.user_id} name={other.name} photo={other.photo_file_id} size={36} presence={presence} />
                ) : (
                  <Avatar id={c.id * 7} name={title} size={36} />
                )}
              </span>
            )}
            <span class="chat-title">
              <h1>
                {title}
                {chat.mutedNow(c) ? <MutedIcon size={16} /> : null}
              </h1>
              <span class="chat-sub">
                {c.kind === "direct"
                  ? c.state !== "allowed"
                    ? c.state === "cancelled"
                      ? t("app.chat.head.requestWithdrawn")
                      : c.state === "declined"
                        ? t("app.chat.head.requestDeclined")
                        : t("app.chat.head.requestPending")
                    : presenceLabel(presence || "offline")
                  : c.kind === "assistance"
                    ? c.created_by === me.id
                      ? other?.name
                        ? t("app.chat.head.with", { name: other.name, presence: presenceText(presence) })
                        : t("app.chat.head.withAdmin", { presence: presenceText(presence) })
                      : presenceText(presence)
                    : t("app.chat.head.members", { n: c.members?.length || 0 })}
              </span>
            </span>
          </button>
          <div class="chat-tools">
            <CallButtons c={c} />
            <select
              class="period"
              aria-label={t("app.chat.head.period")}
              value={h.period}
              onChange={(e) => store.setPeriod(h, (e.currentTarget as HTMLSelectElement).value)}
            >
              {PERIODS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l()}
                </option>
              ))}
            </select>
            <div class={"chat-search" + (searchOpen || query ? " open" : "")}>
              <Search size={16} />
              <input
                type="search"
                placeholder={t("app.chat.head.search")}
                aria-label={t("app.chat.head.search")}
                value={query}
                onFocus={() => setSearchOpen(true)}
                onBlur={() => setSearchOpen(false)}
                onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
                onKeyDown={(e) => e.key === "Escape" && setQuery("")}
              />
            </div>
            <button class="icon-btn" aria-label={t("app.chat.head.menu")} aria-haspopup="menu" onClick={(e) => menu.open(e.currentTarget as HTMLElement)}>
              <More />
            </button>
          </div>
        </header>
        {menu.at ? <Menu x={menu.at.x} y={menu.at.y} items={convMenu} onClose={menu.close} label={t("app.chat.head.menu")} /> : null}
        <CallBar c={c} />
        {c.state !== "allowed" ? <RequestBanner c={c} mine={requestedByMe} name={other?.name || t("app.chat.request.thisUser")} /> : null}
        {query.trim() ? (
          <SearchResults c={c} q={query} onPick={(m) => (setQuery(""), store.jumpTo(h, m))} />
        ) : (
          <HistoryList c={c} h={h} composer={composer} onUser={openUser} onReminder={setReminderFor} />
        )}
        <TypingLine id={c.id} />
        {c.state === "allowed" ? (
          <Composer key={c.id} handle={composer} c={c} h={h} />
        ) : (
          <div class="composer-off">
            {c.state === "cancelled"
              ? t("app.chat.request.withdrawn")
              : c.state === "declined"
                ? t("app.chat.request.declined")
                : t("app.chat.request.writeOnceAllowed")}
          </div>
        )}
        {dragging ? (
          <div class="drop-zone" aria-hidden="true">
            <span>{t("app.chat.dropFiles")}</span>
          </div>
        ) : null}
      </div>
      {panel === "user" && panelUser ? (
        <UserPanel
          userId={panelUser}
          conv={c}
          onClose={() => setPanel("")}
          onAddInterlocutors={() => setAdding("interlocutors")}
        />
      ) : null}
      {smsTo ? <SMSWindow userId={smsTo} onClose={() => setSmsTo(0)} /> : null}
      {panel === "members" ? <MembersPanel c={c} onClose={() => setPanel("")} onUser={openUser} onAdd={() => setAdding("members")} /> : null}
      <ThreadPanel c={c} />
      {adding === "interlocutors" ? (
        <UserPicker
          title={t("app.chat.addInterlocutors.title")}
          confirm={t("app.chat.addInterlocutors.confirm")}
          askTitle
          exclude={c.members.map((m) => m.user_id)}
          onClose={() => setAdding("")}
          onPick={async (ids, title) => {
            await store.createGroup(title, ids, c.id);
            setAdding("");
          }}
        />
      ) : null}
      {adding === "members" ? (
        <UserPicker
          title={t("app.chat.addMembers.title")}
          confirm={t("app.chat.addMembers.confirm")}
          exclude={c.members.map((m) => m.user_id)}
          onClose={() => setAdding("")}
          onPick={async (ids) => {
            await store.addMembers(c.id, ids);
            setAdding("");
          }}
        />
      ) : null}
      {adding === "rename" ? <Rename c={c} onClose={() => setAdding("")} /> : null}
      {adding === "task" ? <TaskForm conversationId={c.id} onClose={() => setAdding("")} onDone={() => setAdding("")} /> : null}
      {reminderFor ? <ReminderDialog message={reminderFor} onClose={() => setReminderFor(null)} /> : null}
      {snoozeFor ? (
        <SnoozeDialog
          messageId={snoozeFor}
          onClose={() => {
            setSnoozeFor(0);
            if (props.snooze) navigate(convURL(c.id, props.messageId), true);
          }}
        />
      ) : null}
    </section>
  );
}

function Rename(props: { c: Conversation; onClose: () => void }) {
  const [title, setTitle] = useState(props.c.title || "");
  const [err, setErr] = useState("");
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await store.rename(props.c.id, title);
      props.onClose();
    } catch (x) {
      setErr((x as Error).message);
    }
  };
  return (
    <Modal title={t("app.chat.rename.title")} onClose={props.onClose}>
      <form onSubmit={save}>
        <label class="field">
          <span>{t("app.chat.rename.field")}</span>
          <input class="input" value={title} maxLength={100} data-autofocus onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {err ? <p class="form-error">{err}</p> : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.chat.cancel")}
          </button>
          <button class="btn primary">{t("app.chat.save")}</button>
        </div>
      </form>
    </Modal>
  );
}

function RequestBanner(props: { c: Conversation; mine: boolean; name: string }) {
  const [busy, setBusy] = useState(false);
  const act = (fn: () => Promise<void>) => async () => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy(false);
    }
  };
  const c = props.c;
  const first = props.name.split(" ")[0] || props.name;
  // A declined request may be asked again from ask_again_at: the button wakes then.
  const [, tick] = useState(0);
  const againAt = c.state === "declined" && c.ask_again_at ? new Date(c.ask_again_at).getTime() : 0;
  const wait = againAt - Date.now();
  useEffect(() => {
    if (wait <= 0 || wait > 2 ** 31 - 1) return;
    const timer = setTimeout(() => tick((n) => n + 1), wait + 500);
    return () => clearTimeout(timer);
  }, [againAt]);
  const again = (label: string, disabled = false) => (
    <div class="request-actions">
      <button class="btn primary" disabled={busy || disabled} onClick={act(() => store.openDirect(store.other(c)!.user_id))}>
        {label}
      </button>
    </div>
  );
  if (c.state === "declined") {
    return (
      <div class="request-banner declined" role="status">
        {props.mine ? (
          againAt ? (
            <>
              <p>
                {tp("app.chat.request.theyDeclined", { name: <strong>{props.name}</strong> })}{" "}
                {wait > 0 ? t("app.chat.request.askAgainOn", { when: fullTime(c.ask_again_at!) }) : t("app.chat.request.askAgainNow")}
              </p>
              {again(t("app.chat.request.askAgain"), wait > 0)}
            </>
          ) : (
            <p>{tp("app.chat.request.theyDeclinedForGood", { name: <strong>{props.name}</strong>, first })}</p>
          )
        ) : (
          <>
            <p>{t("app.chat.request.youDeclined", { first })}</p>
            {again(t("app.chat.request.start", { first }))}
          </>
        )}
      </div>
    );
  }
  if (c.state === "cancelled") {
    return (
      <div class="request-banner" role="status">
        <p>{props.mine ? t("app.chat.request.youWithdrew") : t("app.chat.request.withdrawn")}</p>
        {again(props.mine ? t("app.chat.request.askAgain") : t("app.chat.request.start", { first }))}
      </div>
    );
  }
  return (
    <div class="request-banner" role="status">
      {props.mine ? (
        <>
          <p>
            <strong>{t("app.chat.request.sent")}</strong> {t("app.chat.request.notReviewed", { name: props.name })}
          </p>
          <div class="request-actions">
            <button class="btn" disabled={busy} onClick={act(() => store.cancel(c.id))}>
              {t("app.chat.request.cancel")}
            </button>
          </div>
        </>
      ) : (
        <>
          <p>{tp("app.chat.request.wantsToStart", { name: <strong>{props.name}</strong> })}</p>
          <div class="request-actions">
            <button class="btn primary" disabled={busy} onClick={act(() => store.allow(c.id))}>
              {t("app.chat.request.allow")}
            </button>
            <button class="btn" disabled={busy} onClick={act(() => store.cancel(c.id))}>
              {t("app.chat.request.decline")}
            </button>
          </div>
        </>
      )}
    </div>
  );
}

export function TypingLine(props: { id: number }) {
  use(store.typingV);
  const settings = use(store.settings);
  const typing = store.typing.get(props.id);
  const names = settings.typing_notifications && typing ? [...typing.keys()].map((u) => store.personName(u).split(" ")[0]) : [];
  return (
    <div class="typing-line" aria-live="polite">
      {names.length ? (
        <>
          <span class="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {t("app.chat.typing", { n: names.length, names: names.join(", ") })}
        </>
      ) : null}
    </div>
  );
}

/** A search hit's moment: the date and time with seconds, as toLocaleString() wrote it. */
const WHEN: Intl.DateTimeFormatOptions = { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" };

function SearchResults(props: { c: Conversation; q: string; onPick: (m: Message) => void }) {
  const [res, setRes] = useState<{ q: string; msgs: Message[]; more: boolean } | null>(null);
  const [err, setErr] = useState("");
  const run = useMemo(
    () =>
      debounce(async (q: string) => {
        try {
          const out = await api.get<{ messages: Message[] }>("/search" + api.qs({ q, conversation_id: props.c.id, limit: 50 }));
          setRes({ q, msgs: [...(out.messages || [])].sort((a, b) => a.seq - b.seq), more: (out.messages || []).length === 50 });
          setErr("");
        } catch (e) {
          setErr((e as Error).message);
        }
      }, 120),
    [props.c.id],
  );
  useEffect(() => run(props.q.trim()), [props.q]);
  const more = async () => {
    if (!res) return;
    const oldest = res.msgs.reduce((a, m) => Math.min(a, m.id), Infinity);
    const out = await api.get<{ messages: Message[] }>("/search" + api.qs({ q: res.q, conversation_id: props.c.id, limit: 50, before: oldest }));
    setRes({ ...res, msgs: [...out.messages, ...res.msgs].sort((a, b) => a.seq - b.seq), more: out.messages.length === 50 });
  };
  return (
    <div class="search-results" role="region" aria-label={t("app.chat.search.results")}>
      {err ? <p class="form-error">{err}</p> : null}
      {!res ? (
        <Spinner />
      ) : !res.msgs.length ? (
        <p class="muted center">{t("app.chat.search.none", { q: res.q })}</p>
      ) : (
        <>
          {res.more ? (
            <button class="btn small center-btn" onClick={more}>
              {t("app.chat.search.earlier")}
            </button>
          ) : null}
          <ul>
            {res.msgs.map((m) => (
              <li key={m.id}>
                <button class="search-hit" onClick={() => props.onPick(m)}>
                  <span class="hit-head">
                    <strong>{store.senderName(m)}</strong> <time>{date(m.created_at, WHEN)}</time>
                  </span>
                  <span class="hit-text">
                    <Text text={m.text} highlight={res.q} />
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

export function HistoryList(props: {
  c: Conversation;
  h: store.History;
  composer: { current: ComposerHandle | null };
  onUser: (id: number) => void;
  onReminder: (m: Message) => void;
  /**
   * A live-chat dialog: the visitor's name and how far they have read; for
   * a connected channel's customer, the channel's name ("" for the widget):
   * its replies show the status the channel reported instead.
   */
  dialog?: { visitor: string; contactReadSeq: number; readOnly: boolean; channel: string };
}) {
  const { c, h } = props;
  const hv = use(h.v);
  const ov = use(store.outboxV);
  const rv = use(store.remindersV);
  const pv = use(store.peopleV);
  const settings = use(store.settings);
  const list = useRef<VirtualListHandle>(null);
  const menu = useMenu();
  const [menuRow, setMenuRow] = useState<Row | null>(null);
  const [flash, setFlash] = useState(0);
  const [image, setImage] = useState<FileInfo | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<Message | null>(null);
  const [moving, setMoving] = useState<Message | null>(null);
  useEffect(() => tasks.loadLinks(c.id), [c.id]);
  const [newCount, setNewCount] = useState(0);
  const [atBottom, setAtBottom] = useState(true);
  // Where the "New messages" line goes: fixed when the conversation opens.
  const unreadFrom = useRef(c.unread > 0 ? c.read_seq : -1);
  const lastSeq = useRef(0);

  const rows: Row[] = useMemo(() => {
    const out: Row[] = h.msgs.map((m) => ({ key: m.id, m }));
    if (h.atLatest) for (const p of store.pendingFor(c.id)) out.push(pendingRow(p));
    return out;
  }, [hv, ov, c.id]);

  const showStart = !h.hasOlder && !h.loading;
  const n = rows.length + (showStart ? 1 : 0);
  const at = (i: number) => (showStart ? i - 1 : i);

  // New messages: follow them when at the bottom or when the setting says so.
  useEffect(() => {
    const last = h.last;
    if (!last) return;
    if (lastSeq.current && last.seq > lastSeq.current) {
      const mine = last.sender_id === store.me.value?.id;
      if (settings.always_scroll_to_end || mine) list.current?.scrollToBottom();
      else if (!list.current?.atBottom()) setNewCount((x) => x + 1);
    }
    lastSeq.current = last.seq;
  }, [hv]);

  useEffect(() => {
    if (store.pendingFor(c.id).length) list.current?.scrollToBottom();
  }, [ov]);

  // A new message while an older part of the history is shown: with
  // "always scroll to the end", go to it.
  useEffect(() => {
    if (settings.always_scroll_to_end && !h.atLatest && !h.loading && h.started)
      store.loadLatest(h).then(() => requestAnimationFrame(() => list.current?.scrollToBottom()));
  }, [c.last_seq]);

  // Bring a requested message into view and make it flash.
  useEffect(() => {
    if (!h.focus) return;
    const i = rows.findIndex((r) => r.m.id === h.focus);
    if (i < 0) return;
    const id = h.focus;
    h.focus = 0;
    requestAnimationFrame(() => {
      list.current?.scrollToIndex(i + (showStart ? 1 : 0), "center");
      setFlash(id);
      setTimeout(() => setFlash(0), 2500);
      requestAnimationFrame(() => list.current?.element()?.querySelector<HTMLElement>(`[data-mid="${id}"]`)?.focus({ preventScroll: true }));
    });
  }, [hv]);

  const onRange = (start: number, end: number, bottom: boolean) => {
    if (start < 8 && h.hasOlder && !h.loading) store.loadOlder(h);
    if (end > n - 8 && !h.atLatest && !h.loading) store.loadNewer(h);
    const atEnd = bottom && h.atLatest;
    store.viewing.atBottom = atEnd;
    if (atEnd !== atBottom) setAtBottom(atEnd);
    if (atEnd) {
      if (newCount) setNewCount(0);
      if (document.visibilityState === "visible") store.markRead(c.id);
    }
  };

  useEffect(() => {
    const vis = () => document.visibilityState === "visible" && store.viewing.atBottom && store.markRead(c.id);
    document.addEventListener("visibilitychange", vis);
    window.addEventListener("focus", vis);
    return () => {
      document.removeEventListener("visibilitychange", vis);
      window.removeEventListener("focus", vis);
    };
  }, [c.id]);

  const actions: RowActions = useMemo(
    () => ({
      menu(e, r) {
        setMenuRow(r);
        menu.open(e);
      },
      reply(m) {
        props.composer.current?.quote(m);
      },
      jump(q) {
        if (h.byId(q.id)) {
          h.focus = q.id;
          h.v.bump();
          return;
        }
        store.findMessage(c.id, q.id, q.text).then((m) => {
          if (m) store.jumpTo(h, m);
          else store.toast(t("app.chat.quoteNotFound"));
        });
      },
      image: setImage,
      user: props.onUser,
      retry: store.retry,
      discard: store.discard,
      quick: props.dialog ? (m: Message) => props.composer.current?.quickReply?.(m.text) : undefined,
    }),
    [c.id],
  );

  const me = store.me.value!;
  const menuItems: MenuItem[] = [];
  if (menuRow) {
    const m = menuRow.m;
    const mine = m.sender_id === me.id;
    if (m.kind !== "whisper") menuItems.push({ label: t("app.chat.message.reply"), onSelect: () => props.composer.current?.quote(m) });
    if (!props.dialog) menuItems.push(...chat.messageChoices(m));
    if (m.text) menuItems.push({ label: t("app.chat.message.copy"), onSelect: () => copyText(m.text).catch(store.fail) });
    const rem = store.reminders.get(m.id);
    menuItems.push({ label: rem ? t("app.chat.message.reminderChange") : t("app.chat.message.reminder"), onSelect: () => props.onReminder(m) });
    if (rem) menuItems.push({ label: t("app.chat.message.doNotNotify"), onSelect: () => store.clearReminder(m.id).catch(store.fail) });
    if (m.id > 0 && m.kind !== "event" && !m.deleted_at) menuItems.push({ label: t("app.chat.message.moveToTask"), onSelect: () => setMoving(m) });
    if (mine && m.kind === "text") menuItems.push({ label: t("app.chat.message.edit"), onSelect: () => props.composer.current?.edit(m) });
    if (mine) menuItems.push({ label: t("app.chat.delete"), danger: true, onSelect: () => setConfirmDelete(m) });
  }

  return (
    <div class="history-wrap">
      {h.period ? (
        <div class="period-note">
          {t("app.chat.period.showing", { period: PERIODS.find((p) => p[0] === h.period)?.[1]().toLocaleLowerCase() || "" })}{" "}
          <button class="link" onClick={() => store.setPeriod(h, "")}>
            {t("app.chat.period.showAll")}
          </button>
        </div>
      ) : null}
      {h.loading === "init" && !h.msgs.length ? (
        <div class="history-loading">
          <Spinner label={t("app.chat.history.loading")} />
        </div>
      ) : null}
      {h.error ? (
        <div class="form-error center" role="alert">
          {h.error}{" "}
          <button class="link" onClick={() => store.loadLatest(h)}>
            {t("app.chat.history.retry")}
          </button>
        </div>
      ) : null}
      <VirtualList
        handle={list}
        class="history"
        role="log"
        label={t("app.chat.history.label")}
        tabIndex={0}
        // Only the newest messages stick to the bottom: an older window would
        // keep loading newer pages.
        stickToBottom={h.atLatest}
        bottomAligned
        count={n}
        version={`${hv}:${ov}:${rv}:${pv}:${flash}:${c.receipts?.delivered_seq}:${c.receipts?.read_seq}:${props.dialog?.contactReadSeq}:${props.dialog?.visitor}:${props.dialog?.readOnly}:${props.dialog?.channel}`}
        keyAt={(i) => (at(i) < 0 ? "start" : rows[at(i)].key)}
        estimate={(i) => (at(i) < 0 ? 48 : estimateHeight(rows[at(i)], rows[at(i) - 1]?.m))}
        onRange={onRange}
        onKeyDown={(e) => historyKeys(e, list.current)}
        render={(i) => {
          const j = at(i);
          if (j < 0)
            return (
              <div class="history-start">
                {h.period ? t("app.chat.history.startOfPeriod") : t("app.chat.history.start")}
              </div>
            );
          const r = rows[j];
          const prev = rows[j - 1]?.m;
          const dlg = props.dialog;
          const status = r.pending
            ? undefined
            : dlg
              ? r.m.kind === "whisper"
                ? undefined
                : dlg.channel
                  ? r.m.status || "sent"
                  : r.m.seq <= dlg.contactReadSeq
                    ? "read"
                    : "sent"
              : store.statusOf(c, r.m);
          return (
            <MessageRow
              r={r}
              prev={prev}
              status={status}
              visitor={dlg?.visitor}
              via={dlg?.channel || undefined}
              readOnly={dlg?.readOnly}
              group={c.kind !== "direct"}
              reminder={r.m.id ? store.reminders.get(r.m.id) : undefined}
              flash={flash !== 0 && flash === r.m.id}
              unreadMark={unreadFrom.current >= 0 && !r.pending && r.m.seq === unreadFrom.current + 1 && r.m.sender_id !== me.id}
              a={actions}
              pv={pv}
            />
          );
        }}
      />
      {h.loading === "older" ? <div class="loading-older">{t("app.chat.history.loadingOlder")}</div> : null}
      {!atBottom || !h.atLatest ? (
        <button
          class="to-bottom"
          aria-label={t("app.chat.history.toNewest")}
          onClick={async () => {
            if (!h.atLatest) await store.loadLatest(h);
            list.current?.scrollToBottom();
            setNewCount(0);
          }}
        >
          ↓{newCount ? <span class="badge">{newCount}</span> : null}
        </button>
      ) : null}
      {menu.at && menuRow && !menuRow.pending ? (
        <Menu x={menu.at.x} y={menu.at.y} items={menuItems} onClose={menu.close} label={t("app.chat.message.actions")} />
      ) : null}
      {image ? <Lightbox f={image} onClose={() => setImage(null)} /> : null}
      {moving ? <MoveDialog message={moving} onClose={() => setMoving(null)} /> : null}
      {confirmDelete ? (
        <Modal
          title={t("app.chat.deleteMessage.title")}
          onClose={() => setConfirmDelete(null)}
          footer={
            <>
              <button class="btn" onClick={() => setConfirmDelete(null)}>
                {t("app.chat.cancel")}
              </button>
              <button
                class="btn danger"
                data-autofocus
                onClick={() => {
                  store.deleteMessage(confirmDelete).catch(store.fail);
                  setConfirmDelete(null);
                }}
              >
                {t("app.chat.delete")}
              </button>
            </>
          }
        >
          <p>{t("app.chat.deleteMessage.text")}</p>
        </Modal>
      ) : null}
    </div>
  );
}

/** historyKeys: Up/Down move between messages; Enter or the menu key opens a message's menu. */
function historyKeys(e: KeyboardEvent, list: VirtualListHandle | null) {
  if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
  const root = list?.element();
  if (!root) return;
  const msgs = [...root.querySelectorAll<HTMLElement>(".msg, .sysline")];
  const cur = (document.activeElement as HTMLElement)?.closest<HTMLElement>(".msg, .sysline");
  let i = cur ? msgs.indexOf(cur) : -1;
  if (i < 0) {
    // Start from the last message fully in view.
    const bottom = root.getBoundingClientRect().bottom;
    i = msgs.length;
    while (i > 0 && msgs[i - 1].getBoundingClientRect().top > bottom) i--;
  }
  const next = msgs[e.key === "ArrowUp" ? i - 1 : i + 1];
  if (!next) return;
  e.preventDefault();
  next.tabIndex = -1;
  next.focus();
  next.scrollIntoView({ block: "nearest" });
}

export function Lightbox(props: { f: FileInfo; onClose: () => void }) {
  return (
    <Modal title={props.f.name} onClose={props.onClose} wide class="lightbox">
      <img src={api.fileURL(props.f.id)} alt={props.f.name} />
      <p class="row-end">
        <a class="btn" href={api.fileURL(props.f.id)} download={props.f.name}>
          {t("app.chat.download")}
        </a>
      </p>
    </Modal>
  );
}
