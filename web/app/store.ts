// The app's state and everything that changes it: the signed-in user, the
// conversations, histories, the outbox of messages not yet acknowledged,
// presence, typing, reminders, settings. Events from the WebSocket are
// applied here, idempotently: every message event carries its
// conversation and seq, so applying one twice changes nothing.

import * as api from "./api";
import { ApiError } from "./api";
import { Realtime } from "./realtime";
import { follow } from "./lang";
import { t } from "../i18n/i18n";
import { navigate, route, convURL } from "./router";
import { Sig, Version } from "./sig";
import type {
  ChatSettings,
  Conversation,
  CardRef,
  FileInfo,
  Frame,
  Group,
  Limits,
  Message,
  MsgStatus,
  Presence,
  Quote,
  Reminder,
  Rotated,
  Settings,
  TwoFactorStatus,
  Unread,
  User,
} from "./types";
import * as notify from "./notify";
import * as push from "./push";

// ---- state ---------------------------------------------------------------

/** undefined while starting, null when signed out. */
export const me = new Sig<User | null | undefined>(undefined);
export const needsSetup = new Sig(false);
/**
 * The organisation requires this administrator to use two-factor sign-in
 * and they have not set it up: the app shows only the set-up until they do.
 */
export const mustSetUpTwoFactor = new Sig(false);
export const limits = new Sig<Limits>({ max_message_length: 2000, max_file_size: 50 << 20, max_files_per_message: 10 });
export const settings = new Sig<Settings>({
  desktop_notifications: true,
  typing_notifications: true,
  send_on_enter: true,
  sound: true,
  always_scroll_to_end: true,
  language: "",
});
export const chatSettings = new Sig<ChatSettings>({ assistance_enabled: false, assistance_admin_id: 0 });
/** The rights the signed-in user holds through groups (admins hold all). */
export const rights = new Sig<string[]>([]);
/** True once the first page of conversations is in. */
export const ready = new Sig(false);
export const unreadTotal = new Sig(0);

export const convs = new Map<number, Conversation>();
/** Conversation ids, newest activity first. */
export let convOrder: number[] = [];
export const convsV = new Version();
/** Bumped only when the order or the set of conversations changes (the sidebar's rows). */
export const orderV = new Version();
/** More conversations are still loading in the background. */
export const convsLoading = new Sig(false);

export const presence = new Map<number, Presence>();
export const presenceV = new Version();

/** conversation → user → until (ms). */
export const typing = new Map<number, Map<number, number>>();
export const typingV = new Version();

/** message id → reminder. */
export const reminders = new Map<number, Reminder>();
export const remindersV = new Version();

/** Names of users seen anywhere (members, directory), for senders and quotes. */
export const people = new Map<number, { name: string; email: string; photo_file_id?: number }>();
export const peopleV = new Version();

export interface Toast {
  id: number;
  kind: "info" | "error" | "reminder" | "message";
  text: string;
  reminder?: Reminder;
  /** A toast that opens something when clicked (a customer's new message: the dialog). */
  open?: () => void;
}
export const toasts = new Sig<Toast[]>([]);
let toastSeq = 0;

export function toast(text: string, kind: Toast["kind"] = "info", reminder?: Reminder, ms = 5000, open?: () => void) {
  const item: Toast = { id: ++toastSeq, kind, text, reminder, open };
  toasts.value = [...toasts.value, item];
  if (kind !== "reminder") setTimeout(() => dismiss(item.id), ms);
  return item.id;
}

export function dismiss(id: number) {
  toasts.value = toasts.value.filter((x) => x.id !== id);
}

export function fail(e: unknown) {
  const msg = e instanceof Error ? e.message : String(e);
  toast(msg, "error");
}

// ---- extensions ----------------------------------------------------------

/**
 * ext lets a feature module (live chat, livechat.ts) take part in the
 * store's life without the store importing it: loading the state, events
 * the store does not know, messages of conversations it does not hold,
 * names and titles. livechat.ts fills these in when it is imported.
 */
export const ext = {
  /** Load the feature's state after hello (with the conversations). */
  load: async (): Promise<void> => {},
  reset: (): void => {},
  /** An event the store does not handle itself. */
  event: (_f: Frame): void => {},
  /** Every new or updated message; true when the feature owns the conversation and it is not ours to fetch. */
  message: (_m: Message): boolean => false,
  /** The name of a contact (a website visitor), for senders and typing lines. */
  contactName: (_contactId: number, _convId?: number): string | undefined => undefined,
  /** Whether a conversation is a live-chat dialog (its system lines read differently). */
  isDialog: (_convId: number): boolean => false,
  /** A conversation's title when the feature knows better (support: the visitor). */
  title: (_c: Conversation): string | undefined => undefined,
  /** A conversation left the user's own (conversation.removed). */
  removed: (_id: number): void => {},
};

// ---- histories -----------------------------------------------------------

const PAGE = 100;
/** The most messages kept per conversation; beyond that the far end is dropped and refetched on scroll. */
export const HISTORY_CAP = 3000;

export class History {
  msgs: Message[] = [];
  hasOlder = true;
  atLatest = true;
  loading: "" | "init" | "older" | "newer" = "";
  period = "";
  error = "";
  started = false;
  /** A message to bring into view (jump from search, reminder, quote). */
  focus = 0;
  /** Bumped when the window is replaced (latest, jump, period): older answers for the old window are dropped. */
  gen = 0;
  readonly v = new Version();

  constructor(public id: number) {}

