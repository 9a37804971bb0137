// Settings' Notifications section: pushes to this browser when Parley is
// closed, the e-mail digest of unread messages, do-not-disturb hours and
// a quick pause (docs/webapp.md, "Notifications").

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import * as push from "../push";
import type { NotifySettings, PushState } from "../push";
import { use } from "../sig";
import { Toggle } from "../ui/common";
import { date, t } from "../../i18n/i18n";

/** DAYS are the week's days (0 is Sunday), Monday first. */
const DAYS = [1, 2, 3, 4, 5, 6, 0] as const;

/** dayName is a day's short name in the app's language ("Mon"); 5 January 2025 was a Sunday. */
const dayName = (d: number) => date(new Date(2025, 0, 5 + d), { weekday: "short" });

function emailLabel(m: number): string {
  if (m === 0) return t("app.account.notify.never");
  if (m < 60) return t("app.account.notify.afterMinutes", { n: m });
  if (m < 1440) return t("app.account.notify.afterHours", { n: m / 60 });
  return t("app.account.notify.afterDay");
}

function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** when is a moment's hour and minute, with the weekday if it is not today. */
function when(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return date(d, sameDay ? { hour: "2-digit", minute: "2-digit" } : { weekday: "short", hour: "2-digit", minute: "2-digit" });
}

