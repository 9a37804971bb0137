// Formatting helpers: times in the user's zone, sizes, previews, links.

import type { Message } from "./types";
import { plain } from "./markup";
import { convs, ext, people, personName } from "./store";
import { callLine } from "./callText";

/** chars counts Unicode code points, as the server's message limit does. */
export function chars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const time = (iso: string) => timeFmt.format(new Date(iso));
export const fullTime = (iso: string | Date) => fullFmt.format(typeof iso === "string" ? new Date(iso) : iso);

export function sameDay(a: Date, b: Date) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function dayLabel(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (sameDay(d, now)) return "Today";
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) return "Yesterday";
  return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : dayYearFmt.format(d);
}

/** shortWhen is the time in the conversation list: today's time, else the day. */
export function shortWhen(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (sameDay(d, new Date())) return timeFmt.format(d);
  return dayLabel(iso);
}

export function size(n: number): string {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " KB";
  if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + " MB";
  return (n / 1024 / 1024 / 1024).toFixed(1) + " GB";
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  const a = [...parts[0]][0] || "";
  const b = parts.length > 1 ? [...parts[parts.length - 1]][0] || "" : "";
  return (a + b).toUpperCase();
}

/** hue gives a user a stable avatar colour. */
export function hue(id: number): number {
  return (id * 137) % 360;
}

export function eventText(m: Message): string {
  const e = m.event;
  if (!e) return "";
  const actor = e.actor_id ? personName(e.actor_id) : e.name || personName(e.actor_id);
  const users = (e.user_ids || []).map(personName).join(", ");
  if (ext.isDialog(m.conversation_id)) return dialogEventText(m, actor, users || e.name || "");
  if (e.action.startsWith("call_")) return callLine(m, personName, convs.get(m.conversation_id)?.kind === "group");
  switch (e.action) {
    case "created":
      return `${actor} created the chat` + (e.title ? ` “${e.title}”` : "");
    case "allowed":
      return `${actor} allowed the conversation`;
    case "joined":
      return `${actor} added ${users}`;
    case "removed":
      return `${actor} removed ${users}`;
    case "left":
      return `${actor} left the chat`;
    case "renamed":
      return `${actor} renamed the chat to “${e.title || ""}”`;
    case "reassigned":
      return `The Assistance line was handed over to ${users}`;
  }
  return e.action;
}

/**
 * The system lines of a live-chat dialog (connected, disconnected,
 * transferred, closed, case_created, offline), and the distribution's
 * (routed, over_capacity, reply_warning, reply_overdue).
 */
function dialogEventText(m: Message, actor: string, users: string): string {
  const e = m.event!;
  const byUser = !!e.actor_id;
  switch (e.action) {
    case "connected":
    case "joined":
      return `${users || actor} connected to the dialog`;
    case "disconnected":
    case "left":
      return `${users || actor} disconnected`;
    case "transferred":
      return (byUser ? `${actor} transferred the dialog to ` : "The dialog was transferred to ") + (users ? users + " (level 2)" : "the level-2 queue");
    case "transfer_note":
      return `Hand-over note from ${actor}: ${e.title || ""}`;
    case "closed":
      return byUser ? `${actor} closed the dialog` : "The dialog was closed";
    case "opened":
      return byUser ? `${actor} opened the dialog` : "The dialog was opened";
    case "reopened":
      return byUser ? `${actor} reopened the dialog` : "The dialog was reopened";
    case "reassigned": {
      const [to, from] = e.user_ids || [];
      const who = (byUser ? actor : "Someone") + " reassigned the dialog";
      return who + (to ? ` to ${personName(to)}` : "") + (from ? ` (was ${personName(from)})` : "");
    }
    case "blocked":
      return byUser ? `${actor} blocked the customer` : "The customer was blocked";
    case "unblocked":
      return byUser ? `${actor} unblocked the customer` : "The customer was unblocked";
    case "unpinned":
      return byUser ? `${actor} unpinned the customer from the dialog` : "The customer was unpinned from the dialog";
    case "case_created": {
      const no = e.title ? ` #${e.title.replace(/^#/, "")}` : "";
      return byUser ? `${actor} converted the dialog into case${no}` : `Case${no} was created`;
    }
    case "offline":
      return "Nobody could answer: the message became a case" + (e.title ? ` — ${e.title}` : "");
    case "created":
      return "The visitor started the dialog";
    // The distribution's lines (staff only).
    case "routed": {
      const summary = e.routing?.summary || "";
      const to = e.user_ids?.[0] || e.routing?.chosen_id;
      if (!to) return "The distribution found nobody" + (summary ? `: ${summary}` : "");
      const name = people.get(to)?.name || personName(to);
      return `Assigned to ${name} by the distribution` + (summary ? ` — ${summary}` : "");
    }
    case "over_capacity": {
      const who = e.user_ids?.[0];
      const name = who ? personName(who) : "The manager";
      return `${name} went past capacity` + (e.title ? ` (${e.title})` : "") + (byUser && e.actor_id !== who ? ` — by ${actor}` : "");
    }
    case "reply_warning":
      return "The customer has waited past the warning time";
    case "reply_overdue":
      return "The reply time limit passed" + (users ? ` — ${users} had it` : "");
  }
  return e.action;
}

export function messagePreview(m: Message): string {
  if (m.deleted_at) return "Message deleted";
  if (m.kind === "event") return eventText(m);
  const t = plain(m.text).replace(/\s+/g, " ").trim();
  if (t) return t;
  const f = m.files?.[0];
  if (!f) return "";
  if (f.content_type.startsWith("audio/")) return "🎤 Voice message";
  if (f.content_type.startsWith("image/")) return "🖼 " + f.name;
  return "📎 " + f.name;
}

export { links, type Piece } from "./markup";

/** copyText writes text to the clipboard, with a fallback for plain-http pages. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  document.execCommand("copy");
  ta.remove();
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number) {
  let t = 0;
  const d = (...a: A) => {
    clearTimeout(t);
    t = window.setTimeout(() => fn(...a), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

export const isPhone = () => window.matchMedia("(max-width: 760px)").matches;

/** sentence shows a server's message as a sentence: a capital first letter and a full stop. */
export function sentence(msg: string): string {
  const t = msg.trim();
  if (!t) return t;
  return t[0].toUpperCase() + t.slice(1) + (/[.!?…]$/.test(t) ? "" : ".");
}