  index(seq: number): number {
    let lo = 0,
      hi = this.msgs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.msgs[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** put inserts or replaces a message by seq; it reports whether anything changed. */
  put(m: Message): boolean {
    const i = this.index(m.seq);
    if (i < this.msgs.length && this.msgs[i].seq === m.seq) {
      const old = this.msgs[i];
      if (old === m) return false;
      // A send's late answer ("queued") must not undo the channel's report.
      if (old.id === m.id && statusRank(old.status) > statusRank(m.status)) m = { ...m, status: old.status, status_error: old.status_error };
      this.msgs[i] = m;
      return true;
    }
    if (i === this.msgs.length && !this.atLatest) return false; // beyond the window: fetched on scroll
    if (i === 0 && this.msgs.length && this.hasOlder) return false; // before the window
    this.msgs.splice(i, 0, m);
    return true;
  }

  byId(id: number): Message | undefined {
    return this.msgs.find((m) => m.id === id);
  }

  get last(): Message | undefined {
    return this.msgs[this.msgs.length - 1];
  }
}

/** statusRank orders a channel's statuses as the server does: they only move forward. */
function statusRank(st: MsgStatus | undefined): number {
  return st ? ["queued", "sent", "delivered", "read", "failed"].indexOf(st) : -1;
}

export const histories = new Map<number, History>();

export function history(id: number): History {
  let h = histories.get(id);
  if (!h) {
    h = new History(id);
    histories.set(id, h);
  }
  return h;
}

function pageQuery(h: History, extra: Record<string, number | string | undefined>) {
  return api.qs({
    limit: PAGE,
    period: h.period || undefined,
    tz: h.period ? Intl.DateTimeFormat().resolvedOptions().timeZone : undefined,
    ...extra,
  });
}

async function fetchPage(h: History, extra: Record<string, number | string | undefined>): Promise<Message[]> {
  const res = await api.get<{ messages: Message[] }>(`/conversations/${h.id}/messages` + pageQuery(h, extra));
  return res.messages;
}

export async function loadLatest(h: History) {
  const gen = ++h.gen;
  h.started = true;
  h.loading = "init";
  h.error = "";
  h.v.bump();
  try {
    const msgs = await fetchPage(h, {});
    if (gen !== h.gen) return;
    // Messages that arrived on the socket while the page was on its way.
    const newest = msgs.length ? msgs[msgs.length - 1].seq : 0;
    h.msgs = msgs.concat(h.msgs.filter((m) => m.seq > newest));
    h.hasOlder = msgs.length === PAGE;
    h.atLatest = true;
    for (const m of msgs) notePeopleOf(m);
  } catch (e) {
    if (gen === h.gen) h.error = (e as Error).message;
  } finally {
    if (gen === h.gen) {
      h.loading = "";
      h.v.bump();
    }
  }
}

export async function loadOlder(h: History) {
  if (h.loading || !h.hasOlder || !h.msgs.length) return;
  const gen = h.gen;
  h.loading = "older";
  try {
    const msgs = await fetchPage(h, { before: h.msgs[0].seq });
    if (gen !== h.gen) return;
    h.hasOlder = msgs.length === PAGE;
    h.msgs = msgs.concat(h.msgs);
    if (h.msgs.length > HISTORY_CAP) {
      h.msgs.length = HISTORY_CAP;
      h.atLatest = false;
    }
  } catch (e) {
    if (gen === h.gen) h.error = (e as Error).message;
  } finally {
    if (gen === h.gen) {
      h.loading = "";
      h.v.bump();
    }
  }
}

export async function loadNewer(h: History) {
  if (h.loading || h.atLatest || !h.msgs.length) return;
  const gen = h.gen;
  h.loading = "newer";
  try {
    const msgs = await fetchPage(h, { after: h.last!.seq });
    if (gen !== h.gen) return;
    h.atLatest = msgs.length < PAGE;
    h.msgs = h.msgs.concat(msgs);
    if (h.msgs.length > HISTORY_CAP) {
      h.msgs.splice(0, h.msgs.length - HISTORY_CAP);
      h.hasOlder = true;
    }
  } catch (e) {
    if (gen === h.gen) h.error = (e as Error).message;
  } finally {
    if (gen === h.gen) {
      h.loading = "";
      h.v.bump();
    }
  }
}

/** jumpTo loads the history around a message and asks the view to show it. */
export async function jumpTo(h: History, m: { id: number; seq: number }) {
  h.started = true;
  h.focus = m.id;
  if (h.msgs.some((x) => x.id === m.id)) {
    h.v.bump();
    return;
  }
  const gen = ++h.gen;
  h.loading = "init";
  h.v.bump();
  try {
    const half = PAGE / 2;
    h.period = ""; // a jump shows the message whatever the period filter
    const [before, after] = await Promise.all([
      fetchPage(h, { before: m.seq + 1, limit: half }),
      fetchPage(h, { after: m.seq, limit: half }),
    ]);
    if (gen !== h.gen) return;
    h.msgs = before.concat(after);
    h.hasOlder = before.length === half;
    h.atLatest = after.length < half;
  } catch (e) {
    if (gen === h.gen) h.error = (e as Error).message;
  } finally {
    if (gen === h.gen) {
      h.loading = "";
      h.v.bump();
    }
  }
}

/** Messages seen outside a history (search results, reminders), by id: a link to one needs its seq. */
export const knownMessages = new Map<number, Message>();

export function know(msgs: Message[]) {
  for (const m of msgs) knownMessages.set(m.id, m);
}

/**
 * findMessage finds a message's seq by its id. The API has no endpoint for
 * one message, so it looks in what the app has seen, the reminders, and
 * finally searches the conversation for the message's words.
 */
export async function findMessage(convId: number, id: number, text?: string): Promise<Message | undefined> {
  const known = knownMessages.get(id) || histories.get(convId)?.byId(id) || reminders.get(id)?.message;
  if (known) return known;
  try {
    const list = await api.get<{ reminders: Reminder[] | null }>("/reminders");
    const r = list.reminders?.find((x) => x.message_id === id);
    if (r?.message) return r.message;
  } catch {
    /* fall through */
  }
  const words = (text || "").split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 6).join(" ");
  if (!words) return undefined;
  try {
    let before = 0;
    for (let page = 0; page < 5; page++) {
      const res = await api.get<{ messages: Message[] }>("/search" + api.qs({ q: words, conversation_id: convId, limit: 100, before: before || undefined }));
      const hit = res.messages.find((m) => m.id === id);
      if (hit) return hit;
      if (res.messages.length < 100) break;
      before = Math.min(...res.messages.map((m) => m.id));
    }
  } catch {
    /* not found */
  }
  return undefined;
}

export async function setPeriod(h: History, period: string) {
  h.period = period;
  h.focus = 0;
  await loadLatest(h);
}

// ---- outbox --------------------------------------------------------------

export interface Pending {
  client_id: string;
  conversation_id: number;
  text: string;
  quote_id?: number;
  quote?: Quote;
  file_ids: number[];
  files: FileInfo[];
  created_at: string;
  status: "queued" | "failed";
  error?: string;
  /** A whisper (support dialogs): text only, seen by consultants only; sent over HTTP. */
  whisper?: boolean;
  /** A reply in a thread (also sent to the chat with in_channel), and the members it mentions (chat.ts). */
  thread_id?: number;
  in_channel?: boolean;
  mentions?: number[];
  /** Cards of records the message refers to (ui/Cards.tsx). */
  cards?: CardRef[];
  /** The req of the send frame on the current connection, 0 if not sent on it. */
  req?: number;
  sentAt?: number;
}

export let outbox: Pending[] = [];
export const outboxV = new Version();
const inflight = new Map<number, string>(); // req → client_id

function outboxKey() {
  return me.value ? `parley:outbox:${me.value.id}` : "";
}

function saveOutbox() {
  const k = outboxKey();
  if (!k) return;
  try {
    if (outbox.length) localStorage.setItem(k, JSON.stringify(outbox.map((p) => ({ ...p, req: 0, sentAt: 0 }))));
    else localStorage.removeItem(k);
  } catch {
    /* storage full or disabled: the outbox lives in memory only */
  }
  outboxV.bump();
}

function restoreOutbox() {
  const k = outboxKey();
  try {
    outbox = k ? JSON.parse(localStorage.getItem(k) || "[]") : [];
  } catch {
    outbox = [];
  }
  outboxV.bump();
}

export function uuid(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function pendingFor(convId: number, threadId = 0): Pending[] {
  // The main timeline shows no thread reply but those also sent to it.
  return outbox.filter((p) => p.conversation_id === convId && (threadId ? p.thread_id === threadId : !p.thread_id || p.in_channel));
}

/** send queues a message; it leaves at once if connected, else on reconnect. */
export function send(
  convId: number,
  text: string,
  opts: { quote?: Message; files?: FileInfo[]; whisper?: boolean; thread_id?: number; in_channel?: boolean; mentions?: number[]; cards?: CardRef[] } = {},
) {
  const p: Pending = {
    client_id: uuid(),
    conversation_id: convId,
    text,
    quote_id: opts.quote?.id,
    quote: opts.quote ? { id: opts.quote.id, sender_id: opts.quote.sender_id || 0, text: opts.quote.text } : undefined,
    file_ids: (opts.files || []).map((f) => f.id),
    files: opts.whisper ? [] : opts.files || [],
    created_at: new Date().toISOString(),
    status: "queued",
    whisper: opts.whisper || undefined,
    thread_id: opts.thread_id || undefined,
    in_channel: opts.in_channel || undefined,
    mentions: opts.mentions?.length ? opts.mentions : undefined,
    cards: opts.cards?.length ? opts.cards : undefined,
  };
  if (opts.whisper) p.file_ids = [];
  outbox = [...outbox, p];
  saveOutbox();
  flushOutbox();
}

export function retry(p: Pending) {
  p.status = "queued";
  p.error = undefined;
  p.req = 0;
  outbox = [...outbox];
  saveOutbox();
  flushOutbox();
}

export function discard(p: Pending) {
  outbox = outbox.filter((x) => x !== p);
  saveOutbox();
}

let flushTimer = 0;

function flushOutbox() {
  if (!rt.open) return;
  const now = Date.now();
  let changed = false;
  for (const p of outbox) {
    if (p.status !== "queued") continue;
    // Unanswered for 10 s on this connection: resend; the client id makes it safe.
    if (p.req && inflight.has(p.req) && now - (p.sentAt || 0) < 10_000) continue;
    if (p.whisper) {
      sendWhisper(p, now);
      changed = true;
      continue;
    }
    const req = rt.send({
      type: "send",
      conversation_id: p.conversation_id,
      client_id: p.client_id,
      text: p.text,
      quote_id: p.quote_id || 0,
      file_ids: p.file_ids,
      thread_id: p.thread_id || 0,
      in_channel: !!p.in_channel,
      mentions: p.mentions || [],
      cards: p.cards,
    });
    if (!req) break;
    inflight.set(req, p.client_id);
    p.req = req;
    p.sentAt = now;
    changed = true;
  }
  if (changed) outboxV.bump();
  clearTimeout(flushTimer);
  if (outbox.some((p) => p.status === "queued")) flushTimer = window.setTimeout(flushOutbox, 5000);
}

/** Whispers go over HTTP (the socket's send frame has no whisper flag); the client id makes retries safe. */
let whisperReq = -1;
function sendWhisper(p: Pending, now: number) {
  const req = whisperReq--;
  inflight.set(req, p.client_id);
  p.req = req;
  p.sentAt = now;
  api
    .post<Message>(`/conversations/${p.conversation_id}/messages`, { text: p.text, client_id: p.client_id, quote_id: p.quote_id || 0, file_ids: [], whisper: true, cards: p.cards })
    .then(
      (m) => {
        inflight.delete(req);
        applyMessage(m, true);
        acknowledged(m);
      },
      (e: ApiError) => {
        inflight.delete(req);
        if (e.code === "network" || e.code === "unavailable" || e.code === "rate_limited") {
          p.req = 0; // the next flush tries again
          return;
        }
        p.status = "failed";
        p.error = e.message;
        outbox = [...outbox];
        saveOutbox();
      },
    );
}

function acknowledged(m: Message) {
  const i = outbox.findIndex((p) => p.client_id === m.client_id && p.conversation_id === m.conversation_id);
  if (i < 0) return;
  outbox = outbox.filter((_, j) => j !== i);
  saveOutbox();
}

// ---- the connection ------------------------------------------------------

let buffering = true;
let buffered: Frame[] = [];

export const rt = new Realtime({
  hello(f, fresh) {
    if (f.user) setMe(f.user);
    if (!fresh && ready.value) refreshPresence();
    if (fresh || !ready.value) loadAll();
  },
  events(frames) {
    if (buffering) buffered.push(...frames);
    else applyEvents(frames);
  },
  reply(f) {
    for (const fn of replyHooks) fn(f);
    if (f.type === "ack" && f.message) {
      if (f.req) inflight.delete(f.req);
      applyMessage(f.message, true);
      acknowledged(f.message);
    } else if (f.type === "error" && f.req) {
      const cid = inflight.get(f.req);
      inflight.delete(f.req);
      const p = cid && outbox.find((x) => x.client_id === cid);
      if (p) {
        const code = f.error?.code || "";
        if (code === "unavailable" || code === "rate_limited") {
          p.req = 0; // try again on the next flush
        } else {
          p.status = "failed";
          p.error = f.error?.message || t("app.core.message.notSent");
          outbox = [...outbox];
        }
        saveOutbox();
      }
    }
  },
  signedOut() {
    signedOut(t("app.core.session.ended"));
  },
  opened() {
    inflight.clear();
    for (const p of outbox) p.req = 0;
    if (!buffering) flushOutbox();
    reportPresence();
  },
});

/** loadAll fetches the state over HTTP, holding events back until it is in; it retries on failure. */
function loadAll() {
  buffering = true;
  const epoch = sessionEpoch;
  loadState().then(
    () => {
      if (epoch !== sessionEpoch) return;
      buffering = false;
      const b = buffered;
      buffered = [];
      applyEvents(b);
      flushOutbox();
    },
    () => {
      if (epoch === sessionEpoch) setTimeout(() => epoch === sessionEpoch && loadAll(), 3000);
    },
  );
}

/** Changes at every sign-in and sign-out, so late answers of an old session are dropped. */
let sessionEpoch = 0;

function setMe(u: User) {
  me.value = u;
  people.set(u.id, { name: u.name, email: u.email, photo_file_id: u.photo_file_id });
}

// ---- sign-in -------------------------------------------------------------

api.onUnauthorized(() => {
  if (me.value) signedOut(t("app.core.session.ended"));
});

api.onSetupRequired(() => {
  if (me.value && !mustSetUpTwoFactor.value) holdForSetup(me.value);
});

export async function boot() {
  try {
    const u = await api.get<User>("/me", { quiet401: true });
    // GET /me answers even when nothing else would: ask whether the
    // organisation requires two-factor sign-in of this administrator.
    if (u.role === "admin" && !u.two_factor && !u.bot) {
      const st = await api.get<TwoFactorStatus>("/me/two-factor", { quiet401: true });
      if (st.required) return holdForSetup(u);
    }
    start(u);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      try {
        const s = await api.get<{ needs_setup: boolean }>("/setup");
        needsSetup.value = s.needs_setup;
      } catch {
        /* the sign-in screen will say what is wrong */
      }
      me.value = null;
    } else {
      me.value = null;
      toast((e as Error).message, "error");
      setTimeout(boot, 3000);
    }
  }
}

/**
 * login signs in; code is the authenticator's code or a recovery code, for
 * accounts with two-factor sign-in (the server answers two_factor_required
 * without it).
 */
export async function login(email: string, password: string, code = "") {
  const out = await api.post<{ csrf_token: string; user: User; two_factor_setup_required?: boolean }>(
    "/auth/login",
    code ? { email, password, code } : { email, password },
  );
  api.setCSRF(out.csrf_token);
  if (out.two_factor_setup_required) holdForSetup(out.user);
  else start(out.user);
}

/** holdForSetup shows only the two-factor set-up: every other call would be refused. */
function holdForSetup(u: User) {
  rt.stop();
  reset();
  setMe(u);
  mustSetUpTwoFactor.value = true;
}

/** setUpDone leaves the forced set-up for the app. */
export function setUpDone() {
  mustSetUpTwoFactor.value = false;
  const u = me.value;
  if (u) start({ ...u, two_factor: true });
}

/**
 * rotated takes a change of credentials (password, two-factor on or off):
 * the session's token changed, and the CSRF token to echo with it (the
 * server sets both cookies too).
 */
export function rotated(out: Rotated) {
  if (out.csrf_token) api.setCSRF(out.csrf_token);
}

export async function setup(name: string, email: string, password: string) {
  const out = await api.post<{ csrf_token: string; user: User }>("/setup", { name, email, password });
  api.setCSRF(out.csrf_token);
  needsSetup.value = false;
  start(out.user);
}

export async function logout() {
  // This browser stops receiving the user's pushes (push.ts).
  await push.disablePush().catch(() => {});
  try {
    await api.post("/auth/logout");
  } catch {
    /* signed out locally either way */
  }
  signedOut("");
}

function signedOut(message: string) {
  rt.stop();
  reset();
  mustSetUpTwoFactor.value = false;
  me.value = null;
  if (message) toast(message, "info", undefined, 8000);
  if (location.pathname !== "/") navigate("/", true);
}

function reset() {
  sessionEpoch++;
  convs.clear();
  convOrder = [];
  orderV.bump();
  histories.clear();
  presence.clear();
  typing.clear();
  reminders.clear();
  outbox = [];
  inflight.clear();
  ready.value = false;
  unreadTotal.value = 0;
  buffered = [];
  buffering = true;
  rt.cursor = 0;
  convsV.bump();
  ext.reset();
}

function start(u: User) {
  reset();
  setMe(u);
  restoreOutbox();
  api.get<Limits>("/config").then((l) => (limits.value = l), () => {});
  rt.start();
}

async function loadState() {
  const feature = ext.load().catch((e) => console.error("livechat", e));
  for (const fn of loadHooks) fn();
  const [s, cs, rem, groups, page] = await Promise.all([
    api.get<Settings>("/me/settings"),
    api.get<ChatSettings>("/chat/settings"),
    api.get<{ reminders: Reminder[] | null }>("/reminders"),
    api.get<{ groups: Group[] }>("/groups").catch(() => ({ groups: [] as Group[] })),
    api.get<{ conversations: Conversation[]; next_cursor?: string }>("/conversations?limit=200"),
  ]).catch((e) => {
    toast((e as Error).message, "error");
    throw e;
  });
  settings.value = s;
  follow(s.language);
  chatSettings.value = cs;
  reminders.clear();
  for (const r of rem.reminders || []) reminders.set(r.message_id, r);
  remindersV.bump();
  const uid = me.value?.id || 0;
  rights.value = [...new Set(groups.groups.filter((g) => g.member_ids?.includes(uid)).flatMap((g) => g.rights))];
  convs.clear();
  for (const c of page.conversations) putConv(c, true);
  resort();
  // Histories loaded before a resync may have missed events: reload them.
  for (const h of histories.values()) if (h.started) loadLatest(h);
  await feature;
  ready.value = true;
  performance.mark("parley-ready");
  refreshUnread(0);
  if (page.next_cursor) loadMoreConversations(page.next_cursor);
}

async function loadMoreConversations(cursor: string) {
  convsLoading.value = true;
  try {
    while (cursor) {
      const page = await api.get<{ conversations: Conversation[]; next_cursor?: string }>(
        "/conversations" + api.qs({ limit: 500, cursor }),
      );
      // A conversation already here came from an event and is newer.
      for (const c of page.conversations) if (!convs.has(c.id)) putConv(c, true);
      resort();
      cursor = page.next_cursor || "";
    }
  } catch (e) {
    toast((e as Error).message, "error");
  } finally {
    convsLoading.value = false;
  }
}

/**
 * refreshPresence updates everyone's presence after a reconnect: presence
 * events are not replayed, so changes while disconnected would be missed.
 */
async function refreshPresence() {
  const ids = [...presence.keys()].filter((id) => id !== me.value?.id);
  try {
    for (let i = 0; i < ids.length; i += 500) {
      const page = await api.get<{ users: User[] }>("/users" + api.qs({ ids: ids.slice(i, i + 500).join(","), limit: 500 }));
      for (const u of page.users) presence.set(u.id, u.presence || "offline");
      presenceV.bump();
    }
  } catch {
    /* the next reconnect tries again */
  }
}

let unreadTimer = 0;
export function refreshUnread(delay = 400) {
  clearTimeout(unreadTimer);
  unreadTimer = window.setTimeout(async () => {
    try {
      const u = await api.get<Unread>("/me/unread");
      unreadTotal.value = u.messages;
    } catch {
      /* next event tries again */
    }
  }, delay);
}

// ---- conversations -------------------------------------------------------

function activity(c: Conversation): string {
  return c.last_message_at || c.created_at;
}

function before(a: Conversation, b: Conversation): boolean {
  const x = activity(a),
    y = activity(b);
  return x !== y ? x > y : a.id > b.id;
}

function resort() {
  convOrder = [...convs.values()].sort((a, b) => (before(a, b) ? -1 : 1)).map((c) => c.id);
  orderV.bump();
  convsV.bump();
}

/** reposition moves one conversation to its place in the order (O(n), no full sort). */
function reposition(c: Conversation) {
  const i = convOrder.indexOf(c.id);
  if (i >= 0) convOrder.splice(i, 1);
  let lo = 0,
    hi = convOrder.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(convs.get(convOrder[mid])!, c)) lo = mid + 1;
    else hi = mid;
  }
  convOrder.splice(lo, 0, c.id);
  // A new message in the conversation already on top moves nothing.
  if (lo !== i) orderV.bump();
}

