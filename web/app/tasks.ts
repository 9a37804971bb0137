// Tasks (seed 001): a task is a case of kind "task" with an assignee, a due
// time and a status. This module is always loaded, small: it follows the
// task events (a toast and a desktop notification when a task is assigned
// to you or falls due), counts your open tasks for the sidebar, and keeps
// where a conversation's messages were moved to ("Move to task"), so that a
// moved message shows its link. The pages and windows are in lazy/Tasks.tsx.

import { t } from "../i18n/i18n";
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

const STATUS_KEY = { open: "app.tasks.status.open", in_progress: "app.tasks.status.inProgress", closed: "app.tasks.status.done" } as const;

/** statusLabel is a task status's name in the app's language. */
export const statusLabel = (s: TaskStatus): string => t(STATUS_KEY[s]);

export function overdue(task: Task, now = Date.now()): boolean {
  return !!task.due_at && task.status !== "closed" && new Date(task.due_at).getTime() < now;
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
  const no = "#" + l.target_id;
  return l.target === "task" ? t("app.tasks.link.task", { no }) : l.target === "case" ? t("app.tasks.link.case", { no }) : t("app.tasks.link.contact");
}

/** movedTitle says where a moved message went ("Moved to task #5"), one sentence in every language. */
export function movedTitle(l: MessageLink): string {
  const no = "#" + l.target_id;
  return l.target === "task" ? t("app.tasks.link.movedTask", { no }) : l.target === "case" ? t("app.tasks.link.movedCase", { no }) : t("app.tasks.link.movedContact");
}

export function openLink(l: MessageLink) {
  if (l.target === "task") navigate(`/tasks/${l.target_id}`);
  else if (l.target === "case") navigate(`/cases/${l.target_id}`);
  else store.toast(t("app.tasks.link.inCard"));
}

function who(id: number): string {
  return store.personName(id) || t("app.tasks.notice.someone");
}

store.eventHooks.add((f) => {
  const d = f.data;
  switch (f.type) {
    case "task.updated":
      lastTask = d as Task;
      tasksV.bump();
      break;
    case "task.assigned": {
      const task = d.task as Task;
      lastTask = task;
      tasksV.bump();
      notify.taskNotice(t("app.tasks.notice.assigned", { name: who(d.by) }), task.title, "task-" + task.id, () => navigate(`/tasks/${task.id}`));
      break;
    }
    case "task.due": {
      const task = d as Task;
      lastTask = task;
      tasksV.bump();
      notify.taskNotice(
        task.assignee_id === store.me.value?.id ? t("app.tasks.notice.dueMine") : t("app.tasks.notice.dueCreated"),
        task.title,
        "task-due-" + task.id,
        () => navigate(`/tasks/${task.id}`),
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
