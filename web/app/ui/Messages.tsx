// One message in a history: bubble, quote, attachments, time, delivery
// status, reminder highlight; and the system lines.

import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { fileURL, thumbURL } from "../api";
import { memo, use } from "../sig";
import * as store from "../store";
import * as tasks from "../tasks";
import type { FileInfo, Message, MsgStatus, Reminder } from "../types";
import { MessageCards } from "./Cards";
import { PreviewCard } from "./Markup";
import { dayLabel, eventText, fullTime, links, sameDay, size, time } from "../util";
import { Avatar } from "./common";
import { lazy } from "./lazy";
import { ChatActions, MessageText, Reactions, ThreadLink } from "./ChatBits";
import { mentionsMe } from "../chat";
import { t } from "../../i18n/i18n";
import { Bell, Clock, Cross, File as FileIcon, More, Pause, Play, Reply, Sent, Tick, Ticks, Zap } from "./icons";

const RoutingWhy = lazy(() => import("../lazy/Routing").then((m) => m.RoutingWhy));

/**
 * SysLine is a system line. The distribution's "routed" lines have a "Why?"
 * that unfolds its decision: the trigger, the policy, every candidate with
 * their verdict, and the tie-break (loaded on demand).
 */
function SysLine(props: { m: Message }) {
  const m = props.m;
  const [why, setWhy] = useState(false);
  const decision = m.event?.action === "routed" ? m.event.routing : undefined;
  return (
    <div class={"sysline" + (decision ? " routed" : "") + (why ? " open" : "")} data-mid={m.id} data-action={m.event?.action}>
      {eventText(m)} · <time dateTime={m.created_at}>{time(m.created_at)}</time>
      {decision ? (
        <>
          {" "}
          <button class="link why-btn" aria-expanded={why} onClick={() => setWhy(!why)} onMouseEnter={RoutingWhy.preload} onFocus={RoutingWhy.preload}>
            {why ? t("app.chat.routing.hide") : t("app.chat.routing.why")}
          </button>
          {why ? <RoutingWhy messageId={m.id} /> : null}
        </>
      ) : null}
    </div>
  );
}

/** A row of the history: a stored message or one still in the outbox. */
export interface Row {
  key: number | string;
  m: Message;
  pending?: store.Pending;
}

export function pendingRow(p: store.Pending): Row {
  return {
    key: "p:" + p.client_id,
    pending: p,
    m: {
      id: 0,
      conversation_id: p.conversation_id,
      seq: Number.MAX_SAFE_INTEGER,
      sender_id: store.me.value?.id,
      kind: p.whisper ? "whisper" : p.files.length ? "file" : "text",
      text: p.text,
      quote: p.quote,
      files: p.files,
      created_at: p.created_at,
      client_id: p.client_id,
      cards: p.cards,
    },
  };
}

/** StatusMark: a message's delivery status; via names the channel that carries it ("Telegram"), if any. */
export function StatusMark(props: { s: MsgStatus; error?: string; via?: string }) {
  switch (props.s) {
    case "queued": {
      const what = props.via ? t("app.chat.status.queuedVia", { via: props.via }) : t("app.chat.status.queued");
      return (
        <span class="status queued" title={what} aria-label={what}>
          <Clock />
        </span>
      );
    }
    case "failed": {
      const what = props.error ? t("app.chat.status.notSent", { error: props.error }) : t("app.chat.status.notSentFailed");
      return (
        <span class="status failed" title={what} aria-label={what}>
          <Cross />
        </span>
      );
    }
    case "sent": {
      const what = props.via ? t("app.chat.status.sentVia", { via: props.via }) : t("app.chat.status.sent");
      return (
        <span class="status sent" title={what} aria-label={what}>
          <Sent />
        </span>
      );
    }
    case "delivered":
      return (
        <span class="status delivered" title={t("app.chat.status.delivered")} aria-label={t("app.chat.status.delivered")}>
          <Tick />
        </span>
      );
    case "read":
      return (
        <span class="status read" title={t("app.chat.status.read")} aria-label={t("app.chat.status.read")}>
          <Ticks />
        </span>
      );
  }
}