function putConv(c: Conversation, bulk = false) {
  convs.set(c.id, c);
  for (const m of c.members || []) {
    people.set(m.user_id, { name: m.name, email: m.email, photo_file_id: m.photo_file_id });
    if (!presence.has(m.user_id) || !bulk) presence.set(m.user_id, m.presence);
  }
  if (c.last_message) notePeopleOf(c.last_message);
  if (!bulk) {
    reposition(c);
    convsV.bump();
    peopleV.bump();
    presenceV.bump();
  }
}

export function patchConv(id: number, fn: (c: Conversation) => Partial<Conversation>) {
  const c = convs.get(id);
  if (!c) return;
  const next = { ...c, ...fn(c) };
  convs.set(id, next);
  if (activity(next) !== activity(c)) reposition(next);
  convsV.bump();
}

const fetching = new Set<number>();
async function fetchConv(id: number) {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    putConv(await api.get<Conversation>(`/conversations/${id}`));
  } catch {
    /* not ours (any more) */
  } finally {
    fetching.delete(id);
  }
}

export async function ensureConv(id: number): Promise<Conversation | undefined> {
  if (!convs.has(id)) await fetchConv(id);
  return convs.get(id);
}

export function notePeopleOf(_m: Message) {
  // Senders are members; nothing to do unless unknown (left the chat).
  const ids: number[] = [];
  if (_m.sender_id && !people.has(_m.sender_id)) ids.push(_m.sender_id);
  if (_m.quote?.sender_id && !people.has(_m.quote.sender_id)) ids.push(_m.quote.sender_id);
  for (const u of _m.event?.user_ids || []) if (!people.has(u)) ids.push(u);
  if (_m.event?.actor_id && !people.has(_m.event.actor_id)) ids.push(_m.event.actor_id);
  if (ids.length) wantPeople(ids);
}

