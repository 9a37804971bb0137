// Live chat with website visitors (docs/livechat.md), the consultant's side:
// the projects the user serves and at which level, the open dialogs of those
// projects (kept current by `dialog.updated` and message events), whom a
// waiting dialog alerts, the repeating alert sound, and the dialog actions
// (connect, disconnect, transfer, close, convert to a case).
//
// It plugs into the store through store.ext, so the store never imports it.

import { t } from "../i18n/i18n";
import * as api from "./api";
import { ApiError } from "./api";
import { navigate, route } from "./router";
import { Sig, Version } from "./sig";
import * as notify from "./notify";
import * as store from "./store";
import type { Case, Conversation, Dialog, Frame, Group, Message, MyProject, Project, Specialist, User } from "./types";

// ---- state ---------------------------------------------------------------

/** The projects the signed-in user is a specialist of: project id → level (1 or 2). */
export const myLevels = new Map<number, number>();
/** Project names and settings (shortcuts) by id, from GET /me/projects. */
export const projects = new Map<number, Project>();
/** True when the user is a specialist of at least one project (the sidebar's Visitors block). */
export const isSpecialist = new Sig(false);

/** Dialogs by conversation id: the open ones of the user's projects, and any other opened on screen. */
export const dialogs = new Map<number, Dialog>();
/** Bumped when any dialog changes. */
export const dialogsV = new Version();
/** The sidebar's order of open dialogs: the ones alerting this user first, then by last activity. */
export let dialogOrder: number[] = [];
/** Bumped only when the order or the set of open dialogs changes. */
export const dialogOrderV = new Version();

function myId(): number {
  return store.me.value?.id || 0;
}

/** connected reports whether this user is connected to (serving) the dialog. */
export function connected(d: Dialog): boolean {
  const uid = myId();
  return !!d.consultants?.some((c) => c.id === uid);
}

/**
 * alertsMe: whom a waiting dialog alerts (docs/livechat.md): the project's
 * level-1 specialists while it is at level 1; at level 2 the chosen
 * specialist, or every level-2 specialist for the queue.
 */
export function alertsMe(d: Dialog): boolean {
  const level = myLevels.get(d.support.project_id);
  if (!level) return false;
  if ((d.support.level || 1) <= 1) return level === 1;
  if (d.support.transfer_to) return d.support.transfer_to === myId();
  return level === 2;
}

/** ringing: the dialog needs an answer from this user (green, first, with the sound). */
export function ringing(d: Dialog): boolean {
  return d.support.status === "open" && d.waiting && !d.consultants?.length && alertsMe(d);
}

export type RowState = "waiting" | "mine" | "taken" | "idle" | "queued" | "closed";

/** rowState is the colour of a dialog in the sidebar. */
export function rowState(d: Dialog): RowState {
  if (d.support.status !== "open") return "closed";
  if (ringing(d)) return "waiting";
  if (connected(d)) return "mine";
  if (d.consultants?.length) return "taken";
  if (d.waiting) return "queued"; // waiting, but for others (another level, another specialist)
  return "idle";
}

export function contactName(d: Dialog | undefined): string {
  if (!d) return t("app.inbox.contact.visitor");
  if (!d.contact) return t("app.inbox.contact.unpinned");
  return d.contact.name?.trim() || d.contact.email || (d.contact.id ? t("app.inbox.contact.visitorId", { id: String(d.contact.id) }) : t("app.inbox.contact.visitor"));
}

/** avatarId: a stable colour for the customer's avatar (the dialog's when unpinned). */
export function avatarId(d: Dialog): number {
  return d.contact ? d.contact.id * 31 + 7 : d.conversation.id * 13 + 5;
}

/** unreadOf is the viewer's unread count of a dialog: their own conversation's when a member, else the list's. */
export function unreadOf(d: Dialog): number {
  const own = store.convs.get(d.conversation.id);
  if (own) return own.unread || (own.marked_unread ? 1 : 0);
  return d.unread || 0;
}

/**
 * hooks let the inbox list (inbox.ts) follow every change to a dialog
 * without live chat importing it: a dialog stored or changed, one the user
 * may no longer see, a tag event.
 */
export const hooks = {
  dialog: (_d: Dialog): void => {},
  removed: (_id: number): void => {},
  tag: (_f: Frame): void => {},
  /** The dialogs were fetched again (start, resync). */
  loaded: (): void => {},
};

