// The reminder windows (seed 001). ReminderDialog sets a reminder on a
// message: preset buttons, a time field and a calendar, with the chosen
// moment in the title; Reset / OK / Cancel. SnoozeDialog opens from a due
// reminder: snooze by hours or to a new date and time, or "Do not notify".

import { useEffect, useMemo, useState } from "preact/hooks";
import { date, locale, t } from "../../i18n/i18n";
import * as store from "../store";
import type { Message } from "../types";
import { Modal } from "../ui/common";
import { fullTime, messagePreview } from "../util";

const pad = (n: number) => String(n).padStart(2, "0");
const dateKey = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hhmm = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** combine joins a calendar day and a "HH:MM" or "HH:MM:SS" time into a local moment. */
function combine(day: Date, hm: string): Date {
  const [h, m, s] = hm.split(":").map(Number);
  const d = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h || 0, m || 0, s || 0);
  return d;
}

function addDays(d: Date, n: number) {
  const x = new Date(d);
  x.setDate(x.getDate() + n);
  return x;
}

function nextHour(): Date {
  const d = new Date();
  d.setHours(d.getHours() + 1, 0, 0, 0);
  return d;
}

const MORNING = "09:00";

interface Choice {
  day: Date;
  time: string;
}

function presets(now: Date, typed = ""): [string, () => Choice][] {
  const inHours = (h: number) => () => {
    const d = new Date(now.getTime() + h * 3600_000);
    return { day: d, time: hhmm(d) };
  };
  return [
    [
      t("app.tasks.reminder.today"),
      () => {
        // A time typed for later today is kept, not reset to the next hour.
        if (typed && combine(now, typed).getTime() > now.getTime()) return { day: now, time: typed };
        const d = nextHour();
        return sameDate(d, now) ? { day: now, time: hhmm(d) } : { day: now, time: "23:59" };
      },
    ],
    [t("app.tasks.reminder.tomorrow"), () => ({ day: addDays(now, 1), time: MORNING })],
    [t("app.tasks.reminder.dayAfter"), () => ({ day: addDays(now, 2), time: MORNING })],
    [t("app.tasks.reminder.inOneHour"), inHours(1)],
    [t("app.tasks.reminder.hours", { n: 3 }), inHours(3)],
    [t("app.tasks.reminder.hours", { n: 8 }), inHours(8)],
    [t("app.tasks.reminder.week"), () => ({ day: addDays(now, 7), time: MORNING })],
    [
      t("app.tasks.reminder.month"),
      () => {
        const d = new Date(now);
        d.setMonth(d.getMonth() + 1);
        return { day: d, time: MORNING };
      },
    ],
  ];
}

function sameDate(a: Date, b: Date) {
  return dateKey(a) === dateKey(b);
}

/**
 * The first day of the calendar's weeks (0 Sunday, 1 Monday): Monday, as
 * Russian and Spanish calendars have it; English kept Monday too, as it
 * always had here.
 */
const WEEK_START = 1;

/** capital is s with its first letter in upper case ("январь 2025 г." → "Январь 2025 г."). */
const capital = (s: string) => s.charAt(0).toLocaleUpperCase(locale()) + s.slice(1);

/** weekdays are the calendar's column heads from Intl in the app's language, two letters each ("Mo", "Пн", "Lu"). */
function weekdays(): string[] {
  const out: string[] = [];
  // 2024-01-07 is a Sunday: day WEEK_START + i of that week.
  for (let i = 0; i < 7; i++) out.push(capital(date(new Date(2024, 0, 7 + WEEK_START + i), { weekday: "short" }).slice(0, 2)));
  return out;
}

