// The system lines calls leave in a conversation's history (docs/calls.md,
// "History"): missed, declined, cancelled, and ended with the call's length.

import type { Message } from "./types";
import { t } from "../i18n/i18n";

/** duration writes seconds as m:ss or h:mm:ss. */
export function duration(secs: number): string {
  const all = Math.max(0, Math.round(secs));
  const h = Math.floor(all / 3600),
    m = Math.floor((all % 3600) / 60),
    s = all % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

const MISSED = {
  call: "app.chat.call.missed",
  video: "app.chat.call.missedVideo",
  conference: "app.chat.call.missedConference",
} as const;
const DECLINED = {
  call: "app.chat.call.declined",
  video: "app.chat.call.declinedVideo",
  conference: "app.chat.call.declinedConference",
} as const;
const CANCELLED = {
  call: "app.chat.call.cancelled",
  video: "app.chat.call.cancelledVideo",
  conference: "app.chat.call.cancelledConference",
} as const;
const ENDED = {
  call: "app.chat.call.ended",
  video: "app.chat.call.endedVideo",
  conference: "app.chat.call.endedConference",
} as const;

/** callLine is the text of a call's system line, or "" for other lines. */
export function callLine(m: Message, name: (id?: number) => string, group: boolean): string {
  const e = m.event;
  if (!e || !e.action.startsWith("call_")) return "";
  const call = e.call || {};
  // The kind of call: a videoconference (a multi-chat's), a video call or a call.
  const kind = group ? "conference" : call.video ? "video" : "call";
  const actor = name(e.actor_id);
  switch (e.action) {
    case "call_missed":
      return t(MISSED[kind], { name: actor });
    case "call_declined":
      return t(DECLINED[kind], { name: actor });
    case "call_cancelled":
      return t(CANCELLED[kind], { name: actor });
    case "call_ended": {
      const who = (e.user_ids || []).map((id) => name(id)).join(", ");
      const len = call.duration !== undefined ? ` · ${duration(call.duration)}` : "";
      return t(ENDED[kind]) + len + (group && who ? ` · ${who}` : "");
    }
  }
  return "";
}
