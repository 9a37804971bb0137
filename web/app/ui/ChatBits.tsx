// The team-chat basics inside a message: mentions as chips, the reaction
// row (click to toggle, hover for who), the "N replies" line of a thread's
// first message, and the hover buttons "React" and "Reply in thread".

import type { ComponentChildren } from "preact";
import { createPortal } from "preact/compat";
import { useState } from "preact/hooks";
import * as api from "../api";
import * as chat from "../chat";
import * as store from "../store";
import type { Message } from "../types";
import { fullTime, time } from "../util";
import { Avatar } from "./common";
import { Smile } from "./icons";
import { lazy } from "./lazy";
import { Formatted, marker } from "./Markup";
import { t } from "../../i18n/i18n";

const EmojiPicker = lazy(() => import("../lazy/Emoji").then((m) => m.EmojiPicker));

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** MessageText is a message's formatted text with its mentions as chips; yours stand out. */
export function MessageText(props: { m: Message; highlight?: string }) {
  const m = props.m;
  const ids = m.mentions?.user_ids || [];
  const names = new Map<string, number>();
  for (const id of ids) names.set(store.personName(id), id);
  if (m.mentions?.all) names.set("all", 0);
  if (!names.size) return <Formatted text={m.text} highlight={props.highlight} />;
  const me = store.me.value?.id;
  const hl = marker(props.highlight);
  const re = new RegExp(
    "(@(?:" +
      [...names.keys()]
        .sort((a, b) => b.length - a.length)
        .map(esc)
        .join("|") +
      "))(?![\\p{L}\\p{N}_])",
    "gu",
  );
  // Mentions are found in the text pieces the formatter leaves, so a
  // mention inside bold text is still a chip and one inside code is not.
  const mark = (s: string, key: string): ComponentChildren =>
    s.split(re).map((part, i) => {
      if (i % 2 === 0) return part ? hl(part, key + "~" + i) : null;
      const id = names.get(part.slice(1));
      const mine = id === me || (id === 0 && m.sender_id !== me);
      return (
        <span key={key + "~" + i} class={"mention" + (mine ? " me" : "")} data-user-id={id || undefined} title={id ? store.personName(id) : t("app.chat.mention.everyone")}>
          {part}
        </span>
      );
    });
  return <Formatted text={m.text} mark={mark} />;
}