const wanted = new Set<number>();
let peopleTimer = 0;
function wantPeople(ids: number[]) {
  for (const id of ids) wanted.add(id);
  clearTimeout(peopleTimer);
  peopleTimer = window.setTimeout(async () => {
    const ids = [...wanted].slice(0, 500);
    ids.forEach((id) => wanted.delete(id));
    try {
      const res = await api.get<{ users: User[] }>("/users" + api.qs({ ids: ids.join(","), limit: 500 }));
      for (const u of res.users) people.set(u.id, { name: u.name, email: u.email, photo_file_id: u.photo_file_id });
      peopleV.bump();
    } catch {
      /* names fall back to "Someone" */
    }
  }, 50);
}

export function personName(id: number | undefined): string {
  if (!id) return t("app.core.name.system");
  // Negative ids stand for website visitors (contacts) in typing lines.
  if (id < 0) return ext.contactName(-id) || t("app.core.name.visitor");
  return people.get(id)?.name || t("app.core.name.someone");
}

/** senderName names a message's author: a user, a website visitor, or the system. */
export function senderName(m: Message): string {
  if (m.contact_id && !m.sender_id) return ext.contactName(m.contact_id, m.conversation_id) || t("app.core.name.visitor");
  return personName(m.sender_id);
}

/** other returns the other member of a direct conversation (or the admin of an Assistance chat). */
export function other(c: Conversation) {
  const uid = me.value?.id;
  return c.members?.find((m) => m.user_id !== uid);
}

