// The support inbox (docs/inbox.md, seed 003): every dialog the user may
// see, paged through GET /dialogs with its cursor, filtered and sorted as
// the URL says, and kept live by the same events as live chat's sidebar
// (dialog.updated, message.created, conversation.removed, tag.updated,
// tag.deleted) in any order: each changed dialog is placed again by the
// server's order, or leaves the list when it no longer matches.
//
// The dialogs themselves live in livechat.ts's map, so a row of the inbox,
// a row of the Visitors block and the dialog view show the same object.

import { locale, num, t } from "../i18n/i18n";
import * as api from "./api";
import { ApiError } from "./api";
import * as live from "./livechat";
import { Sig, Version } from "./sig";
import * as store from "./store";
import type { ChannelKind, Contact, CustomerCard, Dialog, DialogFile, Frame, QuickReply, Tag, User } from "./types";

// ---- filters -----------------------------------------------------------------

export type Sort = "processing" | "activity";

export interface Filters {
  /** Empty: the server's default (processing when a project has reply time limits). */
  sort: "" | Sort;
  /** Managers in charge; 0 is "unassigned". */
  assignee: number[];
  /** Only the dialogs a bot is in charge of. */
  bots: boolean;
  channel: string[];
  status: "" | "open" | "closed";
  last_from: "" | "customer" | "manager";
  tag: number[];
  no_tags: boolean;
  pinned: boolean;
}

const ints = (v: string | null) =>
  (v || "")
    .split(",")
    .filter((x) => /^\d+$/.test(x))
    .map(Number);

export function parseFilters(query: string): Filters {
  const q = new URLSearchParams(query);
  const one = <T extends string>(k: string, allowed: T[]): T | "" => (allowed.includes(q.get(k) as T) ? (q.get(k) as T) : "");
  const noTags = q.get("no_tags") === "true";
  return {
    sort: one("sort", ["processing", "activity"]),
    assignee: ints(q.get("assignee")),
    bots: q.get("bots") === "true",
    channel: (q.get("channel") || "").split(",").filter(Boolean),
    status: one("status", ["open", "closed"]),
    last_from: one("last_from", ["customer", "manager"]),
    tag: noTags ? [] : ints(q.get("tag")),
    no_tags: noTags,
    pinned: q.get("pinned") === "true",
  };
}

/** query is the filters as URL and API parameters (without "?"), in a fixed order. */
export function query(f: Filters, opts: { sort?: boolean; tags?: boolean } = {}): string {
  const p: [string, string][] = [];
  if (f.sort && opts.sort !== false) p.push(["sort", f.sort]);
  if (f.status) p.push(["status", f.status]);
  if (f.assignee.length) p.push(["assignee", f.assignee.join(",")]);
  if (f.bots) p.push(["bots", "true"]);
  if (f.channel.length) p.push(["channel", f.channel.join(",")]);
  if (f.last_from) p.push(["last_from", f.last_from]);
  if (opts.tags !== false) {
    if (f.no_tags) p.push(["no_tags", "true"]);
    else if (f.tag.length) p.push(["tag", f.tag.join(",")]);
  }
  if (f.pinned) p.push(["pinned", "true"]);
  return p.map(([k, v]) => k + "=" + encodeURIComponent(v).replace(/%2C/g, ",")).join("&");
}

/** activeFilters counts the filters set (the sort aside), for the filter button's badge. */
export function activeFilters(f: Filters): number {
  return (
    (f.status ? 1 : 0) +
    (f.assignee.length ? 1 : 0) +
    (f.bots ? 1 : 0) +
    (f.channel.length ? 1 : 0) +
    (f.last_from ? 1 : 0) +
    (f.no_tags || f.tag.length ? 1 : 0) +
    (f.pinned ? 1 : 0)
  );
}

