// The WebRTC side of a call (docs/calls.md): one RTCPeerConnection to the
// server's SFU. The server always offers; this side only answers. The
// first three transceivers of the server's offer are this device's slots
// (microphone, camera, screen); the rest carry the others' tracks, whose
// MediaStream id is the user's id and whose track id ends in -audio,
// -video or -screen. Camera and screen go on and off with replaceTrack and
// a call.media frame, without renegotiating.

import { t } from "../../i18n/i18n";
import * as api from "../api";
import { engine, patch, session, byConv, callsV, view, type Call, type Remote, type Session } from "../calls";
import { startTone, stopTone } from "../ring";
import * as store from "../store";
import type { Frame } from "../types";

const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const VIDEO: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24 } };

// ---- requests over the socket ----------------------------------------------

const waiting = new Map<number, { ok: (f: Frame) => void; fail: (e: Error) => void; timer: number }>();

class CallError extends Error {
  constructor(
    message: string,
    public code: string,
  ) {
    super(message);
  }
}

store.replyHooks.add((f) => {
  const w = f.req ? waiting.get(f.req) : undefined;
  if (!w) return;
  waiting.delete(f.req!);
  clearTimeout(w.timer);
  if (f.type === "error") w.fail(new CallError(f.error?.message || t("app.people.engine.failed"), f.error?.code || ""));
  else w.ok(f);
});

/** request sends a call frame and resolves with its answer (ack or ok). */
function request(frame: Record<string, unknown>): Promise<Frame & Record<string, any>> {
  return new Promise((ok, fail) => {
    const req = store.rt.send(frame);
    if (!req) return fail(new CallError(t("app.people.engine.notConnected"), "network"));
    const timer = window.setTimeout(() => {
      waiting.delete(req);
      fail(new CallError(t("app.people.engine.timeout"), "timeout"));
    }, 15_000);
    waiting.set(req, { ok, fail, timer });
  });
}

/** The fields of an ack: at the top level or under data. */
function ackOf(f: Frame & Record<string, any>): { call?: Call; peer_id?: string; offer?: RTCSessionDescriptionInit } {
  const x: Record<string, any> = f.data && typeof f.data === "object" && !f.call ? f.data : f;
  return { call: x.call, peer_id: x.peer_id, offer: x.offer };
}

// ---- media ---------------------------------------------------------------

/** The device problems' messages, by device (the device's name changes the sentence's grammar). */
const PROBLEM = {
  camera: {
    denied: "app.people.engine.cameraDenied",
    notFound: "app.people.engine.cameraNotFound",
    busy: "app.people.engine.cameraBusy",
    unusable: "app.people.engine.cameraUnusable",
  },
  microphone: {
    denied: "app.people.engine.microphoneDenied",
    notFound: "app.people.engine.microphoneNotFound",
    busy: "app.people.engine.microphoneBusy",
    unusable: "app.people.engine.microphoneUnusable",
  },
  screen: {
    denied: "app.people.engine.screenDenied",
    notFound: "app.people.engine.screenNotFound",
    busy: "app.people.engine.screenBusy",
    unusable: "app.people.engine.screenUnusable",
  },
} as const;

function deviceProblem(e: unknown, what: "camera" | "microphone" | "screen"): string {
  const name = (e as DOMException)?.name || "";
  const msg = PROBLEM[what];
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return t(msg.denied);
    case "NotFoundError":
    case "OverconstrainedError":
      return t(msg.notFound);
    case "NotReadableError":
    case "AbortError":
      return t(msg.busy);
  }
  return t(msg.unusable, { error: String((e as Error)?.message || e) });
}

/** allowed reports whether the browser already lets the page use the devices (no prompt to wait for). */
async function allowed(video: boolean): Promise<boolean> {
  try {
    const names = video ? ["microphone", "camera"] : ["microphone"];
    const st = await Promise.all(names.map((n) => navigator.permissions.query({ name: n as PermissionName })));
    return st.every((x) => x.state === "granted");
  } catch {
    return false;
  }
}

function hasMedia(): boolean {
  return !!navigator.mediaDevices?.getUserMedia;
}

/**
 * getMedia asks for the microphone (and the camera for a video call). A
 * camera that fails leaves a voice call; a microphone that fails leaves a
 * call this device listens to. It never throws: the notice says what
 * happened.
 */