export function Text(props: { text: string; highlight?: string }) {
  const words = props.highlight
    ?.toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const mark = (s: string, k: number): ComponentChildren => {
    if (!words?.length) return s;
    const re = new RegExp("(" + words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "gi");
    return s.split(re).map((part, i) => (i % 2 ? <mark key={k + "-" + i}>{part}</mark> : part));
  };
  return (
    <>
      {links(props.text).map((p, i) =>
        typeof p === "string" ? (
          mark(p, i)
        ) : (
          <a key={i} href={p.url} target="_blank" rel="noopener noreferrer">
            {p.url}
          </a>
        ),
      )}
    </>
  );
}

function imageBox(f: FileInfo): { w: number; h: number } {
  const W = f.width || 320,
    H = f.height || 240;
  const scale = Math.min(1, 280 / W, 240 / H);
  return { w: Math.max(40, Math.round(W * scale)), h: Math.max(40, Math.round(H * scale)) };
}

/** estimateHeight guesses a row's height before it is measured. */
export function estimateHeight(r: Row, prev?: Message): number {
  const m = r.m;
  let h = m.kind === "event" ? 30 : m.kind === "whisper" ? 72 : 52;
  if (!prev || !sameDay(new Date(prev.created_at), new Date(m.created_at))) h += 36;
  if (m.quote) h += 44;
  for (const f of m.files || []) h += f.content_type.startsWith("image/") && f.has_thumbnail ? imageBox(f).h + 8 : 52;
  h += Math.floor(m.text.length / 60) * 20;
  return h;
}

const clock = (s: number) => {
  const n = Math.max(0, Math.floor(s));
  return `${Math.floor(n / 60)}:${String(n % 60).padStart(2, "0")}`;
};

/**
 * Voice plays an audio file with its real duration. Recordings made in the
 * browser (MediaRecorder's WebM or Ogg) carry no duration in their header,
 * so the audio element reports Infinity (its own controls showed "0:00 /
 * 0:00"): on loadedmetadata it seeks far past the end once, which makes the
 * browser read the whole file and find the duration, then goes back to 0.
 */
function Voice(props: { f: FileInfo }) {
  const f = props.f;
  const audio = useRef<HTMLAudioElement>(null);
  const probing = useRef(false);
  const [dur, setDur] = useState(0);
  const [at, setAt] = useState(0);
  const [playing, setPlaying] = useState(false);
  const known = (d: number) => Number.isFinite(d) && d > 0;
  const onMeta = (e: Event) => {
    const a = e.currentTarget as HTMLAudioElement;
    if (known(a.duration)) return setDur(a.duration);
    probing.current = true;
    a.currentTime = 1e101;
  };
  const onDuration = (e: Event) => {
    const a = e.currentTarget as HTMLAudioElement;
    if (!known(a.duration)) return;
    setDur(a.duration);
    if (probing.current) {
      probing.current = false;
      a.currentTime = 0;
      setAt(0);
    }
  };
  const toggle = () => {
    const a = audio.current!;
    if (a.paused) {
      probing.current = false;
      if (a.ended || (dur && a.currentTime >= dur)) a.currentTime = 0;
      a.play().catch((e) => store.toast(t("app.chat.voice.cannotPlay", { error: (e as Error).message }), "error"));
    } else a.pause();
  };
  return (
    <div class="voice" role="group" aria-label={t("app.chat.voice.label", { name: f.name })}>
      <button class="icon-btn voice-play" onClick={toggle} aria-label={playing ? t("app.chat.voice.pause") : t("app.chat.voice.play")} title={playing ? t("app.chat.voice.pause") : t("app.chat.voice.play")}>
        {playing ? <Pause size={16} /> : <Play size={16} />}
      </button>
      <input
        class="voice-seek"
        type="range"
        min={0}
        max={dur || 1}
        step={0.05}
        value={dur ? Math.min(at, dur) : 0}
        disabled={!dur}
        aria-label={t("app.chat.voice.position")}
        aria-valuetext={clock(at)}
        onInput={(e) => {
          const v = Number((e.currentTarget as HTMLInputElement).value);
          audio.current!.currentTime = v;
          setAt(v);
        }}
      />
      <span class="voice-time">
        {clock(at)} / {dur ? clock(Math.round(dur)) : "…"}
      </span>
      <audio
        ref={audio}
        preload="metadata"
        src={fileURL(f.id)}
        onLoadedMetadata={onMeta}
        onDurationChange={onDuration}
        onTimeUpdate={(e) => !probing.current && setAt((e.currentTarget as HTMLAudioElement).currentTime)}
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={(e) => {
          setPlaying(false);
          // A browser that found no duration knows it once it played to the end.
          const d = (e.currentTarget as HTMLAudioElement).currentTime;
          if (!dur && d > 0) setDur(d);
        }}
      />
    </div>
  );
}