/** matches tells whether a dialog belongs in the list under the filters (the server's rules, docs/inbox.md). */
export function matches(d: Dialog, f: Filters): boolean {
  const s = d.support;
  if (f.status && s.status !== f.status) return false;
  if (f.assignee.length && !f.assignee.includes(s.assignee_id || 0)) return false;
  if (f.bots && !isBot(s.assignee_id || 0)) return false;
  if (f.channel.length && !f.channel.includes(s.channel || "widget")) return false;
  if (f.last_from && s.last_from !== f.last_from) return false;
  const tags = (d.contact?.tags || []).filter((tg) => !f.pinned || tg.pinned);
  if (f.no_tags) return tags.length === 0;
  if (f.tag.length) return f.tag.every((id) => tags.some((tg) => tg.tag_id === id));
  if (f.pinned) return tags.length > 0;
  return true;
}

const activityOf = (d: Dialog) => d.support.activity_at || d.last_message?.created_at || d.conversation.last_message_at || d.conversation.created_at;

/**
 * before: the server's orders, total by the dialog's id. Activity: newest
 * communication first. Processing: those waiting for a reply first, the
 * longest waiting at the top, then the answered ones by activity.
 */
export function before(a: Dialog, b: Dialog, sort: Sort): boolean {
  if (sort === "processing") {
    const wa = a.support.waiting_since || "",
      wb = b.support.waiting_since || "";
    if (!!wa !== !!wb) return !!wa;
    if (wa) {
      const x = Date.parse(wa),
        y = Date.parse(wb);
      return x !== y ? x < y : a.conversation.id < b.conversation.id;
    }
  }
  const x = Date.parse(activityOf(a)),
    y = Date.parse(activityOf(b));
  return x !== y ? x > y : a.conversation.id > b.conversation.id;
}

// ---- the list ------------------------------------------------------------------

const PAGE = 100;

export const list = {
  /** The filters the list holds (their query). */
  key: null as string | null,
  filters: parseFilters(""),
  ids: [] as number[],
  cursor: "",
  done: false,
  loading: false,
  error: "",
  /** The order the server used. */
  sort: "activity" as Sort,
};
/** Bumped when the rows (their set or order) change. */
export const listV = new Version();
/** Whether the processing order can be chosen (a project in view has reply time limits); null until known. */
export const processing = new Sig<boolean | null>(null);
/** The number of dialogs unread by the user, for the inbox's header. */
export const unreadDialogs = new Sig(0);

let epoch = 0;
let inList = new Set<number>();
/** True while a page is being stored: its dialogs are appended, not placed. */
let paging = false;

function setIds(ids: number[]) {
  list.ids = ids;
  inList = new Set(ids);
  listV.bump();
}

/** show makes the list hold the dialogs of a filter set (nothing is fetched if it already does). */
export function show(f: Filters) {
  const key = query(f);
  if (key === list.key) return;
  list.key = key;
  list.filters = f;
  list.cursor = "";
  list.done = false;
  list.error = "";
  setIds([]);
  epoch++;
  more();
  // Live changes are matched against the bots (the dialog names its manager in charge, not whether that is a bot).
  if (f.bots) loadBots();
  if (processing.value === null && f.sort) probeProcessing();
}

/** reload fetches the list again from its start (after a resync). */
export function reload() {
  if (list.key === null) return;
  const f = list.filters;
  list.key = null;
  show(f);
}

async function probeProcessing() {
  try {
    const res = await api.get<{ sort: Sort }>("/dialogs?limit=1");
    processing.value = res.sort === "processing";
  } catch {
    /* asked again with the next list */
  }
}