export function projectName(id: number): string {
  return projects.get(id)?.name || "";
}

function activity(d: Dialog): string {
  return d.last_message?.created_at || d.conversation.last_message_at || d.conversation.created_at;
}

function resort() {
  // Open dialogs of the user's projects, and closed ones the user is still
  // connected to (they stay until the user disconnects with the cross).
  const open = [...dialogs.values()].filter((d) => (d.support.status === "open" && watched(d)) || (d.support.status !== "open" && connected(d)));
  open.sort((a, b) => {
    const ra = ringing(a) ? 2 : a.support.status === "open" ? 1 : 0,
      rb = ringing(b) ? 2 : b.support.status === "open" ? 1 : 0;
    if (ra !== rb) return rb - ra;
    const x = activity(a),
      y = activity(b);
    return x !== y ? (x > y ? -1 : 1) : b.conversation.id - a.conversation.id;
  });
  const next = open.map((d) => d.conversation.id);
  if (next.length !== dialogOrder.length || next.some((id, i) => id !== dialogOrder[i])) {
    dialogOrder = next;
    dialogOrderV.bump();
  }
  dialogsV.bump();
  updateAlert();
}

/** watched: a dialog of one of the user's projects (managers may open others, which stay out of the sidebar). */
function watched(d: Dialog): boolean {
  return myLevels.has(d.support.project_id) || connected(d);
}

