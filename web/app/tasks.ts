// Tasks (seed 001): a task is a case of kind "task" with an assignee, a due
// time and a status. This module is always loaded, small: it follows the
// task events (a toast and a desktop notification when a task is assigned
// to you or falls due), counts your open tasks for the sidebar, and keeps
// where a conversation's messages were moved to ("Move to task"), so that a
// moved message shows its link. The pages and windows are in lazy/Tasks.tsx.

import * as api from "./api";
import * as notify from "./notify";
import { navigate } from "./router";
import { Version } from "./sig";
import * as store from "./store";
import type { CaseComment } from "./types";
import "./tasks.css";

export type TaskStatus = "open" | "in_progress" | "closed";

export interface Task {
  id: number;
  kind: "task" | "case";
  project_id: number;
  conversation_id: number;
  contact_id: number;
  status: TaskStatus;
  title: string;
  description: string;
  created_by: number;
  created_at: string;
  closed_at?: string;
  closed_by?: number;
  assignee_id: number;
  due_at?: string;
  due_fired_at?: string;
  parent_id?: number;
  updated_at?: string;
}

export interface TaskComment extends CaseComment {
  message_id?: number;
  conversation_id?: number;
}

export interface TaskView extends Task {
  comments: TaskComment[];
}

export interface MessageLink {
  id: number;
  message_id: number;
  conversation_id: number;
  target: "task" | "case" | "contact";
  target_id: number;
  user_id: number;
  created_at: string;
}

export const STATUS_LABEL: Record<TaskStatus, string> = { open: "Open", in_progress: "In progress", closed: "Done" };

export function overdue(t: Task, now = Date.now()): boolean {
  return !!t.due_at && t.status !== "closed" && new Date(t.due_at).getTime() < now;
}

/** Bumped on every task event: open lists and details reload. */
export const tasksV = new Version();
/** The last task event's task, for views that patch in place. */
export let lastTask: Task | null = null;

/** message id → where it was moved to. */
export const links = new Map<number, MessageLink[]>();
export const linksV = new Version();
const linksLoaded = new Set<number>();

/** loadLinks fetches a conversation's moved messages once (events keep them current). */
export function loadLinks(convId: number) {
  if (!convId || linksLoaded.has(convId)) return;
  linksLoaded.add(convId);
  api.get<{ links: MessageLink[] }>(`/conversations/${convId}/links`).then(
    (r) => {
      for (const l of r.links || []) addLink(l);
      linksV.bump();
    },
    () => linksLoaded.delete(convId),
  );
}

function addLink(l: MessageLink) {
  const list = links.get(l.message_id) || [];
  if (list.some((x) => x.id === l.id)) return;
  links.set(l.message_id, [...list, l]);
}

export function linkLabel(l: MessageLink): string {
  return l.target === "task" ? `Task #${l.target_id}` : l.target === "case" ? `Case #${l.target_id}` : "Customer card";
}

export function openLink(l: MessageLink) {
  if (l.target === "task") navigate(`/tasks/${l.target_id}`);
  else if (l.target === "case") navigate(`/cases/${l.target_id}`);
  else store.toast("The message is in the customer's card, under History.");
}

function who(id: number): string {
  return store.personName(id) || "Someone";
}

store.eventHooks.add((f) => {
  const d = f.data;
  switch (f.type) {
    case "task.updated":
      lastTask = d as Task;
      tasksV.bump();
      break;
    case "task.assigned": {
      const t = d.task as Task;
      lastTask = t;
      tasksV.bump();
      notify.taskNotice(`${who(d.by)} assigned you a task`, t.title, "task-" + t.id, () => navigate(`/tasks/${t.id}`));
      break;
    }
    case "task.due": {
      const t = d as Task;
      lastTask = t;
      tasksV.bump();
      notify.taskNotice(t.assignee_id === store.me.value?.id ? "Your task is due" : "A task you created is due", t.title, "task-due-" + t.id, () =>
        navigate(`/tasks/${t.id}`),
      );
      break;
    }
    case "message.linked":
      addLink(d as MessageLink);
      linksV.bump();
      break;
  }
});

// A reload (sign-in, resync) may have missed links: the conversations
// already asked for are asked again.
store.loadHooks.push(() => {
  const again = [...linksLoaded];
  linksLoaded.clear();
  for (const id of again) loadLinks(id);
});