/** more fetches the next page (the first when the list is empty). */
export async function more() {
  if (list.loading || list.done || list.key === null) return;
  const e = epoch;
  list.loading = true;
  listV.bump();
  try {
    const q = query(list.filters);
    const res = await api.get<{ dialogs: Dialog[] | null; next_cursor?: string; sort: Sort }>(
      "/dialogs?" + (q ? q + "&" : "") + api.qs({ limit: PAGE, cursor: list.cursor }).slice(1),
    );
    if (e !== epoch) return;
    list.sort = res.sort || "activity";
    if (!list.filters.sort) processing.value = list.sort === "processing";
    const ids = [...list.ids];
    paging = true;
    for (const d of res.dialogs || []) {
      const id = d.conversation.id;
      const known = live.dialogs.get(id);
      // An event may have brought a newer state while the page was on its way.
      if (!known || known.conversation.last_seq <= d.conversation.last_seq) live.put(d, true);
      if (!inList.has(id)) {
        ids.push(id);
        inList.add(id);
      }
    }
    paging = false;
    list.cursor = res.next_cursor || "";
    list.done = !list.cursor;
    list.ids = ids;
    live.dialogsV.bump();
  } catch (err) {
    paging = false;
    if (e !== epoch) return;
    // The processing order asked of a server whose projects have no reply limits.
    if (err instanceof ApiError && err.field === "sort" && list.filters.sort === "processing") {
      processing.value = false;
      list.error = t("app.inbox.list.noProcessing");
    } else list.error = (err as Error).message;
    list.done = true;
  } finally {
    if (e === epoch) {
      list.loading = false;
      listV.bump();
    }
  }
}

/** place puts a changed dialog where the order wants it, or takes it out. */
function place(d: Dialog) {
  if (list.key === null || paging) return;
  const id = d.conversation.id;
  const f = list.filters;
  const ids = list.ids;
  const had = inList.has(id);
  const rest = had ? ids.filter((x) => x !== id) : ids;
  if (!matches(d, f)) {
    if (had) setIds(rest);
    return;
  }
  // Binary search for the first row the dialog goes before.
  let lo = 0,
    hi = rest.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const o = live.dialogs.get(rest[mid]);
    if (o && before(o, d, list.sort)) lo = mid + 1;
    else hi = mid;
  }
  // Beyond the pages loaded so far: it comes with a later page.
  if (lo === rest.length && !list.done) {
    if (had) setIds(rest);
    return;
  }
  if (had && ids[lo] === id) return; // in place already
  setIds([...rest.slice(0, lo), id, ...rest.slice(lo)]);
}

live.hooks.dialog = (d) => {
  place(d);
  refreshUnread();
};
live.hooks.removed = (id) => {
  if (inList.has(id)) setIds(list.ids.filter((x) => x !== id));
  refreshUnread();
};
live.hooks.tag = onTag;

// ---- unread dialogs -------------------------------------------------------------

let unreadTimer = 0;
let unreadEndpoint = true;

/** refreshUnread asks for the number of unread dialogs (GET /dialogs/unread), at most every half second. */
export function refreshUnread(delay = 500) {
  if (unreadTimer && delay) return;
  clearTimeout(unreadTimer);
  unreadTimer = window.setTimeout(async () => {
    unreadTimer = 0;
    if (unreadEndpoint) {
      try {
        unreadDialogs.value = (await api.get<{ dialogs: number }>("/dialogs/unread")).dialogs || 0;
        return;
      } catch (e) {
        if (!(e instanceof ApiError && (e.status === 404 || e.status === 405))) return;
        unreadEndpoint = false; // an older server: count what the app holds
      }
    }
    let n = 0;
    for (const d of live.dialogs.values()) if (live.unreadOf(d) > 0) n++;
    unreadDialogs.value = n;
  }, delay);
}

/** patch changes a dialog the app holds (and places it again). */
function patch(id: number, fn: (d: Dialog) => Partial<Dialog>) {
  const d = live.dialogs.get(id);
  if (!d) return;
  live.put({ ...d, ...fn(d) });
}

/** read marks a dialog read for the viewer (they opened it); members also move their read pointer. */
export async function read(id: number) {
  const d = live.dialogs.get(id);
  if (store.convs.has(id)) store.markRead(id);
  if (d) live.noteRead(d);
  if (d && !d.unread && !store.convs.has(id)) return;
  if (d?.unread) patch(id, () => ({ unread: 0 }));
  try {
    await api.post(`/dialogs/${id}/read`);
  } catch {
    /* an older server: the member's read pointer did it */
  }
  // A copy of the dialog fetched while the read was on its way still counted the messages.
  if (live.dialogs.get(id)?.unread) patch(id, () => ({ unread: 0 }));
  refreshUnread(0);
}

