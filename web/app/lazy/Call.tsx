// The call window and the incoming call dialog (loaded when a call starts
// or rings). The window floats over the app (large on request, full screen
// at phone width) or shrinks to a bar, so the call goes on while the user
// moves around the app. Voices play from audio elements of the engine, not
// from the tiles: hiding the window silences nobody.

import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as calls from "../calls";
import type { Call, Participant } from "../calls";
import { convURL, navigate } from "../router";
import { use } from "../sig";
import * as store from "../store";
import { Avatar } from "../ui/common";
import { PhoneIcon, VideoIcon } from "../ui/Calls";
import * as engine from "./callEngine";

type P = { size?: number };
const icon = (d: preact.JSX.Element | preact.JSX.Element[], p: P = {}) => (
  <svg class="icon" width={p.size || 20} height={p.size || 20} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    {d}
  </svg>
);
const MicOn = (p?: P) => icon([<rect x="9" y="2" width="6" height="12" rx="3" />, <path d="M5 10a7 7 0 0 0 14 0M12 17v5M8 22h8" />], p);
const MicOff = (p?: P) => icon([<path d="M1 1l22 22" />, <path d="M9 9v3a3 3 0 0 0 5.1 2.1M15 9.3V5a3 3 0 0 0-5.9-.6" />, <path d="M17 16.9A7 7 0 0 1 5 12v-2m14 0v2a7 7 0 0 1-.1 1.2M12 19v3M8 22h8" />], p);
const CamOff = (p?: P) => icon([<path d="M1 1l22 22" />, <path d="M21 17V7l-5 4M16 16v1a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2h2m5 0h4a2 2 0 0 1 2 2v4" />], p);
const Screen = (p?: P) => icon([<rect x="2" y="3" width="20" height="14" rx="2" />, <path d="M8 21h8M12 17v4" />], p);
const HangUpIcon = (p?: P) =>
  icon(<path d="M10.7 13.3a16 16 0 0 0 3.4 2.6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2v3a2 2 0 0 1-2.2 2A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8 9.9M23 1 1 23" />, p);
const ChatIcon = (p?: P) => icon(<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z" />, p);
const Minimise = (p?: P) => icon(<path d="M5 12h14" />, p);
const Enlarge = (p?: P) => icon(<path d="M15 3h6v6M9 21H3v-6M21 3l-7 7M3 21l7-7" />, p);
const Shrink = (p?: P) => icon(<path d="M4 14h6v6M20 10h-6V4M14 10l7-7M3 21l7-7" />, p);

function clock(ms: number): string {
  const sec = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(sec / 3600),
    m = Math.floor((sec % 3600) / 60),
    s = sec % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"),
    ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Timer shows how long the call has lasted, or where it stands. */
function Status(props: { s: calls.Session }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  const s = props.s;
  const text =
    s.phase === "calling"
      ? t("app.people.call.ringing")
      : s.phase === "connecting"
        ? t("app.people.call.connecting")
        : s.phase === "reconnecting"
          ? t("app.people.call.reconnecting")
          : clock(Date.now() - s.startedAt);
  return (
    <span class={"call-status " + s.phase} role="timer" aria-live="off">
      {text}
    </span>
  );
}

interface TileInfo {
  key: string;
  userId: number;
  stream: MediaStream | null;
  screen: boolean;
  p?: Participant;
  note?: string;
}

/**
 * Tile shows a participant's video, or their photo when no frames come
 * (camera off, voice only, not connected yet): the video element's frame
 * count says whether pictures arrive, whatever the flags claim.
 */
function Tile(props: { t: TileInfo; speaking: boolean; mine?: boolean; mirror?: boolean }) {
  const { t: tile } = props;
  const ref = useRef<HTMLVideoElement>(null);
  const [frames, setFrames] = useState(false);
  use(store.peopleV);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    if (v.srcObject !== tile.stream) v.srcObject = tile.stream;
    if (tile.stream) v.play().catch(() => {});
    let last = -1,
      still = 0;
    const check = () => {
      const q = v.getVideoPlaybackQuality?.();
      const n = q ? q.totalVideoFrames : v.currentTime;
      const moving = n !== last && v.videoWidth > 0;
      still = moving ? 0 : still + 1;
      last = n;
      setFrames(moving || (still < 3 && v.videoWidth > 0 && last > 0));
    };
    const timer = setInterval(check, 500);
    return () => clearInterval(timer);
  }, [tile.stream]);
  const camOff = !tile.screen && tile.p && !tile.p.video;
  const show = frames && !camOff;
  const name = props.mine ? t("app.people.call.you") : store.personName(tile.userId);
  const label = tile.screen ? (props.mine ? t("app.people.call.myScreen") : t("app.people.call.screenOf", { name })) : name;
  return (
    <div class={"tile" + (props.speaking ? " speaking" : "") + (tile.screen ? " screen" : "") + (show ? " has-video" : "")} data-user={tile.userId} data-screen={tile.screen ? "1" : undefined} aria-label={label}>
      <video ref={ref} autoPlay playsInline muted class={props.mirror ? "mirror" : ""} />
      {!show ? (
        <div class="tile-face">
          <Avatar id={tile.userId} name={store.personName(tile.userId)} photo={store.people.get(tile.userId)?.photo_file_id} size={72} />
          {tile.note ? <span class="tile-note">{tile.note}</span> : null}
        </div>
      ) : null}
      <span class="tile-name">
        {tile.p && !tile.p.audio && !tile.screen ? (
          <span class="tile-muted" title={t("app.people.call.micOff")}>
            <MicOff size={14} />
          </span>
        ) : null}
        {label}
      </span>
    </div>
  );
}