async function getMedia(video: boolean): Promise<{ stream: MediaStream | null; notice: string }> {
  if (!hasMedia()) return { stream: null, notice: t("app.people.engine.noMedia") };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio: AUDIO, video: video ? VIDEO : false }), notice: "" };
  } catch (e) {
    if (video) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
        return { stream: s, notice: t("app.people.engine.voiceOnly", { problem: deviceProblem(e, "camera") }) };
      } catch (e2) {
        e = e2;
      }
    }
    return { stream: null, notice: t("app.people.engine.unheard", { problem: deviceProblem(e, "microphone") }) };
  }
}

// ---- the call ------------------------------------------------------------

interface Live {
  callId: string;
  convId: number;
  peerId: string;
  pc: RTCPeerConnection | null;
  /** The three slots: microphone, camera, screen. */
  slots: RTCRtpTransceiver[];
  /** The offer being answered, so offers are taken one at a time. */
  chain: Promise<void>;
  /** mid → the msid track id of the server's latest offer. */
  mids: Map<string, string>;
  /** Remote tiles' streams, kept so their video elements are not reset. */
  streams: Map<string, MediaStream>;
  audios: Map<number, HTMLAudioElement>;
  ended: boolean;
  /** The other user of a direct call, while it rings. */
  ringingFor: boolean;
}

let live: Live | null = null;

function s(): Session | null {
  return session.value;
}

function set(p: Partial<Session>) {
  if (live) patch(live.callId, p);
}

/** start calls a direct chat's other member, or starts (or joins) a multi-chat's conference. */
export async function start(convId: number, video: boolean) {
  await begin(convId, video, { type: "call.start", conversation_id: convId, video }, true);
}

/** join answers a ringing call (call.accept) or joins one under way (call.join). */
export async function join(call: Call, video: boolean) {
  const me = store.me.value?.id;
  const accept = call.kind === "direct" && call.state === "ringing" && call.created_by !== me;
  await begin(call.conversation_id, video, { type: accept ? "call.accept" : "call.join", call_id: call.id }, false);
}

async function begin(convId: number, video: boolean, frame: Record<string, unknown>, outgoing: boolean) {
  const placeholder = "pending-" + Math.random().toString(36).slice(2);
  view.value = "float";
  session.value = {
    callId: placeholder,
    convId,
    phase: "connecting",
    startedAt: 0,
    mic: false,
    cam: false,
    sharing: false,
    local: null,
    screen: null,
    remotes: [],
    speaking: [],
    active: 0,
    notice: "",
  };
  live = {
    callId: placeholder,
    convId,
    peerId: "",
    pc: null,
    slots: [],
    chain: Promise.resolve(),
    mids: new Map(),
    streams: new Map(),
    audios: new Map(),
    ended: false,
    ringingFor: false,
  };
  const l = live;
  // With the devices already allowed, ring at once while they start; if
  // the browser must ask, ask first (the server drops a peer whose
  // transport is not up within 20 s, and people take time over a prompt).
  const media = getMedia(video);
  const ask = (await allowed(video)) ? Promise.resolve() : media.then(() => {});
  const answer = ask.then(() => (l.ended ? Promise.reject(new CallError("", "ended")) : request(frame)));
  const [{ stream, notice }, ice] = await Promise.all([media, iceServers()]);
  if (l.ended) {
    stream?.getTracks().forEach((tr) => tr.stop());
    answer.then((f) => ackOf(f).call && store.rt.send({ type: "call.leave", call_id: ackOf(f).call!.id }), () => {});
    return;
  }
  set({ local: stream, notice, mic: !!stream?.getAudioTracks().length, cam: !!stream?.getVideoTracks().length });
  let ack;
  try {
    ack = ackOf(await answer);
  } catch (e) {
    const msg = (e as CallError).code === "forbidden" ? t("app.people.engine.forbidden", { error: (e as Error).message }) : (e as Error).message;
    finish(msg);
    return;
  }
  if (l.ended || !ack.call || !ack.peer_id) {
    if (ack.call && l.ended) store.rt.send({ type: "call.leave", call_id: ack.call.id });
    else if (!l.ended) finish(t("app.people.engine.noCall"));
    return;
  }
  l.callId = ack.call.id;
  l.peerId = ack.peer_id;
  const cur = s();
  if (cur) session.value = { ...cur, callId: ack.call.id };
  byConv.set(ack.call.conversation_id, ack.call);
  callsV.bump();
  l.pc = makePC(l, ice);
  updateFromCall(ack.call);
  if (ack.offer) await takeOffer(l, ack.offer);
  if (outgoing && ack.call.kind === "direct" && ack.call.state === "ringing") startTone("ringback");
}