/** markUnread: the dialog is unread for this user only until they open it again. */
export async function markUnread(id: number) {
  live.forgetRead(id);
  try {
    await api.post(`/dialogs/${id}/unread`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404 && store.convs.has(id))) throw e;
  }
  // A member's own copy of the conversation carries the mark too (the row reads it).
  if (store.convs.has(id)) await store.markUnread(id);
  patch(id, (d) => ({ unread: Math.max(1, d.unread || 0) }));
  refreshUnread(0);
}

// ---- tags ------------------------------------------------------------------------

/** Tags by id, with their counts under the list's other filters (from the last GET /tags). */
export const tags = new Map<number, Tag>();
export const tagsV = new Version();
/** The tags in the server's order (most used first). */
export let tagOrder: number[] = [];

/** loadTags fetches the tags with their dialog counts under the filters (the tags aside). */
export async function loadTags(f: Filters = list.filters) {
  const q = query({ ...f, sort: "" }, { tags: false });
  const res = await api.get<{ tags: Tag[] } | Tag[]>("/tags" + (q ? "?" + q : ""));
  const all = Array.isArray(res) ? res : res.tags || [];
  tags.clear();
  for (const tg of all) tags.set(tg.id, tg);
  tagOrder = all.map((tg) => tg.id);
  tagsV.bump();
}

function onTag(f: Frame) {
  if (f.type === "tag.deleted") {
    const id = f.data?.id as number;
    tags.delete(id);
    tagOrder = tagOrder.filter((x) => x !== id);
    retag((ts) => ts.filter((tg) => tg.tag_id !== id));
  } else {
    const tg = f.data as Tag;
    const old = tags.get(tg.id);
    tags.set(tg.id, { ...tg, dialogs: old?.dialogs ?? tg.dialogs ?? 0 });
    if (!old) tagOrder = [...tagOrder, tg.id];
    retag((ts) => ts.map((x) => (x.tag_id === tg.id ? { ...x, name: tg.name, color: tg.color } : x)));
  }
  tagsV.bump();
}

/** retag changes the tags shown on every customer the app holds. */
function retag(fn: (ts: NonNullable<Contact["tags"]>) => NonNullable<Contact["tags"]>) {
  for (const [id, d] of live.dialogs) {
    if (!d.contact?.tags?.length) continue;
    live.dialogs.set(id, { ...d, contact: { ...d.contact, tags: fn(d.contact.tags) } });
  }
  live.dialogsV.bump();
}

export const createTag = (name: string, color: string) => api.post<Tag>("/tags", { name, color });
export const updateTag = (id: number, name: string, color: string) => api.patch<Tag>(`/tags/${id}`, { name, color });
export const deleteTag = (id: number) => api.del(`/tags/${id}`);

// ---- customers -------------------------------------------------------------------

/** contactChanged puts a customer's new card on every dialog of theirs the app holds. */
export function contactChanged(k: Contact) {
  for (const [id, d] of live.dialogs) if (d.contact?.id === k.id) live.put({ ...live.dialogs.get(id)!, contact: { ...d.contact, ...k } });
}

export const card = (contactId: number) => api.get<CustomerCard>(`/contacts/${contactId}`);

export async function saveContact(contactId: number, body: Partial<Pick<Contact, "name" | "email" | "phone" | "attributes">>) {
  const k = await api.patch<Contact>(`/contacts/${contactId}`, body);
  contactChanged(k);
  return k;
}

export async function tagContact(contactId: number, tagId: number, pinned: boolean) {
  const k = await api.put<Contact>(`/contacts/${contactId}/tags/${tagId}`, { pinned });
  contactChanged(k);
  return k;
}

export async function untagContact(contactId: number, tagId: number) {
  const k = await api.del<Contact>(`/contacts/${contactId}/tags/${tagId}`);
  contactChanged(k);
  return k;
}

export async function block(contactId: number, on: boolean) {
  const k = await api.post<Contact>(`/contacts/${contactId}/${on ? "block" : "unblock"}`);
  contactChanged(k);
  return k;
}

