// Notifications that reach the user when Parley is closed: the service
// worker (public/sw.js, which also makes the app installable), this
// browser's Web Push subscription, and the user's notification settings
// (e-mail digest, do-not-disturb hours, pause), which also quiet the
// in-app sounds.

import { t } from "../i18n/i18n";
import * as api from "./api";
import { navigate } from "./router";
import { Sig } from "./sig";
import * as store from "./store";

export interface NotifySettings {
  email_after_minutes: number;
  dnd_enabled: boolean;
  dnd_from: string;
  dnd_to: string;
  dnd_days: number[];
  time_zone: string;
  paused_until: string;
  calls_break_through: boolean;
  email_available?: boolean;
  email_choices?: number[];
  subscriptions?: number;
}

export const notifySettings = new Sig<NotifySettings | null>(null);

const SUB_KEY = "parley.push.subscription";

/** start registers the service worker and follows the signed-in user. */
export function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      /* an old browser or a private window: no worker, no push */
    });
    // A click on a notification focuses this tab and opens its page.
    navigator.serviceWorker.addEventListener("message", (e: MessageEvent) => {
      const d = e.data as { type?: string; url?: string };
      if (d && d.type === "parley.open" && typeof d.url === "string" && d.url.startsWith("/")) navigate(d.url);
    });
  }
  let last = 0;
  const follow = () => {
    const u = store.me.value;
    if (!u || u.id === last) return;
    last = u.id;
    loadSettings().catch(() => {});
    resync().catch(() => {});
  };
  store.me.subscribe(follow);
  follow();
}

export async function loadSettings(): Promise<NotifySettings> {
  const s = await api.get<NotifySettings>("/me/notifications");
  notifySettings.value = s;
  return s;
}

export async function saveSettings(s: NotifySettings): Promise<NotifySettings> {
  // What the server shows but does not take.
  const { email_available, email_choices: _c, subscriptions: _n, ...body } = s;
  // Without a mailer the choice is not the user's to make: keep the
  // server's default, so that e-mail starts once one is configured.
  if (!email_available) body.email_after_minutes = -1;
  // Not paused: null (the server reads "" as no time at all).
  const out = await api.put<NotifySettings>("/me/notifications", { ...body, paused_until: body.paused_until || null });
  notifySettings.value = out;
  return out;
}

let saving: Promise<unknown> = Promise.resolve();

/**
 * savePatch changes some settings: saves run one after another, each on
 * what the one before stored, so quick changes never undo each other.
 */
export function savePatch(patch: Partial<NotifySettings>): Promise<NotifySettings> {
  const run = saving.catch(() => {}).then(() => {
    const cur = notifySettings.value;
    if (!cur) throw new Error(t("app.people.push.notLoaded"));
    return saveSettings({ ...cur, ...patch });
  });
  saving = run;
  return run;
}

/**
 * settingsChanged hears that some device saved the settings. The event
 * may be older than this device's own last save, so the settings are read
 * again, after the saves under way.
 */
export function settingsChanged(_s: NotifySettings) {
  saving = saving.catch(() => {}).then(() => loadSettings().catch(() => {}));
}

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && typeof Notification !== "undefined";
}

export type PushState = "unsupported" | "denied" | "on" | "off";

export async function pushState(): Promise<PushState> {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  return sub && localStorage.getItem(SUB_KEY) ? "on" : "off";
}

function keyBytes(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function register(sub: PushSubscription): Promise<void> {
  const out = await api.post<{ id: number }>("/push/subscriptions", { ...sub.toJSON(), user_agent: navigator.userAgent });
  localStorage.setItem(SUB_KEY, String(out.id));
}

/**
 * enablePush asks for permission (from the settings toggle, never on
 * load), subscribes this browser with the server's VAPID key and tells
 * the server.
 */
export async function enablePush(): Promise<PushState> {
  if (!pushSupported()) return "unsupported";
  const perm = await Notification.requestPermission();
  if (perm !== "granted") return perm === "denied" ? "denied" : "off";
  const reg = await navigator.serviceWorker.ready;
  const { public_key } = await api.get<{ public_key: string }>("/push/vapid-key");
  let sub = await reg.pushManager.getSubscription();
  if (sub) {
    // Made with another key (the server's changed): subscribe again.
    const key = sub.options.applicationServerKey;
    const same = key && btoa(String.fromCharCode(...new Uint8Array(key))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") === public_key;
    if (!same) {
      await sub.unsubscribe();
      sub = null;
    }
  }
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  await register(sub);
  return "on";
}

export async function disablePush(): Promise<PushState> {
  const id = localStorage.getItem(SUB_KEY);
  localStorage.removeItem(SUB_KEY);
  if (id) await api.del(`/push/subscriptions/${id}`).catch(() => {});
  const reg = pushSupported() ? await navigator.serviceWorker.getRegistration("/") : undefined;
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  if (sub) await sub.unsubscribe();
  return pushState();
}

/** resync tells the server this browser's subscription again (its endpoint may have changed, or another user signed in here). */
async function resync() {
  if (!pushSupported() || Notification.permission !== "granted" || !localStorage.getItem(SUB_KEY)) return;
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  if (sub) await register(sub);
}

/** inHours tells whether now falls in the do-not-disturb hours, in the user's time zone. */
export function inHours(s: NotifySettings, now = new Date()): boolean {
  if (!s.dnd_enabled) return false;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: s.time_zone || "UTC", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  } catch {
    return false;
  }
  const get = (type: string) => parts.find((p) => p.type === type)?.value || "";
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
  const m = Number(get("hour")) * 60 + Number(get("minute"));
  const mins = (hm: string) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5));
  const from = mins(s.dnd_from);
  const to = mins(s.dnd_to);
  const on = (d: number) => s.dnd_days.includes((d + 7) % 7);
  if (from === to) return on(day);
  if (from < to) return on(day) && m >= from && m < to;
  if (m >= from) return on(day);
  if (m < to) return on(day - 1);
  return false;
}

/** quiet tells whether notifications, sounds included, are held back now. */
export function quiet(): boolean {
  const s = notifySettings.value;
  if (!s) return false;
  if (s.paused_until && new Date(s.paused_until).getTime() > Date.now()) return true;
  return inHours(s);
}