async function iceServers(): Promise<RTCIceServer[]> {
  try {
    const res = await api.get<{ ice_servers: RTCIceServer[] | null }>("/calls/ice-servers");
    return res.ice_servers || [];
  } catch {
    return [];
  }
}

function makePC(l: Live, ice: RTCIceServer[]): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: ice, bundlePolicy: "max-bundle" });
  pc.onicecandidate = (e) => {
    if (!e.candidate || l.ended) return;
    store.rt.send({ type: "call.candidate", call_id: l.callId, peer_id: l.peerId, candidate: e.candidate.toJSON() });
  };
  pc.ontrack = () => refreshRemotes(l);
  let failedAt = 0;
  pc.onconnectionstatechange = () => {
    if (l.ended) return;
    const st = pc.connectionState;
    if (st === "connected") {
      failedAt = 0;
      const cur = s();
      if (cur && cur.phase === "reconnecting") set({ phase: "active" });
    } else if (st === "failed" || st === "disconnected") {
      const cur = s();
      if (cur && cur.phase === "active") set({ phase: "reconnecting" });
      // Ask for an ICE restart when the transport failed (once every 5 s at most).
      if (st === "failed" && Date.now() - failedAt > 5000) {
        failedAt = Date.now();
        sync(l, true);
      }
    }
  };
  return pc;
}

/** takeOffer answers one of the server's offers; offers are taken in order. */
function takeOffer(l: Live, offer: RTCSessionDescriptionInit): Promise<void> {
  l.chain = l.chain.then(async () => {
    const pc = l.pc;
    if (!pc || l.ended) return;
    try {
      l.mids = midsOf(offer.sdp || "");
      await pc.setRemoteDescription(offer);
      if (!l.slots.length) attachSlots(l, pc);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      refreshRemotes(l);
      // Not awaited: a slow answer must not hold the next offer (the server
      // sends the offer again on call.sync if this one was lost).
      request({ type: "call.sdp", call_id: l.callId, peer_id: l.peerId, sdp: { type: "answer", sdp: pc.localDescription!.sdp } }).catch((e) => {
        if (!l.ended) console.error("call: the answer was not taken", e);
      });
    } catch (e) {
      if (!l.ended) console.error("call: answering the offer failed", e);
    }
  });
  return l.chain;
}

/** attachSlots puts this device's media on the offer's first three transceivers. */
function attachSlots(l: Live, pc: RTCPeerConnection) {
  const ts = pc.getTransceivers();
  l.slots = ts.slice(0, 3);
  const cur = s();
  const local = cur?.local;
  const tracks = [local?.getAudioTracks()[0] || null, local?.getVideoTracks()[0] || null, cur?.screen?.getVideoTracks()[0] || null];
  l.slots.forEach((tx, i) => {
    tx.direction = "sendonly";
    tx.sender.replaceTrack(tracks[i]).catch(() => {});
  });
  sendMedia();
}

/** midsOf reads which track (msid) each m-line of an SDP carries. */
function midsOf(sdp: string): Map<string, string> {
  const out = new Map<string, string>();
  let mid = "";
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) mid = "";
    else if (line.startsWith("a=mid:")) mid = line.slice(6).trim();
    else if (line.startsWith("a=msid:") && mid) {
      const parts = line.slice(7).trim().split(/\s+/);
      out.set(mid, parts[1] || parts[0]);
    }
  }
  return out;
}

/**
 * refreshRemotes rebuilds the remote tiles from the transceivers that
 * receive: one tile per user (voice and camera), one per shared screen.
 */