/** Reactions: one chip per emoji with its count; a click adds or takes back yours. */
export function Reactions(props: { m: Message }) {
  const m = props.m;
  const me = store.me.value?.id || 0;
  if (!m.reactions?.length) return null;
  return (
    <div class="reactions" role="group" aria-label={t("app.chat.reactions.label")}>
      {m.reactions.map((r) => {
        const mine = r.user_ids.includes(me);
        const who = r.user_ids.map((id) => (id === me ? t("app.chat.you") : store.personName(id))).join(", ");
        return (
          <button
            key={r.emoji}
            class={"reaction" + (mine ? " mine" : "")}
            aria-pressed={mine}
            title={t("app.chat.reactions.who", { who, emoji: r.emoji })}
            aria-label={t(mine ? "app.chat.reactions.labelMine" : "app.chat.reactions.labelOther", { emoji: r.emoji, count: r.count, who })}
            onClick={() => chat.react(m, r.emoji)}
          >
            <span class="r-emoji">{r.emoji}</span>
            <span class="r-count">{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}

/** ThreadLink: on a thread's first message, its replies; on a reply also sent to the chat, the way to its thread. */
export function ThreadLink(props: { m: Message }) {
  const m = props.m;
  if (m.thread_id && m.in_channel) {
    return (
      <button
        class="link thread-of"
        onClick={async () => {
          try {
            chat.openThread(await api.get<Message>(`/messages/${m.thread_id}`));
          } catch (e) {
            store.fail(e);
          }
        }}
      >
        {t("app.chat.thread.repliedIn")}
      </button>
    );
  }
  const th = m.thread;
  if (!th || !th.replies) return null;
  return (
    <button class="thread-link" onClick={() => chat.openThread(m)} title={t("app.chat.thread.lastReply", { when: fullTime(th.last_reply_at) })}>
      <span class="thread-faces" aria-hidden="true">
        {th.user_ids.slice(0, 4).map((id) => (
          <Avatar key={id} id={id} name={store.personName(id)} photo={store.people.get(id)?.photo_file_id} size={20} />
        ))}
      </span>
      <strong>{t("app.chat.thread.count", { n: th.replies })}</strong>
      <span class="thread-last">{t("app.chat.thread.lastAt", { time: time(th.last_reply_at) })}</span>
    </button>
  );
}

/** ChatActions: the hover buttons of a team-chat message. */
export function ChatActions(props: { m: Message; inThread?: boolean }) {
  const m = props.m;
  // Where the reaction picker opens: beside the button, kept on screen
  // (drawn over everything, outside the message list, which clips).
  const [at, setAt] = useState<{ x: number; y: number } | null>(null);
  const open = (e: MouseEvent) => {
    if (at) return setAt(null);
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const w = Math.min(340, window.innerWidth - 16),
      h = 420;
    const x = Math.max(8, Math.min(r.left - w / 2, window.innerWidth - w - 8));
    const y = r.bottom + h + 8 < window.innerHeight ? r.bottom + 4 : Math.max(8, r.top - h - 4);
    setAt({ x, y });
  };
  const pick = (e: string) => {
    setAt(null);
    chat.react(m, e);
  };
  return (
    <>
      <button
        class="icon-btn small"
        title={t("app.chat.reactions.react")}
        aria-label={t("app.chat.reactions.react")}
        aria-expanded={!!at}
        onClick={open}
        onMouseEnter={EmojiPicker.preload}
        tabIndex={-1}
      >
        <Smile size={16} />
      </button>
      {at
        ? createPortal(
            <div class="react-pop emoji-wrap" style={{ left: `${at.x}px`, top: `${at.y}px` }}>
              <div class="quick-reactions" role="group" aria-label={t("app.chat.reactions.quick")}>
                {chat.QUICK.map((e) => (
                  <button key={e} class="quick-reaction" aria-label={t("app.chat.reactions.reactWith", { emoji: e })} onClick={() => pick(e)}>
                    {e}
                  </button>
                ))}
              </div>
              <EmojiPicker onPick={pick} onClose={() => setAt(null)} />
            </div>,
            document.body,
          )
        : null}
      {!props.inThread && !m.thread_id ? (
        <button class="icon-btn small" title={t("app.chat.thread.replyIn")} aria-label={t("app.chat.thread.replyIn")} onClick={() => chat.openThread(m)} tabIndex={-1}>
          <ThreadIcon />
        </button>
      ) : null}
    </>
  );
}

function ThreadIcon() {
  return (
    <svg class="icon" width={16} height={16} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="M4 5h16v10H9l-5 4z" />
      <path d="M8 9h8M8 12h5" />
    </svg>
  );
}

/** MutedIcon: a bell struck through, for a muted chat. */
export function MutedIcon(props: { size?: number }) {
  const s = props.size || 14;
  return (
    <svg class="icon muted-icon" width={s} height={s} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" role="img" aria-label={t("app.chat.muted")}>
      <title>{t("app.chat.muted")}</title>
      <path d="M6 8a6 6 0 0 1 9.3-5M18 8c0 7 3 9 3 9H9" />
      <path d="M13.7 21a2 2 0 0 1-3.4 0" />
      <path d="M3 3l18 18" />
    </svg>
  );
}

/** ChatMarks: in the conversation list, the muted bell and the unread mentions ("@"). */
export function ChatMarks(props: { c: import("../types").Conversation }) {
  const c = props.c;
  const muted = chat.mutedNow(c);
  return (
    <>
      {muted ? <MutedIcon /> : null}
      {c.mentions ? (
        <span class="badge mention-badge" aria-label={t("app.chat.mention.unread", { n: c.mentions })} title={t("app.chat.mention.ofYou")}>
          @
        </span>
      ) : null}
    </>
  );
}