function Attachment(props: { f: FileInfo; onImage: (f: FileInfo) => void }) {
  const f = props.f;
  if (f.content_type.startsWith("image/") && f.has_thumbnail && f.id) {
    const b = imageBox(f);
    return (
      <button class="img-btn" onClick={() => props.onImage(f)} aria-label={t("app.chat.message.openImage", { name: f.name })} style={{ width: `${b.w}px`, height: `${b.h}px` }}>
        <img src={thumbURL(f.id)} alt={f.name} width={b.w} height={b.h} loading="lazy" />
      </button>
    );
  }
  if (f.content_type.startsWith("audio/") && f.id) return <Voice f={f} />;
  return (
    <a class="file-card" href={f.id ? fileURL(f.id) : undefined} download={f.name} target="_blank" rel="noopener">
      <FileIcon />
      <span class="file-name">{f.name}</span>
      <span class="file-size">{size(f.size)}</span>
    </a>
  );
}

export interface RowActions {
  menu(e: MouseEvent | KeyboardEvent, r: Row): void;
  reply(m: Message): void;
  jump(q: { id: number; text: string }): void;
  image(f: FileInfo): void;
  user(id: number): void;
  retry(p: store.Pending): void;
  discard(p: store.Pending): void;
  /** Customer dialogs: turn a message into a new quick reply (the lightning icon). */
  quick?(m: Message): void;
}

/** The words for a message's delivery status in its row's label. */
const STATUS = {
  queued: "app.chat.status.word.queued",
  sent: "app.chat.status.word.sent",
  delivered: "app.chat.status.word.delivered",
  read: "app.chat.status.word.read",
  failed: "app.chat.status.word.failed",
} as const;

/** rowLabel is a message row's accessible name: who, when, and its status. */
function rowLabel(whisper: boolean, who: string, when: string, status?: MsgStatus): string {
  if (status) {
    const p = { who, when, status: t(STATUS[status]) };
    return whisper ? t("app.chat.message.labelWhisperStatus", p) : t("app.chat.message.labelStatus", p);
  }
  return whisper ? t("app.chat.message.labelWhisper", { who, when }) : t("app.chat.message.label", { who, when });
}

