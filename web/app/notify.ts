// Notifications: the unread total in the tab title and favicon, a short
// sound, desktop notifications (Notification API) while the tab is hidden,
// and the reminder toasts.

import { t } from "../i18n/i18n";
import { convURL, navigate } from "./router";
import { quiet } from "./push";
import * as store from "./store";
import type { Conversation, Message, Reminder } from "./types";
import { messagePreview } from "./util";

/** quietRules say a new message makes no sound or notification (chat.ts: muted chats, threads). */
export const quietRules = new Set<(c: Conversation, m: Message) => boolean>();

const BASE_TITLE = "Parley";

let lastCount = -1;

/** showUnread writes the total into the title and draws it on the favicon. */
export function showUnread(n: number) {
  if (n === lastCount) return;
  lastCount = n;
  document.title = n > 0 ? `(${n > 999 ? "999+" : n}) ${BASE_TITLE}` : BASE_TITLE;
  const link = document.querySelector<HTMLLinkElement>("link[rel=icon]");
  if (!link) return;
  link.href = favicon(n);
}

function favicon(n: number): string {
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d");
  if (!g) return "";
  // The speech bubble of the base icon.
  g.fillStyle = "#3457d5";
  g.beginPath();
  g.roundRect(4, 8, 52, 40, 12);
  g.fill();
  g.beginPath();
  g.moveTo(16, 44);
  g.lineTo(12, 60);
  g.lineTo(30, 46);
  g.fill();
  if (n > 0) {
    const label = n > 99 ? "99+" : String(n);
    g.fillStyle = "#e0245e";
    g.beginPath();
    g.arc(44, 20, 20, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#fff";
    g.font = `bold ${label.length > 2 ? 20 : 28}px system-ui, sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(label, 44, 22);
  }
  return c.toDataURL("image/png");
}

let audio: AudioContext | null = null;

/** sound plays two short tones; it needs no audio file. */
export function sound() {
  if (!store.settings.value.sound || quiet()) return;
  try {
    audio = audio || new AudioContext();
    const t0 = audio.currentTime;
    for (const [i, f] of [880, 1320].entries()) {
      const o = audio.createOscillator();
      const v = audio.createGain();
      o.frequency.value = f;
      v.gain.setValueAtTime(0.0001, t0 + i * 0.12);
      v.gain.exponentialRampToValueAtTime(0.15, t0 + i * 0.12 + 0.02);
      v.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.12 + 0.15);
      o.connect(v).connect(audio.destination);
      o.start(t0 + i * 0.12);
      o.stop(t0 + i * 0.12 + 0.16);
    }
  } catch {
    /* no audio output */
  }
}

export function canNotify(): boolean {
  return typeof Notification !== "undefined";
}

export async function askPermission(): Promise<NotificationPermission | "unsupported"> {
  if (!canNotify()) return "unsupported";
  if (Notification.permission === "default") return Notification.requestPermission();
  return Notification.permission;
}

function desktop(title: string, body: string, tag: string, onClick: () => void) {
  if (!canNotify() || Notification.permission !== "granted") return;
  if (!store.settings.value.desktop_notifications || quiet()) return;
  if (!document.hidden) return;
  try {
    const n = new Notification(title, { body, tag, icon: favicon(0) });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

/** incoming is called for every new message from someone else. */
export function incoming(c: Conversation, m: Message, looking: boolean) {
  // A customer's message in a dialog has its own notice (customerMessage).
  if (looking || (c.kind === "support" && m.contact_id && !m.sender_id)) return;
  // A muted chat is quiet but for mentions of you; a thread, but for those in it.
  for (const quiet of quietRules) if (quiet(c, m)) return;
  sound();
  desktop(store.senderName(m) + " · " + store.convTitle(c), messagePreview(m), "conv-" + c.id, () =>
    navigate(c.kind === "support" ? `/d/${c.id}` : convURL(c.id)),
  );
}

let customerToasts: number[] = [];

/**
 * customerMessage announces a customer's new message (seed 003): a notice
 * in the app with its text (the newest three stay on screen; a click opens
 * the dialog), the sound, and a desktop notification while the tab is hidden.
 */
export function customerMessage(name: string, m: Message, open: () => void) {
  const text = messagePreview(m);
  const live = new Set(store.toasts.value.map((x) => x.id));
  customerToasts = customerToasts.filter((id) => live.has(id));
  while (customerToasts.length >= 3) store.dismiss(customerToasts.shift()!);
  customerToasts.push(store.toast(`${name}: ${text}`, "message", undefined, 8000, open));
  sound();
  desktop(name, text, "dialog-" + m.conversation_id, open);
}

/** reminderDue shows a due reminder: a toast that stays, a sound, a desktop notification. */
export function reminderDue(r: Reminder) {
  const text = r.message ? messagePreview(r.message) : t("app.people.notify.aMessage");
  if (store.toasts.value.some((x) => x.reminder?.id === r.id && x.reminder.remind_at === r.remind_at)) return;
  store.toast(text, "reminder", r);
  sound();
  desktop(t("app.people.notify.reminder"), text, "reminder-" + r.id, () => openReminder(r));
}

/** openReminder goes to the reminded message and opens its snooze window. */
export function openReminder(r: Reminder) {
  for (const x of store.toasts.value) if (x.reminder?.message_id === r.message_id) store.dismiss(x.id);
  navigate(convURL(r.conversation_id, r.message_id, true));
}

/** taskNotice announces a task assigned to the user or falling due: a toast that opens it, the sound, a desktop notification. */
export function taskNotice(title: string, text: string, tag: string, open: () => void) {
  store.toast(`${title}: ${text}`, "message", undefined, 10000, open);
  sound();
  desktop(title, text, tag, open);
}
