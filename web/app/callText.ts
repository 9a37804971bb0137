// The system lines calls leave in a conversation's history (docs/calls.md,
// "History"): missed, declined, cancelled, and ended with the call's length.

import type { Message } from "./types";

/** duration writes seconds as m:ss or h:mm:ss. */
export function duration(secs: number): string {
  const t = Math.max(0, Math.round(secs));
  const h = Math.floor(t / 3600),
    m = Math.floor((t % 3600) / 60),
    s = t % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

/** callLine is the text of a call's system line, or "" for other lines. */
export function callLine(m: Message, name: (id?: number) => string, group: boolean): string {
  const e = m.event;
  if (!e || !e.action.startsWith("call_")) return "";
  const call = e.call || {};
  const what = group ? "Videoconference" : call.video ? "Video call" : "Call";
  const actor = name(e.actor_id);
  switch (e.action) {
    case "call_missed":
      return `Missed ${what.toLowerCase()} from ${actor}`;
    case "call_declined":
      return `${actor} declined the ${what.toLowerCase()}`;
    case "call_cancelled":
      return `${actor} cancelled the ${what.toLowerCase()}`;
    case "call_ended": {
      const who = (e.user_ids || []).map((id) => name(id)).join(", ");
      const len = call.duration !== undefined ? ` · ${duration(call.duration)}` : "";
      return `${what} ended${len}` + (group && who ? ` · ${who}` : "");
    }
  }
  return "";
}