/** exportURL downloads everything stored about a customer (a ZIP; the chat settings right). */
export const exportURL = (contactId: number) => `/api/v1/contacts/${contactId}/export`;

/** erase deletes a customer's dialogs, files, cases and personal data for good (the chat settings right). */
export async function erase(contactId: number, dialogIds: number[]) {
  const res = await api.post<{ contact: Contact; dialogs: number; files: number }>(`/contacts/${contactId}/erase`);
  for (const id of dialogIds) {
    live.dialogs.delete(id);
    live.hooks.removed(id);
  }
  live.dialogsV.bump();
  return res;
}

// ---- dialog actions ----------------------------------------------------------------

export async function reassign(id: number, userId: number) {
  live.put(await api.post<Dialog>(`/dialogs/${id}/reassign`, { user_id: userId }));
}

/** unpin takes the customer card off the dialog (the customer stays). */
export async function unpin(id: number) {
  live.put(await api.post<Dialog>(`/dialogs/${id}/unpin`));
}

/** remove deletes dialogs for good (the dialogs.delete right). */
export async function remove(ids: number[]): Promise<number> {
  const res = await api.post<{ deleted: number }>("/dialogs/delete", { ids });
  for (const id of ids) {
    live.dialogs.delete(id);
    live.hooks.removed(id);
  }
  live.dialogsV.bump();
  return res.deleted;
}

export async function files(id: number, kind: "image" | "file"): Promise<DialogFile[]> {
  const res = await api.get<{ files: DialogFile[] | null }>(`/dialogs/${id}/files?kind=${kind}`);
  return res.files || [];
}

/** resend sends a file of the dialog into it again: a copy becomes the sender's own upload, then a new message carries it. */
export async function resend(id: number, f: DialogFile) {
  const copy = await api.post<{ id: number }>(`/files/${f.id}/copy`, {});
  await api.post(`/conversations/${id}/messages`, { client_id: store.uuid(), text: "", file_ids: [copy.id] });
}

/** canReassign: a manager (chat settings right) or the manager in charge (docs/inbox.md). */
export function canReassign(d: Dialog): boolean {
  return store.canManageChat(store.me.value) || (!!d.support.assignee_id && d.support.assignee_id === store.me.value?.id);
}

export function canDelete(): boolean {
  return store.me.value?.role === "admin" || store.rights.value.includes("dialogs.delete");
}

// ---- bots ------------------------------------------------------------------------------

/**
 * The bot accounts (docs/webhooks.md), null until asked: the filter panel
 * shows the Bots filter once there is one (seed 003), and the list matches
 * live changes against them. The directory has no bot filter, so its pages
 * are read through (bots are few, people at most a few thousand).
 */
export const bots = new Sig<User[] | null>(null);
let botsLoading: Promise<User[]> | null = null;
let botsAt = 0;

export function isBot(id: number): boolean {
  return !!id && !!bots.value?.some((u) => u.id === id);
}

/** loadBots reads the bots when what the app holds is older than maxAge (ms; 0: always). */
export function loadBots(maxAge = 30_000): Promise<User[]> {
  if (bots.value && Date.now() - botsAt < maxAge) return Promise.resolve(bots.value);
  if (botsLoading) return botsLoading;
  const p = (async () => {
    const out: User[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const page = await api.get<{ users: User[] | null; next_cursor?: string }>("/users" + api.qs({ limit: 500, cursor }));
      out.push(...(page.users || []).filter((u) => u.bot));
      cursor = page.next_cursor || "";
    } while (cursor && ++pages < 40);
    return out;
  })();
  botsLoading = p;
  p.then(
    (list) => {
      bots.value = list;
      botsAt = Date.now();
    },
    () => {},
  ).finally(() => {
    botsLoading = null;
  });
  return p;
}

// A bot created or changed meanwhile (user.updated): the filter appears without a reload.
store.userHooks.push((u) => {
  if (!u.bot || !bots.value) return;
  const i = bots.value.findIndex((b) => b.id === u.id);
  bots.value = i < 0 ? [...bots.value, u] : bots.value.map((b) => (b.id === u.id ? { ...b, ...u } : b));
});

