// The settings page: the app's language, chat preferences (desktop
// notifications, typing notifications, send on Enter, sound, always scroll
// to the end), the profile (name, photo) and security (password,
// two-factor sign-in, sessions).

import { useState } from "preact/hooks";
import * as api from "../api";
import { navigate } from "../router";
import { use } from "../sig";
import * as store from "../store";
import type { Settings, User } from "../types";
import * as notify from "../notify";
import { Avatar, Toggle } from "./common";
import { Back } from "./icons";
import { lazy } from "./lazy";
import { t } from "../../i18n/i18n";

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
        <button class="icon-btn back" aria-label={t("app.account.settings.back")} onClick={() => navigate("/")}>
          <Back />
        </button>
        <h1 id="settings-title">{t("app.account.settings.title")}</h1>
      </header>
      <div class="page-body">
        <Language value={s.language || ""} onChange={(language) => set({ language })} />
        <section class="card">
          <h2>{t("app.account.settings.chat")}</h2>
          <Toggle
            id="set-desktop"
            label={t("app.account.settings.desktop")}
            hint={
              perm === "denied"
                ? t("app.account.settings.desktopDenied")
                : perm === "unsupported"
                  ? t("app.account.settings.desktopUnsupported")
                  : t("app.account.settings.desktopHint")
            }
            checked={s.desktop_notifications}
            onChange={async (v) => {
              set({ desktop_notifications: v });
              if (v) setPerm(await notify.askPermission());
            }}
          />
          {s.desktop_notifications && perm === "default" ? (
            <button class="btn small indent" onClick={async () => setPerm(await notify.askPermission())}>
              {t("app.account.settings.allow")}
            </button>
          ) : null}
          <Toggle
            id="set-typing"
            label={t("app.account.settings.typing")}
            hint={t("app.account.settings.typingHint")}
            checked={s.typing_notifications} onChange={(v) => set({ typing_notifications: v })} />
          <Toggle
            id="set-enter"
            label={t("app.account.settings.enter")}
            hint={s.send_on_enter ? t("app.account.settings.enterOn") : t("app.account.settings.enterOff")}
            checked={s.send_on_enter}
            onChange={(v) => set({ send_on_enter: v })}
          />
          <Toggle
            id="set-sound"
            label={t("app.account.settings.sound")}
            hint={t("app.account.settings.soundHint")}
            checked={s.sound} onChange={(v) => set({ sound: v })} />
          <Toggle
            id="set-scroll"
            label={t("app.account.settings.scroll")}
            hint={t("app.account.settings.scrollHint")}
            checked={s.always_scroll_to_end}
            onChange={(v) => set({ always_scroll_to_end: v })}
          />
          <button class="btn small indent" onClick={() => notify.sound()}>
            {t("app.account.settings.play")}
          </button>
        </section>
        <NotificationsSection />
        <Profile me={me} />
        <PhoneCard />
        <SecuritySection />
        <section class="card">
          <h2>{t("app.account.settings.session")}</h2>
          <p class="muted">{t("app.account.settings.signedInAs", { version: api.APP_VERSION, email: me.email })}</p>
          <button class="btn" onClick={() => store.logout()}>
            {t("app.account.settings.signOut")}
          </button>
        </section>
      </div>
    </section>
  );
}

/** LANGUAGES are the languages to choose from, each named in itself. */
// i18n-ignore: a language's name is written in that language, the same in every language of the app
const LANGUAGES = [["en", "English"], ["ru", "Русский"], ["es", "Español"]] as const;

/**
 * Language is the user's choice of the app's language ("" for the
 * browser's), one of their settings (PUT /me/settings); saving it reloads
 * the page in the new language, here and on their other devices (lang.ts).
 */
function Language(props: { value: Settings["language"]; onChange: (l: Settings["language"]) => void }) {
  return (
    <section class="card">
      <label class="field">
        <span>{t("app.account.settings.language")}</span>
        <select id="set-language" value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as Settings["language"])}>
          <option value="">{t("app.account.settings.languageAuto")}</option>
          {LANGUAGES.map(([code, name]) => (
            <option key={code} value={code} lang={code}>
              {name}
            </option>
          ))}
        </select>
      </label>
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
    if (!f.type.startsWith("image/")) return setErr(t("app.account.profile.notImage"));
    if (f.size > store.limits.value.max_file_size) return setErr(t("app.account.profile.tooLarge"));
    setProgress(0);
    try {
      const info = await api.upload(f, f.name, setProgress).promise;
      await save({ photo_file_id: info.id }, t("app.account.profile.photoChanged"));
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setProgress(-1);
    }
  };
  return (
    <section class="card">
      <h2>{t("app.account.profile.title")}</h2>
      <div class="profile-row">
        <Avatar id={props.me.id} name={props.me.name} photo={props.me.photo_file_id} size={72} />
        <label class="btn small">
          {t("app.account.profile.changePhoto")}
          <input type="file" accept="image/*" hidden onChange={(e) => photo((e.currentTarget as HTMLInputElement).files?.[0])} />
        </label>
        {progress >= 0 ? <progress max={1} value={progress} aria-label={t("app.account.profile.uploading")} /> : null}
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save({ name: name.trim() }, t("app.account.profile.nameSaved"));
        }}
      >
        <label class="field">
          <span>{t("app.account.profile.name")}</span>
          <input class="input" value={name} maxLength={100} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button class="btn">{t("app.account.profile.saveName")}</button>
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