export function convTitle(c: Conversation): string {
  const uid = me.value?.id;
  if (c.kind === "support") return ext.title(c) || c.title || t("app.core.name.visitor");
  if (c.kind === "direct") return other(c)?.name || t("app.core.title.direct");
  if (c.kind === "assistance") {
    if (c.created_by === uid) return t("app.core.title.assistance");
    const asker = c.members?.find((m) => m.user_id === c.created_by);
    return asker?.name ? t("app.core.title.assistanceOf", { name: asker.name }) : t("app.core.title.assistanceOfSomeone");
  }
  if (c.title) return c.title;
  const names = (c.members || []).filter((m) => m.user_id !== uid).map((m) => m.name);
  return names.length ? names.join(", ") : t("app.core.title.multi");
}

export function presenceOf(uid: number | undefined): Presence {
  return (uid && presence.get(uid)) || "offline";
}

/** statusOf computes a message's delivery status from its conversation's receipts. */
export function statusOf(c: Conversation | undefined, m: Message): MsgStatus {
  if (!c) return m.status || "sent";
  if (m.seq <= c.receipts.read_seq) return "read";
  if (m.seq <= c.receipts.delivered_seq) return "delivered";
  return "sent";
}

// ---- events --------------------------------------------------------------

/** The conversation on screen, and whether the user is looking at its newest messages. */
export const viewing = { convId: 0, atBottom: false };