function Calendar(props: { value: Date | null; onPick: (d: Date) => void }) {
  const today = new Date();
  const [month, setMonth] = useState(() => {
    const d = props.value || today;
    return new Date(d.getFullYear(), d.getMonth(), 1);
  });
  useEffect(() => {
    if (props.value && (props.value.getMonth() !== month.getMonth() || props.value.getFullYear() !== month.getFullYear()))
      setMonth(new Date(props.value.getFullYear(), props.value.getMonth(), 1));
  }, [props.value && dateKey(props.value)]);
  const days = useMemo(() => {
    // Weeks start on WEEK_START.
    const first = new Date(month);
    const lead = (first.getDay() - WEEK_START + 7) % 7;
    const out: Date[] = [];
    for (let i = -lead; out.length < 42; i++) out.push(new Date(month.getFullYear(), month.getMonth(), 1 + i));
    return out;
  }, [month]);
  const label = capital(date(month, { month: "long", year: "numeric" }));
  const selected = props.value ? dateKey(props.value) : "";
  const key = (e: KeyboardEvent, d: Date) => {
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    if (!(e.key in step)) return;
    e.preventDefault();
    const n = addDays(d, step[e.key]);
    if (dateKey(n) < dateKey(today)) return;
    props.onPick(n);
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`.cal [data-day="${dateKey(n)}"]`)?.focus());
  };
  return (
    <div class="cal" role="group" aria-label={t("app.tasks.reminder.calendar")}>
      <div class="cal-head">
        <button class="icon-btn small" aria-label={t("app.tasks.reminder.prevMonth")} onClick={() => setMonth(new Date(month.getFullYear(), month.getMonth() - 1, 1))}>
          ‹
        </button>
        <span>{label}</span>
        <button class="icon-btn small" aria-label={t("app.tasks.reminder.nextMonth")} onClick={() => setMonth(new Date(month.getFullYear(), month.getMonth() + 1, 1))}>
          ›
        </button>
      </div>
      <div class="cal-grid" role="grid">
        {weekdays().map((d) => (
          <span class="cal-dow" key={d} aria-hidden="true">
            {d}
          </span>
        ))}
        {days.map((d) => {
          const k = dateKey(d);
          const past = k < dateKey(today);
          const name = date(d, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
          return (
            <button
              key={k}
              data-day={k}
              class={"cal-day" + (d.getMonth() !== month.getMonth() ? " other" : "") + (k === selected ? " on" : "") + (k === dateKey(today) ? " today" : "")}
              disabled={past}
              tabIndex={k === selected || (!selected && k === dateKey(today)) ? 0 : -1}
              aria-pressed={k === selected}
              aria-label={name}
              onClick={() => props.onPick(d)}
              onKeyDown={(e) => key(e, d)}
            >
              {d.getDate()}
            </button>
          );
        })}
      </div>
    </div>
  );
}