function refreshRemotes(l: Live) {
  const pc = l.pc;
  if (!pc || l.ended) return;
  const byKey = new Map<string, { userId: number; screen: boolean; tracks: MediaStreamTrack[] }>();
  for (const tx of pc.getTransceivers()) {
    if (l.slots.includes(tx) || !tx.mid) continue;
    const dir = tx.currentDirection;
    if (dir !== "recvonly" && dir !== "sendrecv") continue;
    const tid = l.mids.get(tx.mid) || tx.receiver.track.id;
    const m = /^(\d+)-(audio|video|screen)$/.exec(tid);
    if (!m) continue;
    const userId = Number(m[1]);
    const screen = m[2] === "screen";
    const key = `${userId}${screen ? ":screen" : ""}`;
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { userId, screen, tracks: [] }));
    e.tracks.push(tx.receiver.track);
  }
  const remotes: Remote[] = [];
  for (const [key, e] of byKey) {
    // A new stream when the tracks change: a video element does not
    // reliably show a track added to the stream it already plays.
    let ms = l.streams.get(key);
    const same = ms && ms.getTracks().length === e.tracks.length && e.tracks.every((tr) => ms!.getTracks().includes(tr));
    if (!ms || !same) l.streams.set(key, (ms = new MediaStream(e.tracks)));
    remotes.push({ key, userId: e.userId, stream: ms, screen: e.screen });
  }
  for (const key of [...l.streams.keys()]) if (!byKey.has(key)) l.streams.delete(key);
  // Voices play from audio elements of their own, whatever the window shows.
  const voices = new Set<number>();
  for (const r of remotes) {
    const a = r.stream.getAudioTracks()[0];
    if (!a || r.screen) continue;
    voices.add(r.userId);
    let el = l.audios.get(r.userId);
    if (!el) {
      el = document.createElement("audio");
      el.autoplay = true;
      el.dataset.callVoice = String(r.userId);
      el.style.display = "none";
      document.body.appendChild(el);
      l.audios.set(r.userId, el);
    }
    const cur = el.srcObject as MediaStream | null;
    if (!cur || cur.getAudioTracks()[0] !== a) {
      el.srcObject = new MediaStream([a]);
      el.play().catch(() => {});
    }
  }
  for (const [uid, el] of l.audios) {
    if (voices.has(uid)) continue;
    el.srcObject = null;
    el.remove();
    l.audios.delete(uid);
  }
  remotes.sort((a, b) => a.userId - b.userId || Number(a.screen) - Number(b.screen));
  set({ remotes });
}

/** updateFromCall follows the server's view of the call: answered, others joining and leaving, ended. */
function updateFromCall(c: Call) {
  const l = live;
  if (!l || l.ended || c.id !== l.callId) return;
  if (c.state === "ended") {
    const conv = store.convs.get(c.conversation_id);
    const why: Record<string, string> = {
      missed: t("app.people.engine.noAnswer"),
      declined: conv ? t("app.people.engine.declinedBy", { name: store.convTitle(conv) }) : t("app.people.engine.declined"),
      failed: t("app.people.engine.callFailed"),
    };
    finish(c.end_reason && why[c.end_reason] ? why[c.end_reason] : "");
    return;
  }
  const parts = c.participants || [];
  // Another device of ours took the call over.
  if (l.peerId && !parts.some((p) => p.peer_id === l.peerId)) {
    finish(t("app.people.engine.elsewhere"), false);
    return;
  }
  const cur = s();
  if (!cur) return;
  if (c.state === "active" && (cur.phase === "connecting" || cur.phase === "calling")) {
    stopTone();
    set({ phase: "active", startedAt: Date.now() });
  } else if (c.state === "ringing" && cur.phase === "connecting") {
    set({ phase: "calling" });
  }
}

/** sync tells the server after a reconnect (or a failed transport) that this device is still in the call. */
async function sync(l: Live, iceRestart: boolean) {
  if (l.ended || !l.peerId) return;
  try {
    const ack = ackOf(await request({ type: "call.sync", call_id: l.callId, peer_id: l.peerId, ice_restart: iceRestart }));
    if (ack.call) {
      byConv.set(ack.call.conversation_id, ack.call);
      callsV.bump();
      updateFromCall(ack.call);
    }
    if (ack.offer) await takeOffer(l, ack.offer);
    sendMedia();
  } catch (e) {
    if ((e as CallError).code === "not_found") finish(t("app.people.engine.endedAway"));
  }
}

engine.frame = (f: Frame) => {
  const l = live;
  const d = f.data || {};
  switch (f.type) {
    case "call.updated":
      if (l && d.id === l.callId) updateFromCall(d as Call);
      break;
    case "call.sdp":
      if (l && d.call_id === l.callId && d.peer_id === l.peerId && d.sdp?.type === "offer") takeOffer(l, d.sdp);
      break;
    case "call.speaking":
      if (l && d.call_id === l.callId) set({ speaking: [...(d.speaking || [])], ...(d.active ? { active: d.active as number } : {}) });
      break;
  }
};