export function CallWindow() {
  const s = use(calls.session);
  const view = use(calls.view);
  use(calls.callsV, store.convsV);
  // The window's size class follows the viewport (phones get the whole screen).
  if (!s) return null;
  const me = store.me.value?.id || 0;
  const call = calls.byConv.get(s.convId);
  const conv = store.convs.get(s.convId);
  const title = conv ? store.convTitle(conv) : t("app.people.call.region");
  const parts = (call?.id === s.callId ? call.participants || [] : []).filter((p) => p.user_id !== me);
  const tiles: TileInfo[] = parts.map((p) => ({
    key: String(p.user_id),
    userId: p.user_id,
    stream: s.remotes.find((r) => r.userId === p.user_id && !r.screen)?.stream || null,
    screen: false,
    p,
    note: !p.connected ? t("app.people.call.connecting") : !p.video ? undefined : undefined,
  }));
  for (const r of s.remotes) if (r.screen) tiles.push({ key: r.key, userId: r.userId, stream: r.stream, screen: true, p: parts.find((p) => p.user_id === r.userId) });
  if (!parts.length && conv?.kind === "direct") {
    const o = store.other(conv);
    if (o) tiles.push({ key: "callee", userId: o.user_id, stream: null, screen: false, note: s.phase === "calling" ? t("app.people.call.ringing") : s.phase === "connecting" ? t("app.people.call.connecting") : t("app.people.call.waiting"),
      });
  }
  if (!tiles.length) tiles.push({ key: "alone", userId: me, stream: null, screen: false, note: t("app.people.call.waitingOthers") });
  const speaking = new Set(s.speaking);
  const hangUp = () => engine.hangUp();
  if (view === "min") {
    return (
      <div class="call-mini" role="region" aria-label={t("app.people.call.region")}>
        <span class={"call-dot" + (s.speaking.length ? " speaking" : "")} />
        <button class="call-mini-main" onClick={() => (calls.view.value = "float")} title={t("app.people.calls.showCall")}>
          <strong>{title}</strong> <Status s={s} />
        </button>
        <button class={"round small" + (s.mic ? "" : " off")} aria-label={s.mic ? t("app.people.call.mute") : t("app.people.call.unmute")} aria-pressed={!s.mic} onClick={() => engine.setMic(!s.mic)}>
          {s.mic ? <MicOn size={16} /> : <MicOff size={16} />}
        </button>
        <button class="round small hang" aria-label={t("app.people.call.hangUp")} onClick={hangUp}>
          <HangUpIcon size={16} />
        </button>
      </div>
    );
  }
  const n = tiles.length;
  const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
  const selfShown = s.cam && s.local;
  const large = view === "large";
  return (
    <div class={"call-window " + view} role="region" aria-label={t("app.people.call.regionOf", { title })}>
      <header class="call-head">
        <div class="call-title">
          <strong>{title}</strong>
          <Status s={s} />
        </div>
        <button
          class="icon-btn"
          aria-label={t("app.people.call.goToConversation")}
          title={t("app.people.call.goToConversation")}
          onClick={() => {
            navigate(convURL(s.convId));
            // On a phone the window covers the conversation: make room.
            if (matchMedia("(max-width: 760px)").matches) calls.view.value = "min";
          }}
        >
          <ChatIcon />
        </button>
        <button class="icon-btn" aria-label={t("app.people.call.minimise")} title={t("app.people.call.minimiseTitle")} onClick={() => (calls.view.value = "min")}>
          <Minimise />
        </button>
        <button class="icon-btn enlarge" aria-label={large ? t("app.people.call.shrink") : t("app.people.call.enlarge")} onClick={() => (calls.view.value = view === "large" ? "float" : "large")}>
          {view === "large" ? <Shrink /> : <Enlarge />}
        </button>
      </header>
      {s.notice ? (
        <p class="call-notice" role="alert">
          {s.notice}
          <button class="link" onClick={() => calls.patch(s.callId, { notice: "" })}>
            {t("app.people.call.dismiss")}
          </button>
        </p>
      ) : null}
      <div class="call-grid" style={{ "--cols": String(cols), "--rows": String(Math.ceil(n / cols)) }} data-count={n}>
        {tiles.map((x) => (
          <Tile key={x.key} t={x} speaking={speaking.has(x.userId) && !x.screen} />
        ))}
        {selfShown || s.sharing ? (
          <div class="self-view">
            {selfShown ? <Tile t={{ key: "me", userId: me, stream: s.local, screen: false }} speaking={speaking.has(me)} mine mirror /> : null}
            {s.sharing && s.screen ? <Tile t={{ key: "myscreen", userId: me, stream: s.screen, screen: true }} speaking={false} mine /> : null}
          </div>
        ) : null}
      </div>
      <footer class="call-controls">
        <button class={"round" + (s.mic ? "" : " off")} aria-label={s.mic ? t("app.people.call.mute") : t("app.people.call.unmute")} aria-pressed={!s.mic} title={s.mic ? t("app.people.call.muteMic") : t("app.people.call.unmuteMic")} onClick={() => engine.setMic(!s.mic)}>
          {s.mic ? <MicOn /> : <MicOff />}
        </button>
        <button class={"round" + (s.cam ? "" : " off")} aria-label={s.cam ? t("app.people.call.camOff") : t("app.people.call.camOn")} aria-pressed={!s.cam} onClick={() => engine.setCam(!s.cam)}>
          {s.cam ? <VideoIcon size={20} /> : <CamOff />}
        </button>
        <button class={"round" + (s.sharing ? " sharing" : "")} aria-label={s.sharing ? t("app.people.call.stopSharing") : t("app.people.call.share")} aria-pressed={s.sharing} onClick={() => engine.setSharing(!s.sharing)}>
          <Screen />
        </button>
        <button class="round hang" aria-label={t("app.people.call.hangUp")} title={t("app.people.call.hangUp")} onClick={hangUp}>
          <HangUpIcon />
        </button>
      </footer>
    </div>
  );
}