export function ReminderDialog(props: { message: Message; onClose: () => void }) {
  const existing = store.reminders.get(props.message.id);
  const [choice, setChoice] = useState<Choice | null>(() => {
    if (!existing) return null;
    const d = new Date(existing.remind_at);
    return { day: d, time: hhmm(d) };
  });
  const [time, setTime] = useState(choice?.time || hhmm(nextHour()));
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const at = choice ? combine(choice.day, time) : null;
  const pick = (c: Choice) => {
    setChoice(c);
    setTime(c.time);
    setErr("");
  };
  const ok = async () => {
    setBusy(true);
    setErr("");
    try {
      if (at) {
        if (at.getTime() <= Date.now()) throw new Error(t("app.tasks.reminder.future"));
        await store.setReminder(props.message.id, at);
      } else if (existing) await store.clearReminder(props.message.id);
      props.onClose();
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      label={t("app.tasks.reminder.title")}
      title={at ? t("app.tasks.reminder.at", { time: fullTime(at) }) : t("app.tasks.reminder.notSet")}
      onClose={props.onClose}
      wide
      class="reminder-dialog"
      footer={
        <>
          <button
            class="btn"
            onClick={() => {
              setChoice(null);
              setTime(hhmm(nextHour()));
            }}
          >
            {t("app.tasks.reminder.reset")}
          </button>
          <span class="grow" />
          <button class="btn" onClick={props.onClose}>
            {t("app.tasks.form.cancel")}
          </button>
          <button class="btn primary" onClick={ok} disabled={busy}>
            {t("app.tasks.reminder.ok")}
          </button>
        </>
      }
    >
      <blockquote class="rem-msg">{messagePreview(props.message) || t("app.tasks.reminder.attachment")}</blockquote>
      <div class="rem-layout">
        <div class="rem-left">
          <div class="presets" role="group" aria-label={t("app.tasks.reminder.quick")}>
            {presets(new Date(), time).map(([label, fn]) => (
              <button key={label} class="btn small" onClick={() => pick(fn())}>
                {label}
              </button>
            ))}
          </div>
          <label class="field">
            <span>{t("app.tasks.reminder.time")}</span>
            <input
              class="input"
              type="time"
              name="time"
              value={time}
              onInput={(e) => {
                const v = (e.currentTarget as HTMLInputElement).value;
                setTime(v);
                if (!choice && v) setChoice({ day: new Date(), time: v });
              }}
            />
          </label>
        </div>
        <Calendar value={choice?.day || null} onPick={(d) => pick({ day: d, time })} />
      </div>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

export function SnoozeDialog(props: { messageId: number; onClose: () => void }) {
  const r = store.reminders.get(props.messageId);
  const [hours, setHours] = useState(1);
  const [remind, setRemind] = useState(false);
  const tomorrow = addDays(new Date(), 1);
  const [day, setDay] = useState(dateKey(tomorrow));
  const [time, setTime] = useState(MORNING);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setErr("");
    try {
      await fn();
      props.onClose();
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  const ok = () =>
    run(async () => {
      if (remind) {
        const [y, m, d] = day.split("-").map(Number);
        const at = combine(new Date(y, m - 1, d), time);
        if (at.getTime() <= Date.now()) throw new Error(t("app.tasks.reminder.future"));
        await store.setReminder(props.messageId, at);
      } else await store.snoozeReminder(props.messageId, hours);
    });
  return (
    <Modal
      title={t("app.tasks.reminder.title")}
      onClose={props.onClose}
      class="snooze-dialog"
      footer={
        <>
          <button class="btn danger" disabled={busy} onClick={() => run(() => store.clearReminder(props.messageId))}>
            {t("app.tasks.reminder.off")}
          </button>
          <span class="grow" />
          <button class="btn" onClick={props.onClose}>
            {t("app.tasks.reminder.close")}
          </button>
          <button class="btn primary" disabled={busy} onClick={ok}>
            {remind ? t("app.tasks.reminder.remindThen") : t("app.tasks.reminder.snooze")}
          </button>
        </>
      }
    >
      <blockquote class="rem-msg">{r?.message ? messagePreview(r.message) : t("app.tasks.reminder.thisMessage")}</blockquote>
      {r ? <p class="muted">{t("app.tasks.reminder.wasDue", { time: fullTime(r.remind_at) })}</p> : null}
      <fieldset class="snooze" disabled={remind}>
        <legend>{t("app.tasks.reminder.again")}</legend>
        <div class="presets">
          {[1, 3, 8, 24].map((n) => (
            <button key={n} class={"btn small" + (hours === n && !remind ? " on" : "")} aria-pressed={hours === n} onClick={() => setHours(n)}>
              {t("app.tasks.reminder.h", { n })}
            </button>
          ))}
          <label class="inline">
            <input
              class="input hours"
              type="number"
              min={1}
              max={744}
              value={hours}
              aria-label={t("app.tasks.reminder.hoursLabel")}
              onInput={(e) => setHours(Math.max(1, Math.min(744, Number((e.currentTarget as HTMLInputElement).value) || 1)))}
            />{" "}
            {t("app.tasks.reminder.hoursUnit")}
          </label>
        </div>
      </fieldset>
      <label class="toggle">
        <input type="checkbox" checked={remind} onChange={(e) => setRemind((e.currentTarget as HTMLInputElement).checked)} />
        <span class="toggle-text">{t("app.tasks.reminder.onDate")}</span>
      </label>
      {remind ? (
        <div class="inline-form">
          <label class="field">
            <span>{t("app.tasks.reminder.date")}</span>
            <input class="input" type="date" value={day} min={dateKey(new Date())} onInput={(e) => setDay((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>{t("app.tasks.reminder.time")}</span>
            <input class="input" type="time" value={time} onInput={(e) => setTime((e.currentTarget as HTMLInputElement).value)} />
          </label>
        </div>
      ) : null}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}
