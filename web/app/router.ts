// Client-side routing over the History API. The server answers every path
// outside /api with index.html, so any of these URLs can be reloaded.
//
//   /                     the conversation list (and a welcome pane)
//   /c/{id}               a conversation; ?m={message id} jumps to a message,
//                         &snooze=1 also opens its reminder snooze window
//   /settings             the user's settings and profile
//   /admin, /admin/users, /admin/groups   administration
//   /admin/projects[/{id}[/{section}[/{user id}]]]   chat projects (live chat);
//                         /admin/projects/{id}/channels/{channel id}: a channel
//   /d/{id}               a live-chat dialog (its conversation id)
//   /inbox, /inbox/{id}   the support inbox: every dialog, filtered and sorted
//                         by the query (?status=open&tag=1,2&sort=activity...),
//                         with the dialog {id} open beside the list
//   /admin/tags           customer tags (administrators)
//   /admin/webhooks[/{id}]   outgoing webhooks; one webhook with its delivery log
//   /admin/bots           bots (API accounts with their webhooks)
//   /admin/audit          the audit log (administrators)
//   /cases, /cases/{id}   cases made from chats; ?status=open|closed|all
//   /queue, /queue/{id}   the distribution's queue of a project (supervisors)
//   /people, /people/org  My friends; the organisation's contact tree
//   /tasks, /tasks/{id}   my tasks; ?role=assigned|created&status=active|open|in_progress|closed|all

import { Sig } from "./sig";

export interface Route {
  name: "home" | "conv" | "settings" | "admin" | "dialog" | "cases" | "inbox" | "queue" | "people" | "tasks";
  convId?: number;
  /** dialog: its conversation id; cases: the open case; admin projects, queue: the project; admin webhooks: the webhook. */
  id?: number;
  /** admin projects: the section of a project; cases: the status filter. */
  section?: string;
  /** admin projects, metrics: the specialist whose dialogs are shown; channels: the channel. */
  sub?: number;
  messageId?: number;
  snooze?: boolean;
  tab?: string;
  /** inbox: the list's filters and order, as in the URL (without "?"). */
  query?: string;
}

export function parse(path: string, search: string): Route {
  const q = new URLSearchParams(search);
  let m = path.match(/^\/c\/(\d+)\/?$/);
  if (m) {
    const mid = Number(q.get("m")) || undefined;
    return { name: "conv", convId: Number(m[1]), messageId: mid, snooze: q.get("snooze") === "1" };
  }
  if (/^\/settings\/?$/.test(path)) return { name: "settings" };
  m = path.match(/^\/people(\/org)?\/?$/);
  if (m) return { name: "people", tab: m[1] ? "org" : "friends" };
  m = path.match(/^\/d\/(\d+)\/?$/);
  if (m) return { name: "dialog", id: Number(m[1]) };
  m = path.match(/^\/inbox(?:\/(\d+))?\/?$/);
  if (m) return { name: "inbox", id: m[1] ? Number(m[1]) : undefined, query: search.replace(/^\?/, "") };
  m = path.match(/^\/queue(?:\/(\d+))?\/?$/);
  if (m) return { name: "queue", id: m[1] ? Number(m[1]) : undefined };
  m = path.match(/^\/tasks(?:\/(\d+))?\/?$/);
  if (m) return { name: "tasks", id: m[1] ? Number(m[1]) : undefined, tab: q.get("role") || "assigned", section: q.get("status") || "active" };
  m = path.match(/^\/cases(?:\/(\d+))?\/?$/);
  if (m) return { name: "cases", id: m[1] ? Number(m[1]) : undefined, section: q.get("status") || "open" };
  m = path.match(/^\/admin\/projects(?:\/(\d+)(?:\/([a-z-]+)(?:\/(\d+))?)?)?\/?$/);
  if (m) return { name: "admin", tab: "projects", id: m[1] ? Number(m[1]) : undefined, section: m[2], sub: m[3] ? Number(m[3]) : undefined };
  m = path.match(/^\/admin\/webhooks(?:\/(\d+))?\/?$/);
  if (m) return { name: "admin", tab: "webhooks", id: m[1] ? Number(m[1]) : undefined };
  m = path.match(/^\/admin(?:\/(users|groups|chat|tags|bots|audit))?\/?$/);
  if (m) return { name: "admin", tab: m[1] || "chat" };
  return { name: "home" };
}

export const route = new Sig<Route>(parse(location.pathname, location.search));

export function navigate(url: string, replace = false) {
  if (url === location.pathname + location.search) {
    route.value = parse(location.pathname, location.search);
    return;
  }
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route.value = parse(location.pathname, location.search);
}

export function convURL(id: number, messageId?: number, snooze?: boolean): string {
  let u = `/c/${id}`;
  if (messageId) u += `?m=${messageId}` + (snooze ? "&snooze=1" : "");
  return u;
}

window.addEventListener("popstate", () => {
  route.value = parse(location.pathname, location.search);
});

/** link makes an <a> navigate without reloading, keeping modified clicks native. */
export function onLink(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href") || "/");
}
