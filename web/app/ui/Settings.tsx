// The settings page: chat preferences (desktop notifications, typing
// notifications, send on Enter, sound, always scroll to the end), the
// profile (name, photo) and security (password, two-factor sign-in, sessions).

import { useState } from "preact/hooks";
import * as api from "../api";
import { navigate } from "../router";
import { use } from "../sig";
import * as store from "../store";
import type { User } from "../types";
import * as notify from "../notify";
import { Avatar, Toggle } from "./common";
import { Back } from "./icons";
import { lazy } from "./lazy";

const PhoneCard = lazy(() => import("../lazy/SMS").then((m) => m.PhoneCard));
const SecuritySection = lazy(() => import("../lazy/Security").then((m) => m.SecuritySection));
const NotificationsSection = lazy(() => import("../lazy/Notifications").then((m) => m.NotificationsSection));

export function SettingsPage() {
  const s = use(store.settings);
  const me = use(store.me)!;
  const [perm, setPerm] = useState(notify.canNotify() ? Notification.permission : "unsupported");
  const set = (patch: Partial<typeof s>) => store.saveSettings({ ...s, ...patch });
  return (
    <section class="pane page" aria-labelledby="settings-title">
      <header class="page-head">
        <button class="icon-btn back" aria-label="Back" onClick={() => navigate("/")}>
          <Back />
        </button>
        <h1 id="settings-title">Settings</h1>
      </header>
      <div class="page-body">
        <section class="card">
          <h2>Chat</h2>
          <Toggle
            id="set-desktop"
            label="Desktop notifications"
            hint={
              perm === "denied"
                ? "The browser blocks notifications for this site; allow them in its site settings."
                : perm === "unsupported"
                  ? "This browser has no desktop notifications."
                  : "Shown while Parley is in a hidden tab or window."
            }
            checked={s.desktop_notifications}
            onChange={async (v) => {
              set({ desktop_notifications: v });
              if (v) setPerm(await notify.askPermission());
            }}
          />
          {s.desktop_notifications && perm === "default" ? (
            <button class="btn small indent" onClick={async () => setPerm(await notify.askPermission())}>
              Allow notifications in this browser
            </button>
          ) : null}
          <Toggle id="set-typing" label="Typing notifications" hint="Show when others are typing." checked={s.typing_notifications} onChange={(v) => set({ typing_notifications: v })} />
          <Toggle
            id="set-enter"
            label="Send messages with Enter"
            hint={s.send_on_enter ? "Enter sends; Shift+Enter or Ctrl+Enter starts a new line." : "Ctrl+Enter sends; Enter starts a new line."}
            checked={s.send_on_enter}
            onChange={(v) => set({ send_on_enter: v })}
          />
          <Toggle id="set-sound" label="Sound notifications" hint="A short sound for new messages and reminders." checked={s.sound} onChange={(v) => set({ sound: v })} />
          <Toggle
            id="set-scroll"
            label="Always scroll to the end"
            hint="When a message arrives, the conversation moves to it from any point of the history."
            checked={s.always_scroll_to_end}
            onChange={(v) => set({ always_scroll_to_end: v })}
          />
          <button class="btn small indent" onClick={() => notify.sound()}>
            Play the sound
          </button>
        </section>
        <NotificationsSection />
        <Profile me={me} />
        <PhoneCard />
        <SecuritySection />
        <section class="card">
          <h2>Session</h2>
          <p class="muted">
            Parley web {api.APP_VERSION}. Signed in as {me.email}.
          </p>
          <button class="btn" onClick={() => store.logout()}>
            Sign out
          </button>
        </section>
      </div>
    </section>
  );
}

function Profile(props: { me: User }) {
  const [name, setName] = useState(props.me.name);
  const [msg, setMsg] = useState("");
  const [err, setErr] = useState("");
  const [progress, setProgress] = useState(-1);
  const save = async (body: Record<string, unknown>, ok: string) => {
    setErr("");
    setMsg("");
    try {
      const u = await api.patch<User>("/me", body);
      store.me.value = { ...props.me, ...u };
      setMsg(ok);
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  const photo = async (f: File | undefined) => {
    if (!f) return;
    if (!f.type.startsWith("image/")) return setErr("Choose an image.");
    if (f.size > store.limits.value.max_file_size) return setErr("The image is too large.");
    setProgress(0);
    try {
      const info = await api.upload(f, f.name, setProgress).promise;
      await save({ photo_file_id: info.id }, "Photo changed.");
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setProgress(-1);
    }
  };
  return (
    <section class="card">
      <h2>Profile</h2>
      <div class="profile-row">
        <Avatar id={props.me.id} name={props.me.name} photo={props.me.photo_file_id} size={72} />
        <label class="btn small">
          Change photo
          <input type="file" accept="image/*" hidden onChange={(e) => photo((e.currentTarget as HTMLInputElement).files?.[0])} />
        </label>
        {progress >= 0 ? <progress max={1} value={progress} aria-label="Uploading the photo" /> : null}
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save({ name: name.trim() }, "Name saved.");
        }}
      >
        <label class="field">
          <span>Name</span>
          <input class="input" value={name} maxLength={100} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button class="btn">Save name</button>
      </form>
      {msg ? <p class="ok-text">{msg}</p> : null}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </section>
  );
}