export const MessageRow = memo(function MessageRow(props: {
  r: Row;
  prev?: Message;
  status?: MsgStatus;
  group: boolean;
  reminder?: Reminder;
  flash: boolean;
  unreadMark: boolean;
  highlight?: string;
  a: RowActions;
  pv: number;
  /** A live-chat dialog: the visitor's name (for quotes of their messages); statuses are the visitor's reading, never grey. */
  visitor?: string;
  /** A record shown read-only (no reply, no menu). */
  readOnly?: boolean;
  /** A connected channel's dialog: the channel's name; statuses are the message's own, as the channel reported them. */
  via?: string;
  /** Shown in a thread's panel (no "Reply in thread", no replies line). */
  inThread?: boolean;
}) {
  const { r, prev, a } = props;
  const m = r.m;
  const day = !prev || !sameDay(new Date(prev.created_at), new Date(m.created_at));
  const sep = day ? (
    <div class="day-sep" role="separator">
      <span>{dayLabel(m.created_at)}</span>
    </div>
  ) : null;
  const unread = props.unreadMark ? (
    <div class="unread-sep" role="separator">
      <span>{t("app.chat.history.newMessages")}</span>
    </div>
  ) : null;
  if (m.kind === "event") {
    return (
      <>
        {sep}
        {unread}
        <SysLine m={m} />
      </>
    );
  }
  const mine = m.sender_id === store.me.value?.id;
  const compact =
    !day && !!prev && prev.kind !== "event" && prev.sender_id === m.sender_id && Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60_000;
  const status: MsgStatus | undefined = r.pending ? r.pending.status : mine ? props.status : undefined;
  const grey = mine && (props.visitor === undefined ? status === "sent" || status === "queued" : status === "queued");
  const whisper = m.kind === "whisper";
  const fromVisitor = !!m.contact_id && !m.sender_id;
  const deleted = !!m.deleted_at;
  const cls =
    "msg" +
    (mine ? " mine" : " theirs") +
    (compact ? " compact" : "") +
    (grey ? " grey" : "") +
    (props.reminder ? " reminded" : "") +
    (props.flash ? " flash" : "") +
    (whisper ? " whisper" : "") +
    (fromVisitor ? " visitor" : "") +
    (status === "failed" ? " failed" : "") +
    (mentionsMe(m) ? " mentioned" : "");
  const name = store.senderName(m);
  const avatarId = fromVisitor ? m.contact_id! * 31 + 7 : m.sender_id || 0;
  return (
    <>
      {sep}
      {unread}
      <div
        class={cls}
        data-mid={m.id || undefined}
        data-client-id={m.client_id || undefined}
        data-status={status}
        tabIndex={-1}
        aria-label={rowLabel(whisper, mine ? t("app.chat.you") : name, fullTime(m.created_at), status)}
        onContextMenu={(e) => !props.readOnly && a.menu(e, r)}
        onKeyDown={(e) => {
          if (props.readOnly) return;
          if (e.key === "ContextMenu" || (e.shiftKey && e.key === "F10") || e.key === "Enter") {
            e.preventDefault();
            a.menu(e, r);
          }
        }}
      >
        {!mine ? (
          <span class="msg-avatar">
            {!compact ? (
              <button class="avatar-btn" onClick={() => m.sender_id && a.user(m.sender_id)} aria-label={t("app.chat.message.about", { name })} tabIndex={-1}>
                <Avatar id={avatarId} name={name} photo={fromVisitor ? undefined : store.people.get(m.sender_id || 0)?.photo_file_id} size={32} />
              </button>
            ) : null}
          </span>
        ) : null}
        <div class="bubble">
          {whisper ? <span class="whisper-label">{t("app.chat.message.whisper")}</span> : null}
          {!r.pending && !deleted && !props.readOnly ? (
            <span class="msg-actions">
              {props.visitor === undefined && !whisper ? <ChatActions m={m} inThread={props.inThread} /> : null}
              <button class="icon-btn small" title={t("app.chat.message.reply")} aria-label={t("app.chat.message.reply")} onClick={() => a.reply(m)} tabIndex={-1}>
                <Reply size={16} />
              </button>
              {a.quick && m.text && !whisper ? (
                <button class="icon-btn small" title={t("app.chat.message.saveQuickReply")} aria-label={t("app.chat.message.saveQuickReply")} onClick={() => a.quick!(m)} tabIndex={-1}>
                  <Zap size={16} />
                </button>
              ) : null}
              <button class="icon-btn small" title={t("app.chat.message.more")} aria-label={t("app.chat.message.moreActions")} onClick={(e) => a.menu(e, r)} tabIndex={-1}>
                <More size={16} />
              </button>
            </span>
          ) : null}
          {!mine && !compact && props.group ? (
            <button class="sender" onClick={() => m.sender_id && a.user(m.sender_id)} tabIndex={-1}>
              {name}
            </button>
          ) : null}
          {m.quote && !deleted ? (
            <button class="quote" onClick={() => a.jump(m.quote!)} tabIndex={-1} title={t("app.chat.message.showQuoted")}>
              <span class="quote-who">{!m.quote.sender_id && props.visitor !== undefined ? props.visitor : store.personName(m.quote.sender_id)}</span>
              <span class="quote-text">{m.quote.deleted ? t("app.chat.preview.deleted") : m.quote.text || t("app.chat.message.attachment")}</span>
            </button>
          ) : null}
          {deleted ? (
            <p class="text deleted">{t("app.chat.message.deleted")}</p>
          ) : (
            <>
              {m.files?.length ? (
                <div class="files">
                  {m.files.map((f) => (
                    <Attachment key={f.id} f={f} onImage={a.image} />
                  ))}
                </div>
              ) : null}
              {m.text ? (
                <div class="text md">
                  <MessageText m={m} highlight={props.highlight} />
                </div>
              ) : null}
              {m.preview && !m.preview.hidden && m.preview.title ? <PreviewCard m={m} p={m.preview} mine={mine && !props.readOnly} /> : null}
              {m.cards?.length ? <MessageCards cards={m.cards} onUser={a.user} /> : null}
              <Reactions m={m} />
            </>
          )}
          {!props.inThread ? <ThreadLink m={m} /> : null}
          <span class="meta">
            {m.id > 0 ? <LinkMark id={m.id} /> : null}
            {props.reminder ? (
              <span class="rem-mark" title={t("app.chat.message.reminderAt", { when: fullTime(props.reminder.remind_at) })}>
                <Bell size={12} />
                {" "}
                {props.reminder.fired_at ? t("app.chat.message.reminderDue") : time(props.reminder.remind_at)}
              </span>
            ) : null}
            {m.edited_at && !deleted ? <span class="edited">{t("app.chat.message.edited")}</span> : null}
            <time dateTime={m.created_at} title={fullTime(m.created_at)}>
              {time(m.created_at)}
            </time>
            {status ? <StatusMark s={status} error={r.pending ? r.pending.error : m.status_error} via={props.via} /> : null}
          </span>
          {r.pending?.status === "failed" ? (
            <span class="fail-line" role="alert">
              {r.pending.error}{" "}
              <button class="link" onClick={() => a.retry(r.pending!)}>
                {t("app.chat.message.retry")}
              </button>{" "}
              <button class="link" onClick={() => a.discard(r.pending!)}>
                {t("app.chat.delete")}
              </button>
            </span>
          ) : status === "failed" && !r.pending ? (
            // Stays in sight: phones have no hover to show the cross's title.
            <span class="fail-line">{m.status_error ? t("app.chat.status.notSent", { error: m.status_error }) : t("app.chat.status.notSentRefused")}</span>
          ) : null}
        </div>
      </div>
    </>
  );
});

/** LinkMark shows where a message was moved to ("Move to task"); a click opens it. */
function LinkMark(props: { id: number }) {
  use(tasks.linksV);
  const ls = tasks.links.get(props.id);
  if (!ls?.length) return null;
  return (
    <>
      {ls.map((l) => (
        <button key={l.id} class="link-mark" title={tasks.movedTitle(l)} onClick={() => tasks.openLink(l)}>
          ↗ {tasks.linkLabel(l)}
        </button>
      ))}
    </>
  );
}
