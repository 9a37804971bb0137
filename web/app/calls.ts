// Calls (docs/calls.md): which conversations have a call in progress, the
// incoming call that rings this device, and the call this device is in.
// This part is always loaded and small; the WebRTC engine and the call
// window load on demand (lazy/callEngine.ts, lazy/Call.tsx) when a call
// starts or rings.

import { t } from "../i18n/i18n";
import { Sig, Version } from "./sig";
import * as store from "./store";
import type { Frame } from "./types";
import { ringing, startTone, stopTone } from "./ring";

/** One device in a call (docs/calls.md, "The call object"). */
export interface Participant {
  user_id: number;
  peer_id: string;
  joined_at: string;
  audio: boolean;
  video: boolean;
  screen: boolean;
  connected: boolean;
}

/** A call as the server describes it. */
export interface Call {
  id: string;
  conversation_id: number;
  /** direct: 1:1, rings the other user; group: a conference members join and leave. */
  kind: "direct" | "group";
  state: "ringing" | "active" | "ended";
  /** The caller asked for video (the callee's dialog offers video first). */
  video: boolean;
  created_by: number;
  created_at: string;
  answered_at?: string;
  ended_at?: string;
  end_reason?: "missed" | "declined" | "cancelled" | "ended" | "failed";
  /** The users in the call now (one device each). */
  participants: Participant[] | null;
}

/** Calls in progress, by conversation (the conversation shows "Join"). */
export const byConv = new Map<number, Call>();
export const callsV = new Version();

/** The call ringing on this device, if any. */
export const incoming = new Sig<Call | null>(null);

export type Phase = "calling" | "connecting" | "active" | "reconnecting";

/** A remote stream shown in a tile: a participant's camera (and voice), or their screen. */
export interface Remote {
  key: string;
  userId: number;
  stream: MediaStream;
  screen: boolean;
}

/** The call this device is in. */
export interface Session {
  callId: string;
  convId: number;
  phase: Phase;
  /** When the call was answered (ms), for the timer. */
  startedAt: number;
  mic: boolean;
  cam: boolean;
  sharing: boolean;
  local: MediaStream | null;
  screen: MediaStream | null;
  remotes: Remote[];
  speaking: number[];
  /** The active speaker (the loudest lately), 0 if none yet. */
  active: number;
  /** A problem with the devices, shown in the window (no camera, permission denied). */
  notice: string;
}

export const session = new Sig<Session | null>(null);

/** How the call window shows: a floating panel, large, or minimised to a bar (the call goes on). */
export const view = new Sig<"float" | "large" | "min">("float");

/** patch changes the session (when it is still the one given). */
export function patch(callId: string, p: Partial<Session>) {
  const s = session.value;
  if (s && s.callId === callId) session.value = { ...s, ...p };
}

/** The engine's hooks, set when lazy/callEngine.ts loads. */
export const engine = {
  frame: (_f: Frame): void => {},
  reconnected: (): void => {},
};

const loadEngine = () => import("./lazy/callEngine");

/** startCall calls the other member of a direct chat, or starts a multi-chat's conference. */
export async function startCall(convId: number, video: boolean) {
  if (session.value) {
    store.toast(t("app.people.calls.alreadyInCall"), "error");
    return;
  }
  const e = await loadEngine();
  await e.start(convId, video);
}

/** join joins a call in progress (a conference, or an answer to a ringing call). */
export async function join(call: Call, video: boolean) {
  if (session.value?.callId === call.id) return;
  if (session.value) {
    const e = await loadEngine();
    await e.hangUp();
  }
  if (incoming.value?.id === call.id) incoming.value = null;
  stopTone();
  const e = await loadEngine();
  await e.join(call, video);
}

/** decline refuses the ringing call on every device of this user. */
export function decline(call: Call) {
  if (incoming.value?.id === call.id) incoming.value = null;
  stopTone();
  if (!store.rt.send({ type: "call.decline", call_id: call.id })) store.toast(t("app.people.calls.declineOffline"), "error");
}

export async function hangUp() {
  const e = await loadEngine();
  await e.hangUp();
}

function putCall(c: Call) {
  if (c.state === "ended") byConv.delete(c.conversation_id);
  else byConv.set(c.conversation_id, c);
  callsV.bump();
  const me = store.me.value?.id || 0;
  const inc = incoming.value;
  if (c.kind === "direct" && c.state === "ringing" && c.created_by !== me && session.value?.callId !== c.id) {
    if (!inc || inc.id !== c.id) {
      incoming.value = c;
      if (store.settings.value.sound) startTone("ring");
      desktopNotice(c);
      import("./lazy/Call"); // the dialog's chunk, before it is needed
    }
  } else if (inc?.id === c.id) {
    // Answered here or on another device, declined elsewhere, or over.
    incoming.value = null;
    stopTone();
  }
}

let notice: Notification | null = null;
function desktopNotice(c: Call) {
  if (!document.hidden || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  if (!store.settings.value.desktop_notifications) return;
  try {
    notice?.close();
    notice = new Notification(t("app.people.calls.isCalling", { name: store.personName(c.created_by) }), {
      body: c.video ? t("app.people.calls.videoCall") : t("app.people.calls.voiceCall"), tag: "call-" + c.id, requireInteraction: true });
    notice.onclick = () => {
      window.focus();
      notice?.close();
    };
  } catch {
    /* notifications only from a service worker here */
  }
}

function onEvent(f: Frame) {
  if (!f.type.startsWith("call.")) return;
  const d = f.data;
  switch (f.type) {
    case "call.ring":
    case "call.updated":
      putCall(d as Call);
      break;
  }
  engine.frame(f);
  if (incoming.value === null) notice?.close();
}

store.eventHooks.add(onEvent);

/** loadCalls fetches the calls in progress (after sign-in and every resync). */
async function loadCalls() {
  try {
    const res = await (await import("./api")).get<{ calls: Call[] | null }>("/calls");
    byConv.clear();
    for (const c of res.calls || []) putCall(c);
    // A call that rang here and ended while the socket was away.
    const inc = incoming.value;
    if (inc && !(res.calls || []).some((c) => c.id === inc.id)) {
      incoming.value = null;
      stopTone();
    }
    callsV.bump();
  } catch {
    /* the server may not have calls; buttons still try */
  }
}
store.loadHooks.push(loadCalls);

// The call survives a reconnect of the socket: the engine tells the server
// it is still there once the connection is back.
let wasOnline = false;
store.rt.info.subscribe(() => {
  const on = store.rt.info.value.state === "online";
  if (on && !wasOnline) {
    // Call events are not replayed on resume: ask what is under way now.
    if (store.ready.value) loadCalls();
    if (session.value) engine.reconnected();
  }
  wasOnline = on;
});

/** The test and debugging hook. */
(window as any).__calls = { session, incoming, byConv, tone: ringing };
