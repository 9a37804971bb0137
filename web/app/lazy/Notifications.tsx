// Settings' Notifications section: pushes to this browser when Parley is
// closed, the e-mail digest of unread messages, do-not-disturb hours and
// a quick pause (docs/webapp.md, "Notifications").

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import * as push from "../push";
import type { NotifySettings, PushState } from "../push";
import { use } from "../sig";
import { Toggle } from "../ui/common";

const DAYS = [
  [1, "Mon"],
  [2, "Tue"],
  [3, "Wed"],
  [4, "Thu"],
  [5, "Fri"],
  [6, "Sat"],
  [0, "Sun"],
] as const;

function emailLabel(m: number): string {
  if (m === 0) return "Never";
  if (m < 60) return `After ${m} minutes`;
  if (m === 60) return "After 1 hour";
  if (m < 1440) return `After ${m / 60} hours`;
  return "After 1 day";
}

function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function time(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return d.toLocaleString(undefined, sameDay ? { hour: "2-digit", minute: "2-digit" } : { weekday: "short", hour: "2-digit", minute: "2-digit" });
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

  const save = async (patch: Partial<NotifySettings>, ok = "Saved.") => {
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
      setErr(`This browser could not subscribe to notifications: ${(e as Error).message}`);
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
      <h2 id="notifications-title">Notifications</h2>
      <Toggle
        id="set-push"
        label="Notify me when Parley is closed"
        hint={
          state === "unsupported"
            ? "This browser cannot receive notifications while Parley is closed."
            : state === "denied"
              ? "The browser blocks notifications for this site; allow them in its site settings."
              : "New messages, reminders and calls reach this device when no Parley tab is open."
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
              setMsg("A test notification is on its way.");
            } catch (e) {
              setErr((e as Error).message);
            }
          }}
        >
          Send a test notification
        </button>
      ) : null}
      {s ? (
        <>
          <label class="field">
            <span>E-mail me about unread messages</span>
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
              {s.email_available
                ? "One e-mail lists the conversations still unread after this time; the same messages are never e-mailed twice."
                : "E-mail is not available: this server has no mail server configured."}
            </small>
          </label>

          <h3 class="sub-title">Do not disturb</h3>
          <p class="muted" id="dnd-status" role="status">
            {paused
              ? `Notifications are paused until ${time(s.paused_until)}.`
              : push.inHours(s)
                ? "Do-not-disturb hours: notifications and sounds are held back now."
                : s.dnd_enabled
                  ? `Do not disturb from ${s.dnd_from} to ${s.dnd_to} (${s.time_zone}).`
                  : "Notifications are on."}
          </p>
          <div class="btn-row">
            {paused ? (
              <button class="btn small" onClick={() => save({ paused_until: "" }, "Notifications resumed.")}>
                Resume notifications
              </button>
            ) : (
              <>
                <button class="btn small" onClick={() => save({ paused_until: new Date(Date.now() + 3600e3).toISOString() }, "Paused for an hour.")}>
                  Pause for 1 hour
                </button>
                <button class="btn small" onClick={() => save({ paused_until: pauseUntilTomorrow().toISOString() }, "Paused until tomorrow.")}>
                  Pause until tomorrow
                </button>
              </>
            )}
          </div>
          <Toggle
            id="set-dnd"
            label="Do-not-disturb hours"
            hint="No pushes, e-mail or sounds in these hours, every week on the days chosen. E-mail waits until they end."
            checked={s.dnd_enabled}
            onChange={(v) => save({ dnd_enabled: v, dnd_days: v && s.dnd_days.length === 0 ? [1, 2, 3, 4, 5] : s.dnd_days })}
          />
          {s.dnd_enabled ? (
            <div class="indent dnd">
              <div class="dnd-hours">
                <label class="field">
                  <span>From</span>
                  <input id="dnd-from" class="input" type="time" value={s.dnd_from} onChange={(e) => save({ dnd_from: (e.currentTarget as HTMLInputElement).value })} />
                </label>
                <label class="field">
                  <span>To</span>
                  <input id="dnd-to" class="input" type="time" value={s.dnd_to} onChange={(e) => save({ dnd_to: (e.currentTarget as HTMLInputElement).value })} />
                </label>
              </div>
              <fieldset class="dnd-days">
                <legend>On</legend>
                {DAYS.map(([d, name]) => (
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
                    {name}
                  </label>
                ))}
              </fieldset>
              <p class="muted">
                Time zone: {s.time_zone}
                {s.time_zone !== localZone() ? (
                  <>
                    {" "}
                    <button class="link" onClick={() => save({ time_zone: localZone() })}>
                      Use {localZone()}
                    </button>
                  </>
                ) : null}
              </p>
              <Toggle
                id="set-breakthrough"
                label="Let calls and mentions through"
                hint="An incoming call or a mention of you still notifies in these hours (not while paused)."
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