engine.reconnected = () => {
  if (live) sync(live, false);
};

// ---- controls --------------------------------------------------------------

function sendMedia() {
  const l = live,
    cur = s();
  if (!l || !cur || !l.peerId || l.ended) return;
  const audio = cur.mic && !!cur.local?.getAudioTracks()[0]?.enabled;
  store.rt.send({ type: "call.media", call_id: l.callId, peer_id: l.peerId, audio, video: cur.cam, screen: cur.sharing });
}

/** setMic mutes or unmutes the microphone (asking for it if the call started without one). */
export async function setMic(on: boolean) {
  const l = live,
    cur = s();
  if (!l || !cur) return;
  let track = cur.local?.getAudioTracks()[0];
  if (on && !track) {
    if (!hasMedia()) return set({ notice: t("app.people.engine.noMic") });
    try {
      const got = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
      track = got.getAudioTracks()[0];
      const local = new MediaStream([...(cur.local?.getVideoTracks() || []), track]);
      await l.slots[0]?.sender.replaceTrack(track);
      set({ local, notice: "" });
    } catch (e) {
      return set({ notice: deviceProblem(e, "microphone") });
    }
  }
  if (track) track.enabled = on;
  set({ mic: on && !!track });
  sendMedia();
}

/** setCam turns the camera on (asking for it) or off (the light goes out). */
export async function setCam(on: boolean) {
  const l = live,
    cur = s();
  if (!l || !cur) return;
  const audio = cur.local?.getAudioTracks() || [];
  if (on) {
    if (!hasMedia()) return set({ notice: t("app.people.engine.noCam") });
    try {
      const got = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
      const v = got.getVideoTracks()[0];
      if (live !== l || l.ended) return v.stop();
      await l.slots[1]?.sender.replaceTrack(v);
      set({ local: new MediaStream([...audio, v]), cam: true, notice: "" });
    } catch (e) {
      return set({ notice: deviceProblem(e, "camera") });
    }
  } else {
    await l.slots[1]?.sender.replaceTrack(null);
    cur.local?.getVideoTracks().forEach((tr) => tr.stop());
    set({ local: audio.length ? new MediaStream(audio) : null, cam: false });
  }
  sendMedia();
}

/** setSharing shares the screen (a window or tab) as an extra track, or stops. */
export async function setSharing(on: boolean) {
  const l = live,
    cur = s();
  if (!l || !cur) return;
  if (on) {
    if (!navigator.mediaDevices?.getDisplayMedia) return set({ notice: t("app.people.engine.noScreen") });
    try {
      const scr = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const v = scr.getVideoTracks()[0];
      if (live !== l || l.ended) return v.stop();
      v.onended = () => setSharing(false);
      await l.slots[2]?.sender.replaceTrack(v);
      set({ screen: scr, sharing: true, notice: "" });
    } catch (e) {
      return set({ notice: deviceProblem(e, "screen") });
    }
  } else {
    await l.slots[2]?.sender.replaceTrack(null);
    cur.screen?.getTracks().forEach((tr) => tr.stop());
    set({ screen: null, sharing: false });
  }
  sendMedia();
}

/** hangUp leaves the call (a caller's hang-up before the answer cancels it). */
export async function hangUp() {
  const l = live;
  if (!l) return;
  if (l.peerId) store.rt.send({ type: "call.leave", call_id: l.callId });
  finish("");
}

/** finish ends the call on this device: tracks stopped, connection closed, the window gone. */
function finish(why: string, isError = true) {
  const l = live;
  if (!l || l.ended) return;
  l.ended = true;
  live = null;
  stopTone();
  const cur = s();
  cur?.local?.getTracks().forEach((tr) => tr.stop());
  cur?.screen?.getTracks().forEach((tr) => tr.stop());
  for (const el of l.audios.values()) {
    el.srcObject = null;
    el.remove();
  }
  try {
    l.pc?.close();
  } catch {
    /* closed */
  }
  session.value = null;
  if (why) store.toast(why, isError ? "error" : "info");
}

/** The test and debugging hook: the peer connection of the call, if any. */
(window as any).__callPC = () => live?.pc || null;