/**
 * eventHooks hear every event after the store applied it: features that
 * only watch (the availability selector, the queue view) follow the stream
 * without the store knowing them.
 */
export const eventHooks = new Set<(f: Frame) => void>();
/** replyHooks hear every answer to a frame (ack, ok, error), matched by req (calls' requests). */
export const replyHooks = new Set<(f: Frame) => void>();
/** loadHooks run whenever the state is (re)loaded: at sign-in and after a resync. */
export const loadHooks: (() => void)[] = [];

function applyEvents(frames: Frame[]) {
  for (const f of frames) {
    try {
      applyEvent(f);
      for (const fn of eventHooks) fn(f);
    } catch (e) {
      console.error("event", f.type, e);
    }
  }
}

function applyEvent(f: Frame) {
  const d = f.data;
  switch (f.type) {
    case "message.created": {
      const m = d as Message;
      applyMessage(m, false);
      // Our own message can come back before its ack: the stored copy
      // replaces the pending one, or both would show for a moment.
      if (m.client_id && m.sender_id === me.value?.id) acknowledged(m);
      break;
    }
    case "message.updated": {
      const m = d as Message;
      const h = histories.get(m.conversation_id);
      if (h && !(m.thread_id && !m.in_channel) && h.put(m)) h.v.bump();
      ext.message(m);
      const c = convs.get(m.conversation_id);
      if (c?.last_message?.id === m.id) patchConv(c.id, () => ({ last_message: m }));
      break;
    }
    case "conversation.updated": {
      const c = d as Conversation;
      const old = convs.get(c.id);
      if (!old) {
        fetchConv(c.id);
        break;
      }
      // Events to every member carry no personal fields: keep ours.
      putConv({
        ...old,
        ...c,
        unread: old.unread,
        marked_unread: old.marked_unread,
        read_seq: old.read_seq,
        draft: old.draft,
        last_message: c.last_message || old.last_message,
        receipts: maxReceipts(old.receipts, c.receipts),
        // Left out when unset: an old decline's values must not stay.
        declines: c.declines,
        declined_at: c.declined_at,
        ask_again_at: c.ask_again_at,
      });
      break;
    }
    case "conversation.removed": {
      const id = d.conversation_id as number;
      convs.delete(id);
      convOrder = convOrder.filter((x) => x !== id);
      histories.delete(id);
      orderV.bump();
      convsV.bump();
      if (route.value.convId === id) {
        toast(t("app.core.conversation.removed"));
        navigate("/", true);
      }
      refreshUnread();
      ext.removed(id);
      break;
    }
    case "conversation.receipts": {
      const id = d.conversation_id as number;
      patchConv(id, (c) => ({ receipts: maxReceipts(c.receipts, d) }));
      histories.get(id)?.v.bump();
      break;
    }
    case "read_state": {
      const id = d.conversation_id as number;
      patchConv(id, () => ({ read_seq: d.read_seq, unread: d.unread, marked_unread: d.marked_unread }));
      refreshUnread();
      break;
    }
    case "draft": {
      const id = d.conversation_id as number;
      patchConv(id, () => ({ draft: d.text }));
      draftEvents.value = { convId: id, text: d.text, at: d.at };
      break;
    }
    case "reminder.updated": {
      const r = d as Reminder & { deleted?: boolean };
      if (r.deleted) reminders.delete(r.message_id);
      else reminders.set(r.message_id, { ...reminders.get(r.message_id), ...r });
      remindersV.bump();
      break;
    }
    case "reminder.due": {
      const r = d as Reminder;
      reminders.set(r.message_id, r);
      remindersV.bump();
      notify.reminderDue(r);
      break;
    }
    case "notify.settings":
      push.settingsChanged(d);
      break;
    case "settings.updated":
      if (d.chat) chatSettings.value = d.chat;
      else if (d.security) {
        // The organisation now requires two-factor sign-in of administrators.
        const u = me.value;
        if (d.security.require_admin_two_factor && u && u.role === "admin" && !u.two_factor && !u.bot) holdForSetup(u);
      } else {
        settings.value = d;
        follow(d.language); // changed on another device: this one follows
      }
      break;
    case "user.updated": {
      const u = d as User;
      for (const fn of userHooks) fn(u);
      const before = people.get(u.id);
      people.set(u.id, { name: u.name, email: u.email, photo_file_id: u.photo_file_id });
      if (u.id === me.value?.id) me.value = { ...me.value, ...u };
      // Most updates (the last client used) change nothing shown in lists.
      if (before && before.name === u.name && before.email === u.email && before.photo_file_id === u.photo_file_id && u.active) break;
      for (const c of convs.values()) {
        if (c.members?.some((m) => m.user_id === u.id)) {
          convs.set(c.id, {
            ...c,
            members: c.members.map((m) =>
              m.user_id === u.id ? { ...m, name: u.name, email: u.email, active: u.active, photo_file_id: u.photo_file_id } : m,
            ),
          });
        }
      }
      peopleV.bump();
      convsV.bump();
      break;
    }
    case "typing": {
      if (d.user_id === me.value?.id) break;
      const who = d.user_id || (d.contact_id ? -d.contact_id : 0);
      if (!who) break;
      let writers = typing.get(d.conversation_id);
      if (!writers) typing.set(d.conversation_id, (writers = new Map()));
      writers.set(who, Date.now() + 5000);
      typingV.bump();
      scheduleTypingPrune();
      break;
    }
    case "presence":
      presence.set(d.user_id, d.presence);
      presenceV.bump();
      break;
    default:
      ext.event(f);
  }
}