/** IncomingCall rings: Accept with video or voice, or Decline (every device stops ringing). */
export function IncomingCall(props: { call: Call }) {
  const c = props.call;
  use(store.peopleV);
  const name = store.personName(c.created_by);
  const accept = (video: boolean) => calls.join(c, video).catch(store.fail);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("[data-autofocus]")?.focus();
  }, []);
  return (
    <div class="incoming-call" role="alertdialog" aria-modal="false" aria-label={t("app.people.calls.isCalling", { name })} ref={ref}>
      <div class="incoming-who">
        <span class="ringing-avatar">
          <Avatar id={c.created_by} name={name} photo={store.people.get(c.created_by)?.photo_file_id} size={64} />
        </span>
        <div>
          <strong>{name}</strong>
          <span class="muted">{c.video ? t("app.people.call.incomingVideo") : t("app.people.call.incomingVoice")}</span>
        </div>
      </div>
      <div class="incoming-actions">
        <button class="btn decline" aria-label={t("app.people.call.declineLabel")} onClick={() => calls.decline(c)}>
          <HangUpIcon size={16} /> {t("app.people.call.decline")}
        </button>
        <button class={"btn accept" + (c.video ? "" : " primary-accept")} aria-label={t("app.people.call.acceptVoiceLabel")} onClick={() => accept(false)} data-autofocus={c.video ? undefined : true}>
          <PhoneIcon size={16} /> {t("app.people.call.acceptVoice")}
        </button>
        <button class={"btn accept" + (c.video ? " primary-accept" : "")} aria-label={t("app.people.call.acceptVideoLabel")} onClick={() => accept(true)} data-autofocus={c.video ? true : undefined}>
          <VideoIcon size={16} /> {t("app.people.call.acceptVideo")}
        </button>
      </div>
    </div>
  );
}