// ---- quick replies --------------------------------------------------------------------

/** The user's quick replies, then the projects' shortcuts (null until loaded). */
export const quickReplies = new Sig<QuickReply[] | null>(null);

export async function loadQuickReplies() {
  try {
    const res = await api.get<{ quick_replies: QuickReply[] | null }>("/quick-replies");
    quickReplies.value = res.quick_replies || [];
  } catch {
    quickReplies.value = [];
  }
}

export async function saveQuickReply(q: { id?: number; shortcut: string; text: string }) {
  const body = { shortcut: q.shortcut.replace(/^\//, "").trim(), text: q.text };
  if (q.id) await api.patch(`/quick-replies/${q.id}`, body);
  else await api.post("/quick-replies", body);
  await loadQuickReplies();
}

export async function deleteQuickReply(id: number) {
  await api.del(`/quick-replies/${id}`);
  await loadQuickReplies();
}

/**
 * repliesFor: the quick replies offered in a dialog: the user's own, then
 * the project's shortcuts (from the list when it has them, else from the
 * project the app knows: a manager may answer in a project they do not serve).
 */
export function repliesFor(projectId: number): QuickReply[] {
  const all = quickReplies.value || [];
  const own = all.filter((q) => q.id);
  let proj = all.filter((q) => q.project_id === projectId);
  if (!proj.length) proj = (live.projects.get(projectId)?.messages?.shortcuts || []).map((s) => ({ project_id: projectId, shortcut: s.name, text: s.text }));
  return [...own, ...proj];
}

// ---- channels -----------------------------------------------------------------------------

let kinds: Promise<ChannelKind[]> | null = null;
/** channelKinds: the kinds of channel this server connects, asked once per session. */
export function channelKinds(): Promise<ChannelKind[]> {
  kinds ||= api.get<{ kinds: ChannelKind[] }>("/channel-kinds").then(
    (r) => r.kinds || [],
    (e) => {
      kinds = null;
      throw e;
    },
  );
  return kinds;
}

/** The channels the filter lists: the widget and every kind the server connects. */
export const activeChannels = new Sig<string[]>(["widget"]);
export function loadActiveChannels() {
  channelKinds().then(
    (ks) => (activeChannels.value = ["widget", ...ks.map((k) => k.kind).filter((k) => k !== "widget")]),
    () => {},
  );
}

/** Attachment kinds by MIME type, as the channels' limits count them. */
export function fileKind(type: string): "image" | "audio" | "video" | "other" {
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  return "other";
}

const KIND_LIMIT = {
  image: "app.inbox.limit.image",
  audio: "app.inbox.limit.audio",
  video: "app.inbox.limit.video",
  other: "app.inbox.limit.other",
} as const;

/** tooLarge says, in words, why a file may not be sent in a dialog's channel ("" when it may). */
export function tooLarge(d: Dialog | undefined, f: { size: number; type: string }): string {
  const l = d?.attachment_limits;
  if (!l) return "";
  const kind = fileKind(f.type || "");
  const max = l[kind];
  if (!max || f.size <= max) return "";
  const mb = max / (1024 * 1024);
  const n = (x: number, digits: number) => num(x, locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
  const words = mb >= 1 ? t("app.inbox.limit.mb", { size: n(mb, Number.isInteger(mb) ? 0 : 1) }) : t("app.inbox.limit.kb", { size: n(Math.round(max / 1024), 0) });
  return t(KIND_LIMIT[kind], { size: words });
}

live.hooks.loaded = () => {
  // The state was fetched again (start, resync): so is the list.
  refreshUnread(0);
  if (list.key !== null) reload();
};

store.ready.subscribe(() => {
  if (!store.ready.value) {
    list.key = null;
    setIds([]);
    quickReplies.value = null;
    processing.value = null;
    bots.value = null;
  }
});

Object.assign(((window as any).__parley ||= {}), { inbox: list });