function list<T>(res: unknown, key: string): T[] {
  if (Array.isArray(res)) return res as T[];
  const v = (res as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

// ---- loading ---------------------------------------------------------------

let epoch = 0;

async function loadProjects() {
  const res = await api.get<unknown>("/me/projects");
  const mine = list<MyProject>(res, "projects");
  myLevels.clear();
  for (const p of mine) {
    if (!p?.project) continue;
    myLevels.set(p.project.id, p.level || 1);
    projects.set(p.project.id, p.project);
  }
  isSpecialist.value = myLevels.size > 0;
}

async function load() {
  const e = epoch;
  // The dialogs fetched now carry their notes; events after them follow.
  queueNotes.clear();
  await loadProjects().catch((err) => {
    // An older server without live chat answers 404: no Visitors block.
    if (!(err instanceof ApiError && (err.status === 404 || err.status === 403))) throw err;
  });
  if (e !== epoch || !myLevels.size) {
    resort();
    if (e === epoch) hooks.loaded();
    return;
  }
  const res = await api.get<unknown>("/dialogs" + api.qs({ status: "open", limit: 200 }));
  if (e !== epoch) return;
  // Dialogs on screen that are not open any more stay; the list is replaced.
  for (const [id, d] of dialogs) if (d.support.status === "open") dialogs.delete(id);
  for (const d of list<Dialog>(res, "dialogs")) put(d, true);
  resort();
  hooks.loaded();
}

function reset() {
  epoch++;
  queueNotes.clear();
  projectsFetched.clear();
  myLevels.clear();
  projects.clear();
  dialogs.clear();
  dialogOrder = [];
  isSpecialist.value = false;
  dialogOrderV.bump();
  dialogsV.bump();
  updateAlert();
}

let projectsTimer = 0;
/** refreshProjects reloads the user's projects (after a change of specialists). */
export function refreshProjects(delay = 300) {
  clearTimeout(projectsTimer);
  projectsTimer = window.setTimeout(async () => {
    try {
      const had = myLevels.size;
      await loadProjects();
      if (!had && myLevels.size) await load();
      else resort();
    } catch {
      /* the next hello tries again */
    }
  }, delay);
}

/**
 * put stores a dialog from the server, keeping a newer last message seen on
 * the socket, and a newer state than an answer older than the events
 * (by the conversation's seq). Events (fromEvent) carry no viewer's own
 * unread count and draft: the ones known are kept.
 */
export function put(d: Dialog, bulk = false, fromEvent = false) {
  if (!d?.conversation) return;
  const id = d.conversation.id;
  const old = dialogs.get(id);
  if (!fromEvent && old && old.conversation.last_seq > d.conversation.last_seq) {
    // An answer asked for before a change the events already brought (a
    // new dialog fetched while the distribution assigned it): the newer
    // state stays; only the viewer's own fields, which events never
    // carry, are taken from it.
    d = { ...old, unread: old.unread ?? d.unread, draft: old.draft ?? d.draft, attachment_limits: old.attachment_limits || d.attachment_limits };
  }
  d = withQueueNote(d);
  const last = d.last_message || old?.last_message || undefined;
  const keepOld = old?.last_message && d.last_message && old.last_message.seq > d.last_message.seq;
  const next: Dialog = { ...d, last_message: keepOld ? old!.last_message : last, consultants: d.consultants || [] };
  if (fromEvent && old) {
    next.unread = old.unread;
    next.draft = old.draft;
    next.attachment_limits ||= old.attachment_limits;
  }
  // A copy fetched before the viewer's read reached the server still counts what they read.
  if (next.unread && next.conversation.last_seq <= (readThrough.get(id) ?? -1)) next.unread = 0;
  dialogs.set(id, next);
  hooks.dialog(next);
  if (next.contact) contactNames.set(next.contact.id, contactName(next));
  if (!projects.has(d.support.project_id)) fetchProject(d.support.project_id);
  if (!bulk) resort();
}

/**
 * readThrough holds, per dialog, the last message the viewer has read
 * (noteRead), so that a copy of the dialog requested before that read
 * does not bring its unread count back (put); marking it unread forgets it.
 */
const readThrough = new Map<number, number>();

/** noteRead records that the viewer read dialog d up to its last message. */
export function noteRead(d: Dialog) {
  readThrough.set(d.conversation.id, d.conversation.last_seq);
}

/** forgetRead: the dialog was marked unread; copies count again. */
export function forgetRead(id: number) {
  readThrough.delete(id);
}

/** Contact names by id, for senders and typing lines (also of dialogs no longer in the list). */
const contactNames = new Map<number, string>();

const projectsFetched = new Set<number>();
/** fetchProject learns the name of a project the user does not serve (managers open any dialog). */
function fetchProject(id: number) {
  if (projectsFetched.has(id)) return;
  projectsFetched.add(id);
  api.get<Project>(`/projects/${id}`).then(
    (p) => {
      if (!projects.has(id)) projects.set(id, p);
      dialogsV.bump();
    },
    () => {},
  );
}

const fetching = new Set<number>();
/** fetchDialog loads one dialog (GET /dialogs/{id}); undefined when it cannot be seen. */
export async function fetchDialog(id: number): Promise<Dialog | undefined> {
  if (fetching.has(id)) return dialogs.get(id);
  fetching.add(id);
  try {
    const d = await api.get<Dialog>(`/dialogs/${id}`);
    put(d);
    return dialogs.get(id);
  } catch {
    return undefined;
  } finally {
    fetching.delete(id);
  }
}

// ---- events ------------------------------------------------------------------

/** Projects whose events made the app ask for the user's projects once already. */
const askedAbout = new Set<number>();

function onEvent(f: Frame) {
  if (f.type === "tag.updated" || f.type === "tag.deleted") {
    hooks.tag(f);
    return;
  }
  if (f.type === "queue.updated" && f.data) {
    queueNote(f.data);
    return;
  }
  if (f.type !== "dialog.updated" || !f.data) return;
  const d = f.data as Dialog;
  // An event of a project the user does not serve may mean they were just
  // made its specialist: ask for their projects once per project. Managers
  // hear every project's dialogs, so asking again (as a timer did) would
  // poll forever; a change of specialists made in this app reloads them.
  if (d.support && !myLevels.has(d.support.project_id) && !askedAbout.has(d.support.project_id)) {
    askedAbout.add(d.support.project_id);
    refreshProjects();
  }
  put(d, false, true);
}

/**
 * Why each project's level queue waits ("project:level" → note), as the
 * latest queue.updated said since the dialogs were loaded. A note changes
 * without changing the dialogs' seq, so a dialog fetched before the change
 * and stored after it would bring the old note back: this one wins.
 */
const queueNotes = new Map<string, string>();

const noteKey = (projectId: number, level: number) => projectId + ":" + Math.max(level || 1, 1);

/** withQueueNote gives an open dialog nobody is in charge of the latest note of its queue. */
function withQueueNote(d: Dialog): Dialog {
  const s = d.support;
  const k = noteKey(s.project_id, s.level);
  if (!queueNotes.has(k) || s.status !== "open" || s.assignee_id) return d;
  const note = queueNotes.get(k) || undefined;
  return (d.queue_note || undefined) === note ? d : { ...d, queue_note: note };
}

/**
 * queueNote applies queue.updated: why a project's level queue waits
 * changed (empty: it no longer does). Every open dialog of that project and
 * level nobody is in charge of carries the note, as the server lists it.
 */
function queueNote(q: { project_id: number; level: number; note: string }) {
  queueNotes.set(noteKey(q.project_id, q.level), q.note || "");
  let changed = false;
  for (const [id, d] of dialogs) {
    const s = d.support;
    if (s.project_id !== q.project_id || s.status !== "open" || s.assignee_id || Math.max(s.level || 1, 1) !== q.level) continue;
    if ((d.queue_note || "") === (q.note || "")) continue;
    const next: Dialog = { ...d, queue_note: q.note || undefined };
    dialogs.set(id, next);
    hooks.dialog(next);
    changed = true;
  }
  if (changed) resort();
}

/**
 * removed: a support conversation left the user's own (a disconnect, or a
 * reassignment away from them). Whether they may still see the dialog is
 * the server's to say: it is asked, and the dialog goes only if it is gone.
 */
function onRemoved(id: number) {
  if (!dialogs.has(id)) return;
  api.get<Dialog>(`/dialogs/${id}`).then(
    (d) => put(d),
    (e) => {
      if (!(e instanceof ApiError && (e.status === 404 || e.status === 403))) return;
      dialogs.delete(id);
      hooks.removed(id);
      resort();
    },
  );
}

/** Reply time limits of a dialog's project and channel, in seconds (0: none). */
function replyLimits(d: Dialog): { warn: number; limit: number } {
  const rl = projects.get(d.support.project_id)?.reply_limits;
  if (!rl) return { warn: 0, limit: 0 };
  const ch = (d.support.channel && rl.channels?.[d.support.channel]) || rl;
  return { warn: ch.warn_s || 0, limit: ch.limit_s || 0 };
}

/**
 * fromMessage is the dialog after a new message, as the server would list
 * it (docs/inbox.md): the last communication, who wrote it, and the
 * customer's wait, which starts with their first unanswered message and
 * ends with a manager's answer.
 */
function fromMessage(d: Dialog, m: Message): Dialog {
  const talk = m.kind === "text" || m.kind === "file";
  const customer = !!m.contact_id && !m.sender_id;
  const sup = { ...d.support };
  let warn = d.reply_warn_at,
    due = d.reply_due_at;
  if (talk) {
    sup.activity_at = m.created_at;
    sup.last_from = customer ? "customer" : "manager";
    if (customer) {
      // A closed dialog reopens when the customer writes (the server's dialog.updated follows).
      if (!sup.waiting_since) {
        sup.waiting_since = m.created_at;
        const l = replyLimits(d);
        const at = Date.parse(m.created_at);
        warn = l.warn ? new Date(at + l.warn * 1000).toISOString() : undefined;
        due = l.limit ? new Date(at + l.limit * 1000).toISOString() : undefined;
      }
    } else {
      sup.waiting_since = undefined;
      warn = due = undefined;
    }
  }
  const mine = m.sender_id === myId();
  const looking = store.viewing.convId === m.conversation_id && document.visibilityState === "visible";
  const unread = mine ? 0 : (talk || m.kind === "whisper") && !looking && m.seq > d.conversation.last_seq ? (d.unread || 0) + 1 : d.unread;
  return { ...d, support: sup, reply_warn_at: warn, reply_due_at: due, unread };
}

/**
 * onMessage keeps a dialog's last message and waiting state current between
 * dialog.updated events. It returns true for the conversations live chat
 * owns, so the store does not fetch them as the user's own.
 */
/** The system lines that record the distribution's work (parley.QuietActions). */
const quietActions = new Set(["routed", "over_capacity", "reply_warning", "reply_overdue"]);

function onMessage(m: Message): boolean {
  const d = dialogs.get(m.conversation_id);
  if (!d) {
    // A visitor's message in a dialog not seen yet: it is a new dialog.
    if (m.contact_id) {
      fetchDialog(m.conversation_id).then((nd) => nd && !m.sender_id && m.kind !== "event" && customerWrote(nd, m));
      return true;
    }
    return false;
  }
  if (m.kind === "event" && quietActions.has(m.event?.action ?? "")) {
    // The distribution's notes are in the ribbon, not the dialog's news (as on the server).
    if (m.seq > d.conversation.last_seq) {
      dialogs.set(m.conversation_id, { ...d, conversation: { ...d.conversation, last_seq: m.seq } });
    }
    return !store.convs.has(m.conversation_id);
  }
  if (!d.last_message || m.seq >= d.last_message.seq || m.seq > d.conversation.last_seq) {
    const isNew = m.seq > d.conversation.last_seq;
    // The rule of docs/livechat.md: nobody connected and the visitor's message is the last word.
    const waiting = d.support.status === "open" && !!m.contact_id && !m.sender_id && !d.consultants?.length;
    const next: Dialog = {
      ...(isNew ? fromMessage(d, m) : d),
      // The preview is the last thing said to the visitor: whispers stay out of it (as on the server).
      last_message: m.kind === "whisper" ? d.last_message : m,
      waiting,
      conversation: { ...d.conversation, last_seq: Math.max(d.conversation.last_seq, m.seq), last_message_at: m.created_at },
    };
    dialogs.set(m.conversation_id, next);
    hooks.dialog(next);
    if (isNew && m.contact_id && !m.sender_id && m.kind !== "event") customerWrote(next, m);
    resort();
  }
  return !store.convs.has(m.conversation_id);
}

/**
 * customerWrote shows a new customer message (seed 003): a notification in
 * the app with its text, and a desktop one while the tab is hidden, for the
 * dialogs that are the user's business: theirs (connected or in charge),
 * or nobody's yet in a project they serve. Not while they look at it.
 */
function customerWrote(d: Dialog, m: Message) {
  const id = d.conversation.id;
  const looking = store.viewing.convId === id && document.visibilityState === "visible";
  if (looking) return;
  const uid = myId();
  const theirs = connected(d) || d.support.assignee_id === uid || (!d.support.assignee_id && (myLevels.has(d.support.project_id) || store.canManageChat(store.me.value)));
  if (!theirs) return;
  notify.customerMessage(contactName(d), m, () => openDialog(id));
}

/** openDialog shows a dialog in the inbox when the inbox is on screen, else on its own. */
export function openDialog(id: number) {
  const r = route.value;
  navigate(r.name === "inbox" ? `/inbox/${id}${r.query ? "?" + r.query : ""}` : `/d/${id}`);
}

store.ext.load = load;
store.ext.reset = reset;
store.ext.removed = onRemoved;
store.ext.event = onEvent;
store.ext.message = onMessage;
store.ext.contactName = (contactId, convId) => {
  const d = convId ? dialogs.get(convId) : undefined;
  if (d && d.contact?.id === contactId) return contactName(d);
  return contactNames.get(contactId);
};
store.ext.isDialog = (id) => dialogs.has(id) || store.convs.get(id)?.kind === "support";
store.ext.title = (c: Conversation) => {
  const d = dialogs.get(c.id);
  return d ? contactName(d) : undefined;
};

// ---- actions -------------------------------------------------------------------

export interface Person {
  id: number;
  name: string;
  presence?: User["presence"];
  level: number;
}

/**
 * specialists are a project's active specialists, with groups expanded into
 * their members; someone associated twice has the lower level. Transfer
 * offers the level-2 ones, Reassign all of them.
 */
export async function specialists(projectId: number): Promise<Person[]> {
  const res = await api.get<unknown>(`/projects/${projectId}/specialists`);
  const specs = list<Specialist>(res, "specialists");
  const level = new Map<number, number>();
  let groups: Group[] | null = null;
  for (const s of specs) {
    let members: number[] = [];
    if (s.user_id) members = [s.user_id];
    else if (s.group_id) {
      groups ||= (await api.get<{ groups: Group[] }>("/groups")).groups;
      members = groups.find((g) => g.id === s.group_id)?.member_ids || [];
    }
    for (const u of members) level.set(u, Math.min(level.get(u) || 9, s.level || 1));
  }
  if (!level.size) return [];
  const users = await api.get<{ users: User[] }>("/users" + api.qs({ ids: [...level.keys()].join(","), limit: 500 }));
  return users.users.filter((u) => u.active).map((u) => ({ id: u.id, name: u.name, presence: u.presence, level: level.get(u.id) || 1 }));
}

async function act(id: number, path: string, body?: unknown): Promise<Dialog | undefined> {
  const out = await api.post<Dialog | null>(`/dialogs/${id}/${path}`, body);
  if (out && (out as Dialog).conversation) put(out as Dialog);
  else await fetchDialog(id);
  return dialogs.get(id);
}

/** connect joins the dialog; the user becomes a member and the visitor sees "… joined". */
export async function connect(id: number) {
  const d = await act(id, "connect");
  await store.ensureConv(id);
  return d;
}

export async function disconnect(id: number) {
  return act(id, "disconnect");
}

/** transfer moves the dialog to level 2: to one specialist, or to the queue (userId 0), with an optional hand-over note. */
export async function transfer(id: number, userId: number, note = "") {
  return act(id, "transfer", { ...(userId ? { user_id: userId } : {}), ...(note.trim() ? { note: note.trim() } : {}) });
}

export async function close(id: number) {
  return act(id, "close");
}

export async function toCase(id: number, title: string): Promise<Case> {
  const c = await api.post<Case>(`/dialogs/${id}/case`, { title });
  fetchDialog(id);
  return c;
}

/**
 * open shows a dialog. It never connects the user: a dialog they are not
 * connected to opens as a preview with an explicit Connect (issue 9: a
 * click used to connect, even to a colleague's dialog).
 */
export function open(id: number) {
  openDialog(id);
}

// ---- the alert sound -----------------------------------------------------------

/** The alert state, for the page (data-visitor-alert on <body>) and the tests (window.__parley.alert). */
export const alert = { ringing: false, dialogs: [] as number[], rings: 0, muted: false };
export const alertV = new Version();
let alertTimer = 0;

function updateAlert() {
  const ids = dialogOrder.filter((id) => {
    const d = dialogs.get(id);
    return d && ringing(d);
  });
  const muted = !store.settings.value.sound;
  const on = ids.length > 0;
  const changed = on !== alert.ringing || muted !== alert.muted || ids.join() !== alert.dialogs.join();
  alert.dialogs = ids;
  alert.muted = muted;
  if (on && !alert.ringing) {
    alert.ringing = true;
    ring();
    alertTimer = window.setInterval(ring, 3000);
  } else if (!on && alert.ringing) {
    alert.ringing = false;
    clearInterval(alertTimer);
  }
  document.body.dataset.visitorAlert = on ? (muted ? "muted" : "ringing") : "off";
  if (changed) alertV.bump();
}

store.settings.subscribe(updateAlert);

// Dialogs the user is still connected to after they closed are in the
// user's conversations, not in the open list: fetch them once the list is in.
store.ready.subscribe(() => {
  if (!store.ready.value) return;
  let n = 0;
  for (const c of store.convs.values()) if (c.kind === "support" && !dialogs.has(c.id) && n++ < 50) fetchDialog(c.id);
});

let audio: AudioContext | null = null;
// Browsers start audio suspended until the page is used (after a reload, say):
// the first click or key press lets the melody play.
for (const ev of ["pointerdown", "keydown"])
  document.addEventListener(ev, () => {
    if (audio?.state === "suspended") audio.resume().catch(() => {});
  }, { capture: true, passive: true });

/** ring plays the new-dialog melody once (three rising notes), unless the user turned sounds off. */
function ring() {
  if (!store.settings.value.sound) return;
  alert.rings++;
  document.body.dataset.visitorRings = String(alert.rings);
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const t0 = audio.currentTime;
    for (const [i, f] of [660, 880, 1100].entries()) {
      const o = audio.createOscillator();
      const v = audio.createGain();
      o.type = "sine";
      o.frequency.value = f;
      const at = t0 + i * 0.16;
      v.gain.setValueAtTime(0.0001, at);
      v.gain.exponentialRampToValueAtTime(0.18, at + 0.02);
      v.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
      o.connect(v).connect(audio.destination);
      o.start(at);
      o.stop(at + 0.24);
    }
  } catch {
    /* no audio output */
  }
}

Object.assign(((window as any).__parley ||= {}), { dialogs, alert, myLevels });