function maxReceipts(a: { delivered_seq: number; read_seq: number } | undefined, b: { delivered_seq: number; read_seq: number }) {
  if (!a) return { delivered_seq: b.delivered_seq, read_seq: b.read_seq };
  return { delivered_seq: Math.max(a.delivered_seq, b.delivered_seq), read_seq: Math.max(a.read_seq, b.read_seq) };
}

/** The latest draft event, for the composer of another device's conversation. */
export const draftEvents = new Sig<{ convId: number; text: string; at: string } | null>(null);

let typingTimer = 0;
function scheduleTypingPrune() {
  clearTimeout(typingTimer);
  typingTimer = window.setTimeout(() => {
    const now = Date.now();
    let left = false;
    for (const [cid, t] of typing) {
      for (const [uid, until] of t) if (until <= now) t.delete(uid);
      if (!t.size) typing.delete(cid);
      else left = true;
    }
    typingV.bump();
    if (left) scheduleTypingPrune();
  }, 1000);
}

function applyMessage(m: Message, fromAck: boolean) {
  const uid = me.value?.id;
  const c = convs.get(m.conversation_id);
  const h = histories.get(m.conversation_id);
  // A thread's reply goes to its thread (chat.ts), not the main timeline.
  if (h && h.started && !(m.thread_id && !m.in_channel) && h.put(m)) h.v.bump();
  notePeopleOf(m);
  const writer = m.sender_id || (m.contact_id ? -m.contact_id : 0);
  const writers = writer ? typing.get(m.conversation_id) : undefined;
  if (writers?.delete(writer)) typingV.bump();
  const owned = ext.message(m);
  if (!c) {
    // A dialog this user watches without being a member: live chat keeps it.
    if (!owned) fetchConv(m.conversation_id);
    return;
  }
  const isNew = m.seq > c.last_seq;
  if (isNew || m.seq === c.last_seq) {
    const mine = m.sender_id === uid;
    const looking = viewing.convId === c.id && viewing.atBottom && document.visibilityState === "visible";
    patchConv(c.id, (c) => ({
      last_seq: Math.max(c.last_seq, m.seq),
      last_message: m,
      last_message_at: m.created_at > (c.last_message_at || "") ? m.created_at : c.last_message_at,
      unread: isNew && !mine && !looking ? c.unread + 1 : mine ? 0 : c.unread,
      read_seq: mine ? Math.max(c.read_seq, m.seq) : c.read_seq,
    }));
    if (isNew && !mine && !fromAck) {
      if (looking) markRead(c.id);
      else {
        unreadTotal.value += 1;
        refreshUnread();
      }
      if (m.sender_id || m.contact_id) notify.incoming(convs.get(c.id)!, m, looking);
    }
  }
}

// ---- actions -------------------------------------------------------------

const readSent = new Map<number, number>();

/** markRead moves the read pointer to the newest message of the conversation. */
export function markRead(convId: number) {
  const c = convs.get(convId);
  if (!c) return;
  if (c.read_seq >= c.last_seq && !c.marked_unread && !c.unread) return;
  if ((readSent.get(convId) || 0) >= c.last_seq && !c.marked_unread) return;
  readSent.set(convId, c.last_seq);
  if (!rt.send({ type: "read", conversation_id: convId, seq: c.last_seq })) {
    api.post(`/conversations/${convId}/read`, { seq: c.last_seq }).catch(() => readSent.delete(convId));
  }
  const had = c.unread;
  patchConv(convId, (c) => ({ read_seq: c.last_seq, unread: 0, marked_unread: false }));
  unreadTotal.value = Math.max(0, unreadTotal.value - had);
  refreshUnread();
}

