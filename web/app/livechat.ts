// Live chat with website visitors (docs/livechat.md), the consultant's side:
// the projects the user serves and at which level, the open dialogs of those
// projects (kept current by `dialog.updated` and message events), whom a
// waiting dialog alerts, the repeating alert sound, and the dialog actions
// (connect, disconnect, transfer, close, convert to a case).
//
// It plugs into the store through store.ext, so the store never imports it.

import * as api from "./api";
import { ApiError } from "./api";
import { navigate } from "./router";
import { Sig, Version } from "./sig";
import * as store from "./store";
import type { Case, Conversation, Dialog, Frame, Message, MyProject, Project } from "./types";

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
  if (!d) return "Visitor";
  return d.contact?.name?.trim() || d.contact?.email || `Visitor ${d.contact?.id || ""}`.trim();
}

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
  await loadProjects().catch((err) => {
    // An older server without live chat answers 404: no Visitors block.
    if (!(err instanceof ApiError && (err.status === 404 || err.status === 403))) throw err;
  });
  if (e !== epoch || !myLevels.size) {
    resort();
    return;
  }
  const res = await api.get<unknown>("/dialogs" + api.qs({ status: "open", limit: 200 }));
  if (e !== epoch) return;
  // Dialogs on screen that are not open any more stay; the list is replaced.
  for (const [id, d] of dialogs) if (d.support.status === "open") dialogs.delete(id);
  for (const d of list<Dialog>(res, "dialogs")) put(d, true);
  resort();
}

function reset() {
  epoch++;
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

/** put stores a dialog from the server, keeping a newer last message seen on the socket. */
function put(d: Dialog, bulk = false) {
  if (!d?.conversation) return;
  const id = d.conversation.id;
  const old = dialogs.get(id);
  const last = d.last_message || old?.last_message || undefined;
  const keepOld = old?.last_message && d.last_message && old.last_message.seq > d.last_message.seq;
  const next: Dialog = { ...d, last_message: keepOld ? old!.last_message : last, consultants: d.consultants || [] };
  dialogs.set(id, next);
  if (next.contact) contactNames.set(next.contact.id, contactName(next));
  if (!projects.has(d.support.project_id)) fetchProject(d.support.project_id);
  if (!bulk) resort();
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

const askedAt = new Map<number, number>();

function onEvent(f: Frame) {
  if (f.type !== "dialog.updated" || !f.data) return;
  const d = f.data as Dialog;
  // An event of a project the user does not serve yet: they were just made its specialist.
  if (d.support && !myLevels.has(d.support.project_id)) {
    const last = askedAt.get(d.support.project_id) || 0;
    if (Date.now() - last > 10_000) {
      askedAt.set(d.support.project_id, Date.now());
      refreshProjects();
    }
  }
  put(d);
}

/**
 * onMessage keeps a dialog's last message and waiting state current between
 * dialog.updated events. It returns true for the conversations live chat
 * owns, so the store does not fetch them as the user's own.
 */
function onMessage(m: Message): boolean {
  const d = dialogs.get(m.conversation_id);
  if (!d) {
    // A visitor's message in a dialog not seen yet: it is a new dialog.
    if (m.contact_id) {
      fetchDialog(m.conversation_id);
      return true;
    }
    return false;
  }
  if (!d.last_message || m.seq >= d.last_message.seq || m.seq > d.conversation.last_seq) {
    // The rule of docs/livechat.md: nobody connected and the visitor's message is the last word.
    const waiting = d.support.status === "open" && !!m.contact_id && !m.sender_id && !d.consultants?.length;
    dialogs.set(m.conversation_id, {
      ...d,
      // The preview is the last thing said to the visitor: whispers stay out of it (as on the server).
      last_message: m.kind === "whisper" ? d.last_message : m,
      waiting,
      conversation: { ...d.conversation, last_seq: Math.max(d.conversation.last_seq, m.seq), last_message_at: m.created_at },
    });
    resort();
  }
  return !store.convs.has(m.conversation_id);
}

store.ext.load = load;
store.ext.reset = reset;
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

/** transfer moves the dialog to level 2: to one specialist, or to the queue (userId 0). */
export async function transfer(id: number, userId: number) {
  return act(id, "transfer", userId ? { user_id: userId } : {});
}

export async function close(id: number) {
  return act(id, "close");
}

export async function toCase(id: number, title: string): Promise<Case> {
  const c = await api.post<Case>(`/dialogs/${id}/case`, { title });
  fetchDialog(id);
  return c;
}

/** open connects to a dialog (unless already connected) and shows it. */
export async function open(id: number) {
  navigate(`/d/${id}`);
  const d = dialogs.get(id);
  if (d && (connected(d) || d.support.status !== "open")) return;
  try {
    await connect(id);
  } catch (e) {
    store.fail(e);
  }
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
    const t = audio.currentTime;
    for (const [i, f] of [660, 880, 1100].entries()) {
      const o = audio.createOscillator();
      const v = audio.createGain();
      o.type = "sine";
      o.frequency.value = f;
      const at = t + i * 0.16;
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
