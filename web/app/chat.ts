// The team-chat basics (issue 14, item 11): mentions, reactions, threads
// and muting a chat. The store applies messages; this module follows the
// events it adds (message.reactions, conversation.muted, a thread's
// replies) through the store's eventHooks, keeps the open thread, and
// says when a message must stay quiet (notify.ts).

import * as api from "./api";
import { quietRules } from "./notify";
import { Sig, Version } from "./sig";
import * as store from "./store";
import type { Conversation, Frame, Message } from "./types";
import { t } from "../i18n/i18n";

export type Reaction = NonNullable<Message["reactions"]>[number];

// ---- mentions --------------------------------------------------------------

/** mentionsMe reports whether a message mentions the signed-in user (by name or @all). */
export function mentionsMe(m: Message): boolean {
  const me = store.me.value?.id;
  if (!me || m.sender_id === me || !m.mentions) return false;
  return !!m.mentions.all || !!m.mentions.user_ids?.includes(me);
}

/** involved reports whether the user is in a message's thread: they started it, replied in it, or are mentioned. */
function involved(m: Message): boolean {
  const me = store.me.value?.id;
  if (!m.thread_id || !me) return true;
  const root = threadRoots.get(m.thread_id);
  return !!root && (root.sender_id === me || !!root.thread?.user_ids.includes(me));
}

/** mutedNow reports whether the user's mute of a chat holds now. */
export function mutedNow(c: Conversation | undefined): boolean {
  if (!c?.muted) return false;
  return !c.muted_until || Date.parse(c.muted_until) > Date.now();
}

/**
 * quiet says a new message makes no sound or notification: in a muted
 * chat (but a mention of you), and a thread's reply that stays in its
 * thread to who is not in it (but a mention of you).
 */
export function quiet(c: Conversation, m: Message): boolean {
  if (mentionsMe(m)) return false;
  if (mutedNow(c)) return true;
  return !!m.thread_id && !m.in_channel && !involved(m);
}

/** The members a composer may mention, as "@Name" completions: everyone but you. */
export function mentionable(c: Conversation): { id: number; name: string }[] {
  const me = store.me.value?.id;
  const out = (c.members || []).filter((x) => x.user_id !== me && x.active !== false).map((x) => ({ id: x.user_id, name: x.name }));
  if (c.kind === "group") out.unshift({ id: 0, name: "all" });
  return out;
}

/** mentionedIn keeps the picked mentions whose @Name is still in the text. */
export function mentionedIn(text: string, picked: Map<number, string>): number[] {
  const out: number[] = [];
  for (const [id, name] of picked) if (id && text.includes("@" + name)) out.push(id);
  return out;
}

// ---- reactions ---------------------------------------------------------------

/** Recent reactions of this browser, first offered in the quick row. */
export const QUICK = ["👍", "❤️", "😂", "🎉", "👀", "🙏"];

/** react toggles your emoji on a message; the event brings everyone's view (yours too) up to date. */
export async function react(m: Message, emoji: string) {
  const me = store.me.value?.id || 0;
  const has = !!m.reactions?.find((r) => r.emoji === emoji)?.user_ids.includes(me);
  const path = `/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`;
  try {
    const out = await (has ? api.del<{ reactions: Reaction[] }>(path) : api.request<{ reactions: Reaction[] }>("PUT", path));
    setReactions(m.conversation_id, m.id, m.seq, m.thread_id || 0, out.reactions);
  } catch (e) {
    store.fail(e);
  }
}

function setReactions(convId: number, id: number, seq: number, threadId: number, rs: Reaction[]) {
  const h = store.histories.get(convId);
  const old = h?.byId(id);
  if (h && old && h.put({ ...old, reactions: rs })) h.v.bump();
  const th = thread.value;
  if (th && (th.root.id === id || th.root.id === threadId)) {
    if (th.root.id === id) th.root = { ...th.root, reactions: rs };
    th.replies = th.replies.map((r) => (r.id === id ? { ...r, reactions: rs } : r));
    threadV.bump();
  }
  void seq;
}

/** The message menu's entries: reply in thread, quick reactions (phones have no hover buttons). */
export function messageChoices(m: Message): { label: string; onSelect: () => void }[] {
  if (!m.id || m.deleted_at) return [];
  const out = QUICK.slice(0, 3).map((e) => ({ label: t("app.chat.menu.react", { emoji: e }), onSelect: () => react(m, e) }));
  if (!m.thread_id) out.unshift({ label: m.thread ? t("app.chat.menu.openThread") : t("app.chat.menu.startThread"), onSelect: () => openThread(m) });
  return out;
}

// ---- mute --------------------------------------------------------------------

/** mute mutes a chat for you until a time (ISO), or forever (""); null unmutes. */
export async function mute(convId: number, until: string | null) {
  try {
    const st =
      until === null
        ? await api.del<{ muted: boolean; until?: string }>(`/conversations/${convId}/mute`)
        : await api.request<{ muted: boolean; until?: string }>("PUT", `/conversations/${convId}/mute`, until ? { until } : {});
    store.patchConv(convId, () => ({ muted: st.muted, muted_until: st.until }));
    store.refreshUnread(0);
  } catch (e) {
    store.fail(e);
  }
}