export async function markUnread(convId: number) {
  try {
    await api.post(`/conversations/${convId}/unread`);
    readSent.delete(convId);
    patchConv(convId, (c) => ({ marked_unread: true, unread: Math.max(1, c.unread) }));
    refreshUnread(0);
  } catch (e) {
    fail(e);
  }
}

const typingSent = new Map<number, number>();
/** Tells the others you are typing; a whisper's notice reaches only staff. */
export function sendTyping(convId: number, whisper = false) {
  const now = Date.now();
  if (now - (typingSent.get(convId) || 0) < 3000) return;
  typingSent.set(convId, now);
  rt.send({ type: "typing", conversation_id: convId, whisper });
}

export function stoppedTyping(convId: number) {
  typingSent.delete(convId);
}

const draftTimers = new Map<number, { timer: number; text: string }>();
/** Local edits of drafts (conversation → time), newer than any draft event before them. */
export const draftEditedAt = new Map<number, number>();

export function saveDraft(convId: number, text: string, now = false) {
  const prev = draftTimers.get(convId);
  if (prev) clearTimeout(prev.timer);
  draftEditedAt.set(convId, Date.now());
  const run = () => {
    draftTimers.delete(convId);
    const c = convs.get(convId);
    if ((c?.draft || "") === text) return;
    patchConv(convId, () => ({ draft: text }));
    api.put(`/conversations/${convId}/draft`, { text }).catch(() => {});
  };
  if (now) run();
  else draftTimers.set(convId, { timer: window.setTimeout(run, 700), text });
}

export function flushDraft(convId: number) {
  const p = draftTimers.get(convId);
  if (!p) return;
  clearTimeout(p.timer);
  saveDraft(convId, p.text, true);
}

export async function openDirect(userId: number) {
  const c = await api.post<Conversation>("/conversations/direct", { user_id: userId });
  putConv(c);
  navigate(convURL(c.id));
}

export async function allow(convId: number) {
  putConv(await api.post<Conversation>(`/conversations/${convId}/allow`));
}

export async function cancel(convId: number) {
  putConv(await api.post<Conversation>(`/conversations/${convId}/cancel`));
}

export async function openAssistance() {
  const c = await api.post<Conversation>("/assistance");
  putConv(c);
  navigate(convURL(c.id));
}

export async function createGroup(title: string, userIds: number[], from?: number) {
  const c = await api.post<Conversation>("/conversations/group", { title, user_ids: userIds, from_conversation_id: from || 0 });
  putConv(c);
  navigate(convURL(c.id));
}

export async function addMembers(convId: number, userIds: number[]) {
  putConv(await api.post<Conversation>(`/conversations/${convId}/members`, { user_ids: userIds }));
}

export async function removeMember(convId: number, userId: number) {
  await api.del(`/conversations/${convId}/members/${userId}`);
  if (userId === me.value?.id) {
    convs.delete(convId);
    convOrder = convOrder.filter((x) => x !== convId);
    orderV.bump();
    convsV.bump();
    navigate("/", true);
  } else fetchConv(convId);
}

export async function rename(convId: number, title: string) {
  putConv(await api.patch<Conversation>(`/conversations/${convId}`, { title }));
}

export async function editMessage(m: Message, text: string) {
  const out = await api.patch<Message>(`/messages/${m.id}`, { text });
  const h = histories.get(m.conversation_id);
  if (h?.put(out)) h.v.bump();
}

export async function deleteMessage(m: Message) {
  const out = await api.del<Message>(`/messages/${m.id}`);
  const h = histories.get(m.conversation_id);
  if (h?.put(out)) h.v.bump();
}

export async function saveSettings(s: Settings) {
  const prev = settings.value;
  settings.value = s;
  try {
    settings.value = await api.put<Settings>("/me/settings", s);
    follow(settings.value.language);
  } catch (e) {
    settings.value = prev;
    fail(e);
  }
}

export async function setReminder(messageId: number, at: Date) {
  const r = await api.put<Reminder>(`/messages/${messageId}/reminder`, { remind_at: at.toISOString() });
  reminders.set(messageId, { ...reminders.get(messageId), ...r });
  remindersV.bump();
}

export async function snoozeReminder(messageId: number, hours: number) {
  const r = await api.post<Reminder>(`/messages/${messageId}/reminder/snooze`, { hours });
  reminders.set(messageId, { ...reminders.get(messageId), ...r });
  remindersV.bump();
}

export async function clearReminder(messageId: number) {
  await api.del(`/messages/${messageId}/reminder`);
  reminders.delete(messageId);
  remindersV.bump();
}

let lastPresence = "";
export function reportPresence() {
  const status = document.visibilityState === "visible" ? "online" : "away";
  if (status === lastPresence && rt.open) return;
  if (rt.send({ type: "presence", status })) lastPresence = status;
}

document.addEventListener("visibilitychange", () => {
  lastPresence = "";
  reportPresence();
});

/** userHooks hear every user.updated event (the inbox keeps its bots with it). */
export const userHooks: ((u: User) => void)[] = [];

/** canManageUsers: creating users and bots (the users.manage right; administrators hold it). */
export function canManageUsers(u: User | null | undefined): boolean {
  if (!u) return false;
  return u.role === "admin" || rights.value.includes("users.manage");
}

/** canAdminister: the Administration page (admins, supervisors, holders of the rights). */
export function canAdminister(u: User | null | undefined): boolean {
  if (!u) return false;
  return u.role === "admin" || u.role === "supervisor" || rights.value.includes("users.manage") || rights.value.includes("chat.settings");
}

/** canManageChat: live-chat projects, specialists, metrics (the chat.settings right; admins and supervisors hold it). */
export function canManageChat(u: User | null | undefined): boolean {
  if (!u) return false;
  return u.role === "admin" || u.role === "supervisor" || rights.value.includes("chat.settings");
}

/** Test and debugging hook: the state, inspectable from the browser console. */
(window as any).__parley = { rt, convs, histories, outbox: () => outbox, ready };