export function NotificationsSection() {
  const s = use(push.notifySettings);
  const [state, setState] = useState<PushState | "busy">("off");
  const [err, setErr] = useState("");
  const [msg, setMsg] = useState("");
  useEffect(() => {
    push.pushState().then(setState);
    push.loadSettings().catch((e) => setErr((e as Error).message));
  }, []);

  const save = async (patch: Partial<NotifySettings>, ok = t("app.account.notify.saved")) => {
    if (!s) return;
    setErr("");
    setMsg("");
    const next = { ...patch };
    // The hours are the user's where they are now.
    if (patch.dnd_enabled && (!s.time_zone || s.time_zone === "UTC")) next.time_zone = localZone();
    try {
      await push.savePatch(next);
      setMsg(ok);
    } catch (e) {
      setErr((e as api.ApiError).message);
    }
  };

  const togglePush = async (on: boolean) => {
    setErr("");
    setMsg("");
    setState("busy");
    try {
      setState(on ? await push.enablePush() : await push.disablePush());
    } catch (e) {
      setErr(t("app.account.notify.subscribeFailed", { error: (e as Error).message }));
      setState(await push.pushState());
    }
  };

  const paused = s && s.paused_until && new Date(s.paused_until).getTime() > Date.now();
  const pauseUntilTomorrow = () => {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    const [h, m] = (s?.dnd_to || "08:00").split(":").map(Number);
    d.setHours(h, m, 0, 0);
    return d;
  };

  return (
    <section class="card" aria-labelledby="notifications-title" id="notifications">
      <h2 id="notifications-title">{t("app.account.notify.title")}</h2>
      <Toggle
        id="set-push"
        label={t("app.account.notify.push")}
        hint={
          state === "unsupported"
            ? t("app.account.notify.pushUnsupported")
            : state === "denied"
              ? t("app.account.notify.pushDenied")
              : t("app.account.notify.pushHint")
        }
        checked={state === "on"}
        onChange={(v) => (state === "unsupported" || state === "denied" || state === "busy" ? null : togglePush(v))}
      />
      {state === "on" ? (
        <button
          class="btn small indent"
          onClick={async () => {
            setErr("");
            try {
              await api.post("/push/test");
              setMsg(t("app.account.notify.testSent"));
            } catch (e) {
              setErr((e as Error).message);
            }
          }}
        >
          {t("app.account.notify.test")}
        </button>
      ) : null}
      {s ? (
        <>
          <label class="field">
            <span>{t("app.account.notify.email")}</span>
            <select
              id="set-email"
              value={s.email_available ? String(s.email_after_minutes) : "0"}
              disabled={!s.email_available}
              onChange={(e) => save({ email_after_minutes: Number((e.currentTarget as HTMLSelectElement).value) })}
            >
              {(s.email_choices || [0, 15, 60, 180, 480, 1440]).map((m) => (
                <option value={String(m)}>{emailLabel(m)}</option>
              ))}
            </select>
            <small class="muted">
              {s.email_available ? t("app.account.notify.emailHint") : t("app.account.notify.emailUnavailable")}
            </small>
          </label>

          <h3 class="sub-title">{t("app.account.notify.dnd")}</h3>
          <p class="muted" id="dnd-status" role="status">
            {paused
              ? t("app.account.notify.pausedUntil", { when: when(s.paused_until) })
              : push.inHours(s)
                ? t("app.account.notify.inHours")
                : s.dnd_enabled
                  ? t("app.account.notify.dndFromTo", { from: s.dnd_from, to: s.dnd_to, zone: s.time_zone })
                  : t("app.account.notify.on")}
          </p>
          <div class="btn-row">
            {paused ? (
              <button class="btn small" onClick={() => save({ paused_until: "" }, t("app.account.notify.resumed"))}>
                {t("app.account.notify.resume")}
              </button>
            ) : (
              <>
                <button class="btn small" onClick={() => save({ paused_until: new Date(Date.now() + 3600e3).toISOString() }, t("app.account.notify.pausedHour"))}>
                  {t("app.account.notify.pauseHour")}
                </button>
                <button class="btn small" onClick={() => save({ paused_until: pauseUntilTomorrow().toISOString() }, t("app.account.notify.pausedTomorrow"))}>
                  {t("app.account.notify.pauseTomorrow")}
                </button>
              </>
            )}
          </div>
          <Toggle
            id="set-dnd"
            label={t("app.account.notify.dndHours")}
            hint={t("app.account.notify.dndHint")}
            checked={s.dnd_enabled}
            onChange={(v) => save({ dnd_enabled: v, dnd_days: v && s.dnd_days.length === 0 ? [1, 2, 3, 4, 5] : s.dnd_days })}
          />
          {s.dnd_enabled ? (
            <div class="indent dnd">
              <div class="dnd-hours">
                <label class="field">
                  <span>{t("app.account.notify.from")}</span>
                  <input id="dnd-from" class="input" type="time" value={s.dnd_from} onChange={(e) => save({ dnd_from: (e.currentTarget as HTMLInputElement).value })} />
                </label>
                <label class="field">
                  <span>{t("app.account.notify.to")}</span>
                  <input id="dnd-to" class="input" type="time" value={s.dnd_to} onChange={(e) => save({ dnd_to: (e.currentTarget as HTMLInputElement).value })} />
                </label>
              </div>
              <fieldset class="dnd-days">
                <legend>{t("app.account.notify.onDays")}</legend>
                {DAYS.map((d) => (
                  <label class="day">
                    <input
                      type="checkbox"
                      checked={s.dnd_days.includes(d)}
                      onChange={(e) => {
                        const on = (e.currentTarget as HTMLInputElement).checked;
                        const days = push.notifySettings.value?.dnd_days ?? s.dnd_days;
                        save({ dnd_days: on ? [...days.filter((x) => x !== d), d] : days.filter((x) => x !== d) });
                      }}
                    />
                    {dayName(d)}
                  </label>
                ))}
              </fieldset>
              <p class="muted">
                {t("app.account.notify.zone", { zone: s.time_zone })}
                {s.time_zone !== localZone() ? (
                  <>
                    {" "}
                    <button class="link" onClick={() => save({ time_zone: localZone() })}>
                      {t("app.account.notify.useZone", { zone: localZone() })}
                    </button>
                  </>
                ) : null}
              </p>
              <Toggle
                id="set-breakthrough"
                label={t("app.account.notify.breakthrough")}
                hint={t("app.account.notify.breakthroughHint")}
                checked={s.calls_break_through}
                onChange={(v) => save({ calls_break_through: v })}
              />
            </div>
          ) : null}
        </>
      ) : null}
      {msg ? (
        <p class="ok-text" role="status">
          {msg}
        </p>
      ) : null}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </section>
  );
}