/** The choices of the conversation menu's "Mute" entries. */
export function muteChoices(c: Conversation): { label: string; onSelect: () => void }[] {
  if (mutedNow(c)) return [{ label: t("app.chat.mute.off"), onSelect: () => mute(c.id, null) }];
  const at = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
  return [
    { label: t("app.chat.mute.hours", { n: 1 }), onSelect: () => mute(c.id, at(1)) },
    { label: t("app.chat.mute.hours", { n: 8 }), onSelect: () => mute(c.id, at(8)) },
    { label: t("app.chat.mute.week"), onSelect: () => mute(c.id, at(24 * 7)) },
    { label: t("app.chat.mute.forever"), onSelect: () => mute(c.id, "") },
  ];
}

// ---- threads -----------------------------------------------------------------

/** The newest known state of each thread's first message (from message.updated), for quiet(). */
const threadRoots = new Map<number, Message>();

export interface OpenThread {
  root: Message;
  replies: Message[];
  hasOlder: boolean;
  loading: boolean;
  error: string;
}

/** The thread open beside the chat (one at a time), and its version. */
export const thread = new Sig<OpenThread | null>(null);
export const threadV = new Version();

const PAGE = 50;

export async function openThread(root: Message) {
  const th: OpenThread = { root, replies: [], hasOlder: false, loading: true, error: "" };
  thread.value = th;
  try {
    const page = await api.get<{ root: Message; replies: Message[] }>(`/messages/${root.id}/thread?limit=${PAGE}`);
    if (thread.value !== th) return;
    th.root = page.root;
    // Replies that arrived live while loading stay.
    const seen = new Set(page.replies.map((r) => r.id));
    th.replies = [...page.replies, ...th.replies.filter((r) => !seen.has(r.id))].sort((a, b) => a.seq - b.seq);
    th.hasOlder = page.replies.length === PAGE;
  } catch (e) {
    th.error = (e as Error).message;
  }
  th.loading = false;
  threadV.bump();
}

export async function loadOlderReplies() {
  const th = thread.value;
  if (!th || th.loading || !th.hasOlder || !th.replies.length) return;
  th.loading = true;
  threadV.bump();
  try {
    const page = await api.get<{ replies: Message[] }>(`/messages/${th.root.id}/thread?limit=${PAGE}&before=${th.replies[0].seq}`);
    if (thread.value === th) {
      th.replies = [...page.replies, ...th.replies];
      th.hasOlder = page.replies.length === PAGE;
    }
  } catch (e) {
    th.error = (e as Error).message;
  }
  th.loading = false;
  threadV.bump();
}

export function closeThread() {
  thread.value = null;
}

/** sendReply sends a reply in the open thread through the outbox (client id, retries). */
export function sendReply(text: string, mentions: number[], inChannel: boolean) {
  const th = thread.value;
  if (!th || !text.trim()) return;
  store.send(th.root.conversation_id, text.trim(), { thread_id: th.root.id, in_channel: inChannel, mentions });
  threadV.bump();
}

// ---- events ------------------------------------------------------------------

function onEvent(f: Frame) {
  const d = f.data;
  switch (f.type) {
    case "message.created": {
      const m = d as Message;
      const th = thread.value;
      if (th && m.thread_id === th.root.id && !th.replies.some((r) => r.id === m.id)) {
        th.replies = [...th.replies, m].sort((a, b) => a.seq - b.seq);
        threadV.bump();
      }
      const c = store.convs.get(m.conversation_id);
      const looking = store.viewing.convId === m.conversation_id && store.viewing.atBottom && document.visibilityState === "visible";
      if (c && mentionsMe(m) && !looking && m.seq > c.read_seq) store.patchConv(c.id, (c) => ({ mentions: (c.mentions || 0) + 1 }));
      break;
    }
    case "message.updated": {
      const m = d as Message;
      if (m.thread) threadRoots.set(m.id, m);
      const th = thread.value;
      if (th && th.root.id === m.id) {
        th.root = { ...m, reactions: m.reactions ?? th.root.reactions };
        threadV.bump();
      } else if (th && m.thread_id === th.root.id) {
        th.replies = th.replies.map((r) => (r.id === m.id ? { ...m, reactions: m.reactions ?? r.reactions } : r));
        threadV.bump();
      }
      break;
    }
    case "message.reactions":
      setReactions(d.conversation_id, d.message_id, d.seq, d.thread_id || 0, d.reactions || []);
      break;
    case "conversation.muted":
      store.patchConv(d.conversation_id, () => ({ muted: d.muted, muted_until: d.until }));
      store.refreshUnread(0);
      break;
    case "read_state":
      store.patchConv(d.conversation_id, () => ({ mentions: d.mentions || 0 }));
      break;
  }
}

store.eventHooks.add(onEvent);
quietRules.add(quiet);
