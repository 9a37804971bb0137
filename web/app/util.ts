// Formatting helpers: times in the user's zone, sizes, previews, links.

import type { Message } from "./types";
import { plain } from "./markup";
import { convs, ext, people, personName } from "./store";
import { callLine } from "./callText";
import { date, locale, num, t, time as hm } from "../i18n/i18n";

/** chars counts Unicode code points, as the server's message limit does. */
export function chars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

// Dates and times are written in the app's language (i18n), not the browser's.
const DAY: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short" };
const DAY_YEAR: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric" };
const FULL: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" };

/** time is a moment's hour and minute. */
export const time = (iso: string) => hm(iso);
/** fullTime is a moment's date and time. */
export const fullTime = (iso: string | Date) => date(iso, FULL);

export function sameDay(a: Date, b: Date) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function dayLabel(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (sameDay(d, now)) return t("app.chat.day.today");
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) return t("app.chat.day.yesterday");
  return date(d, d.getFullYear() === now.getFullYear() ? DAY : DAY_YEAR);
}

/** shortWhen is the time in the conversation list: today's time, else the day. */
export function shortWhen(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (sameDay(d, new Date())) return hm(d);
  return dayLabel(iso);
}

/** size writes a number of bytes (1.5 MB) with the language's units and decimal sign. */
export function size(n: number): string {
  const f = (x: number, d: number) => num(x, locale(), { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false });
  if (n < 1024) return t("app.chat.size.b", { n: f(n, 0) });
  if (n < 1024 * 1024) return t("app.chat.size.kb", { n: f(n / 1024, n < 10240 ? 1 : 0) });
  if (n < 1024 * 1024 * 1024) return t("app.chat.size.mb", { n: f(n / 1024 / 1024, 1) });
  return t("app.chat.size.gb", { n: f(n / 1024 / 1024 / 1024, 1) });
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
      return e.title ? t("app.chat.event.createdTitled", { actor, title: e.title }) : t("app.chat.event.created", { actor });
    case "allowed":
      return t("app.chat.event.allowed", { actor });
    case "joined":
      return t("app.chat.event.added", { actor, users });
    case "removed":
      return t("app.chat.event.removed", { actor, users });
    case "left":
      return t("app.chat.event.left", { actor });
    case "renamed":
      return t("app.chat.event.renamed", { actor, title: e.title || "" });
    case "reassigned":
      return t("app.chat.event.assistanceHandedOver", { users });
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
      return t("app.chat.dialogEvent.connected", { who: users || actor });
    case "disconnected":
    case "left":
      return t("app.chat.dialogEvent.disconnected", { who: users || actor });
    case "transferred":
      if (byUser) return users ? t("app.chat.dialogEvent.transferredTo", { actor, users }) : t("app.chat.dialogEvent.transferredToQueue", { actor });
      return users ? t("app.chat.dialogEvent.wasTransferredTo", { users }) : t("app.chat.dialogEvent.wasTransferredToQueue");
    case "transfer_note":
      return t("app.chat.dialogEvent.transferNote", { actor, note: e.title || "" });
    case "closed":
      return byUser ? t("app.chat.dialogEvent.closed", { actor }) : t("app.chat.dialogEvent.wasClosed");
    case "opened":
      return byUser ? t("app.chat.dialogEvent.opened", { actor }) : t("app.chat.dialogEvent.wasOpened");
    case "reopened":
      return byUser ? t("app.chat.dialogEvent.reopened", { actor }) : t("app.chat.dialogEvent.wasReopened");
    case "reassigned": {
      const [toId, fromId] = e.user_ids || [];
      const p = { actor, to: toId ? personName(toId) : "", from: fromId ? personName(fromId) : "" };
      if (byUser)
        return toId
          ? fromId
            ? t("app.chat.dialogEvent.reassignedToFrom", p)
            : t("app.chat.dialogEvent.reassignedTo", p)
          : fromId
            ? t("app.chat.dialogEvent.reassignedFrom", p)
            : t("app.chat.dialogEvent.reassigned", p);
      return toId
        ? fromId
          ? t("app.chat.dialogEvent.someoneReassignedToFrom", p)
          : t("app.chat.dialogEvent.someoneReassignedTo", p)
        : fromId
          ? t("app.chat.dialogEvent.someoneReassignedFrom", p)
          : t("app.chat.dialogEvent.someoneReassigned");
    }
    case "blocked":
      return byUser ? t("app.chat.dialogEvent.blocked", { actor }) : t("app.chat.dialogEvent.wasBlocked");
    case "unblocked":
      return byUser ? t("app.chat.dialogEvent.unblocked", { actor }) : t("app.chat.dialogEvent.wasUnblocked");
    case "unpinned":
      return byUser ? t("app.chat.dialogEvent.unpinned", { actor }) : t("app.chat.dialogEvent.wasUnpinned");
    case "case_created": {
      const no = e.title ? "#" + e.title.replace(/^#/, "") : "";
      if (byUser) return no ? t("app.chat.dialogEvent.caseCreatedNo", { actor, no }) : t("app.chat.dialogEvent.caseCreated", { actor });
      return no ? t("app.chat.dialogEvent.caseWasCreatedNo", { no }) : t("app.chat.dialogEvent.caseWasCreated");
    }
    case "offline":
      return e.title ? t("app.chat.dialogEvent.offlineText", { text: e.title }) : t("app.chat.dialogEvent.offline");
    case "created":
      return t("app.chat.dialogEvent.visitorStarted");
    // The distribution's lines (staff only).
    case "routed": {
      const summary = e.routing?.summary || "";
      const to = e.user_ids?.[0] || e.routing?.chosen_id;
      if (!to) return summary ? t("app.chat.dialogEvent.routedNobodyWhy", { summary }) : t("app.chat.dialogEvent.routedNobody");
      const name = people.get(to)?.name || personName(to);
      return summary ? t("app.chat.dialogEvent.routedWhy", { name, summary }) : t("app.chat.dialogEvent.routed", { name });
    }
    case "over_capacity": {
      const who = e.user_ids?.[0];
      const by = byUser && e.actor_id !== who;
      const p = { name: who ? personName(who) : "", detail: e.title || "", actor };
      if (who) {
        if (e.title) return by ? t("app.chat.dialogEvent.overCapacityDetailBy", p) : t("app.chat.dialogEvent.overCapacityDetail", p);
        return by ? t("app.chat.dialogEvent.overCapacityBy", p) : t("app.chat.dialogEvent.overCapacity", p);
      }
      if (e.title) return by ? t("app.chat.dialogEvent.managerOverCapacityDetailBy", p) : t("app.chat.dialogEvent.managerOverCapacityDetail", p);
      return by ? t("app.chat.dialogEvent.managerOverCapacityBy", p) : t("app.chat.dialogEvent.managerOverCapacity");
    }
    case "reply_warning":
      return t("app.chat.dialogEvent.replyWarning");
    case "reply_overdue":
      return users ? t("app.chat.dialogEvent.replyOverdueWho", { users }) : t("app.chat.dialogEvent.replyOverdue");
  }
  return e.action;
}

export function messagePreview(m: Message): string {
  if (m.deleted_at) return t("app.chat.preview.deleted");
  if (m.kind === "event") return eventText(m);
  const s = plain(m.text).replace(/\s+/g, " ").trim();
  if (s) return s;
  const f = m.files?.[0];
  if (!f) return "";
  if (f.content_type.startsWith("audio/")) return t("app.chat.preview.voice");
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
  let timer = 0;
  const d = (...a: A) => {
    clearTimeout(timer);
    timer = window.setTimeout(() => fn(...a), ms);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

export const isPhone = () => window.matchMedia("(max-width: 760px)").matches;

/** sentence shows a server's message as a sentence: a capital first letter and a full stop. */
export function sentence(msg: string): string {
  const s = msg.trim();
  if (!s) return s;
  return s[0].toUpperCase() + s.slice(1) + (/[.!?…]$/.test(s) ? "" : ".");
}
