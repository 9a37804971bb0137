// Staff SMS (seed 001's "Send SMS"): a user's phone number (their own in
// Settings; anyone's for administrators, in the user panel), the "Send SMS"
// window with a character and segment counter and the history of texts
// with their live status (queued → sent → delivered, or failed with the
// reason), and the organisation's SMS settings (Administration → Chat).

import { useEffect, useRef, useState } from "preact/hooks";
import { date, t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { use } from "../sig";
import * as store from "../store";
import type { Channel, Frame, Role, User } from "../types";
import { Modal, Spinner } from "../ui/common";

export interface StaffSMS {
  id: number;
  sender_id: number;
  recipient_id: number;
  to: string;
  text: string;
  segments: number;
  channel_id: number;
  external_id?: string;
  status: "queued" | "sent" | "delivered" | "failed";
  error?: string;
  created_at: string;
  updated_at: string;
}

interface Info {
  phone: string;
  can_edit: boolean;
  can_send: boolean;
  why?: string;
  messages: StaffSMS[];
}

const MAX = 1600;
const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXT = "\f^{}\\[~]|€";

/** count is what the counter shows: UTF-16 units (Twilio's limit) and SMS segments, as channel/sms.Segments counts them. */
export function count(text: string): { units: number; segments: number; unicode: boolean } {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (GSM.includes(ch)) septets++;
    else if (GSM_EXT.includes(ch)) septets += 2;
    else gsm = false;
  }
  const units = text.length;
  if (!text) return { units, segments: 0, unicode: false };
  const [n, one, part] = gsm ? [septets, 160, 153] : [units, 70, 67];
  return { units, segments: n <= one ? 1 : Math.ceil(n / part), unicode: !gsm };
}

const STATUS = {
  queued: "app.people.sms.queued",
  sent: "app.people.sms.sent",
  delivered: "app.people.sms.delivered",
  failed: "app.people.sms.failed",
} as const satisfies Record<StaffSMS["status"], string>;

const RANK: Record<StaffSMS["status"], number> = { queued: 0, sent: 1, delivered: 2, failed: 2 };

/** later tells whether a is a later state of a text than b: by update time (parsed: the server's times
 * drop trailing zeros, so they do not compare as strings), then by status, which only moves forward. */
function later(a: StaffSMS, b: StaffSMS): boolean {
  const d = Date.parse(a.updated_at) - Date.parse(b.updated_at);
  return d > 0 || (d === 0 && RANK[a.status] >= RANK[b.status]);
}

/** merge puts a state of a text into the list, unless the list already has a later one (a status
 * callback's event can arrive before the answer to the send). */
function merge(l: StaffSMS[], m: StaffSMS): StaffSMS[] {
  const old = l.find((x) => x.id === m.id);
  if (!old) return [m, ...l].sort((a, b) => b.id - a.id);
  return later(m, old) ? l.map((x) => (x.id === m.id ? m : x)) : l;
}

/** useLive keeps a list of texts up to date from the sms.updated events. */
function useLive(setList: (fn: (l: StaffSMS[]) => StaffSMS[]) => void, recipient: number) {
  useEffect(() => {
    const hook = (f: Frame) => {
      if (f.type !== "sms.updated") return;
      const m = f.data as StaffSMS;
      if (m.recipient_id !== recipient) return;
      setList((l) => merge(l, m));
    };
    store.eventHooks.add(hook);
    return () => {
      store.eventHooks.delete(hook);
    };
  }, [recipient]);
}

function StatusBadge(props: { m: StaffSMS }) {
  const status = t(STATUS[props.m.status]);
  const label = props.m.error ? t("app.people.sms.statusLabelError", { status, error: props.m.error }) : t("app.people.sms.statusLabel", { status });
  return (
    <span class={"sms-status " + props.m.status} role="status" aria-label={label}>
      {status}
    </span>
  );
}

export function SMSWindow(props: { userId: number; onClose: () => void }) {
  const [info, setInfo] = useState<Info | null>(null);
  const [user, setUser] = useState<User | null>(null);
  const [list, setList] = useState<StaffSMS[]>([]);
  const [text, setText] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  useLive(setList, props.userId);
  useEffect(() => {
    Promise.all([api.get<Info>(`/users/${props.userId}/sms`), api.get<User>(`/users/${props.userId}`)]).then(
      ([i, u]) => {
        setInfo(i);
        setList(i.messages);
        setUser(u);
        requestAnimationFrame(() => area.current?.focus());
      },
      (e) => setErr((e as Error).message),
    );
  }, [props.userId]);
  const c = count(text.trim());
  const over = c.units > MAX;
  const send = async () => {
    if (!text.trim() || over || busy) return;
    setBusy(true);
    setErr("");
    try {
      const m = await api.post<StaffSMS>(`/users/${props.userId}/sms`, { text });
      setList((l) => merge(l, m));
      setText("");
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t("app.people.sms.title", { name: user?.name || "…" })}
      onClose={props.onClose}
      class="sms-window"
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.people.sms.close")}
          </button>
          <button class="btn primary" onClick={send} disabled={!info?.can_send || busy || !text.trim() || over}>
            {busy ? t("app.people.sms.sending") : t("app.people.sms.send")}
          </button>
        </>
      }
    >
      {!info ? (
        err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : (
          <Spinner />
        )
      ) : (
        <>
          <p class="sms-to">
            {tp("app.people.sms.to", { phone: <strong>{info.phone || t("app.people.sms.noPhone")}</strong> })}
          </p>
          {!info.can_send ? (
            <p class="form-error" role="alert">
              {info.why || (user?.name ? t("app.people.sms.cannotSendTo", { name: user.name }) : t("app.people.sms.cannotSend"))}
            </p>
          ) : (
            <>
              <label class="field">
                <span>{t("app.people.sms.text")}</span>
                <textarea
                  ref={area}
                  class={"input sms-text" + (over ? " over" : "")}
                  rows={4}
                  value={text}
                  aria-describedby="sms-count"
                  onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                      e.preventDefault();
                      send();
                    }
                  }}
                />
              </label>
              <p id="sms-count" class={"sms-count" + (over ? " over" : "")} aria-live="polite">
                {/* the counts as digits, never "1,600": the English text is the one the tests read */}
                {t(c.unicode ? "app.people.sms.counterUnicode" : "app.people.sms.counter", { units: String(c.units), max: String(MAX), segments: c.segments })}
              </p>
            </>
          )}
          {err ? (
            <p class="form-error" role="alert">
              {err}
            </p>
          ) : null}
          <h3 class="sms-history-title">{list.length ? t("app.people.sms.history") : t("app.people.sms.noneSent")}</h3>
          <ul class="sms-history" aria-label={t("app.people.sms.historyLabel")}>
            {list.map((m) => (
              <li key={m.id}>
                <div class="sms-line">
                  <span class="sms-when">
                    {date(m.created_at, { dateStyle: "medium", timeStyle: "short" })}
                    {m.sender_id !== store.me.value?.id ? " · " + t("app.people.sms.by", { name: store.personName(m.sender_id) }) : ""}
                  </span>
                  <StatusBadge m={m} />
                </div>
                <p class="sms-body">{m.text}</p>
                {m.status === "failed" && m.error ? <p class="sms-reason">{t("app.people.sms.notDelivered", { error: m.error })}</p> : null}
              </li>
            ))}
          </ul>
        </>
      )}
    </Modal>
  );
}

/** PhoneFacts: a user's phone number in their panel, with Edit (themselves, administrators) and Send SMS. */
export function PhoneFacts(props: { userId: number }) {
  const [info, setInfo] = useState<Info | null>(null);
  const [editing, setEditing] = useState(false);
  const [open, setOpen] = useState(false);
  const load = () => api.get<Info>(`/users/${props.userId}/sms`).then(setInfo, () => setInfo(null));
  useEffect(() => {
    setEditing(false);
    load();
  }, [props.userId]);
  if (!info) return null;
  return (
    <div class="phone-facts">
      <div class="phone-line">
        <span class="phone-label">{t("app.people.phone.label")}</span>
        {editing ? (
          <PhoneEditor
            userId={props.userId}
            phone={info.phone}
            onDone={(p) => {
              setEditing(false);
              if (p !== undefined) load();
            }}
          />
        ) : (
          <>
            <span class="phone-value">{info.phone ? <a href={"tel:" + info.phone}>{info.phone}</a> : <span class="muted">{t("app.people.phone.none")}</span>}</span>
            {info.can_edit ? (
              <button class="btn small" onClick={() => setEditing(true)}>
                {info.phone ? t("app.people.phone.edit") : t("app.people.phone.add")}
              </button>
            ) : null}
          </>
        )}
      </div>
      {info.can_send || info.phone ? (
        <button class="btn small" onClick={() => setOpen(true)} title={info.can_send ? t("app.people.phone.sendTitle") : info.why}>
          {t("app.people.sms.send")}
        </button>
      ) : null}
      {open ? (
        <SMSWindow
          userId={props.userId}
          onClose={() => {
            setOpen(false);
            load();
          }}
        />
      ) : null}
    </div>
  );
}

/** PhoneEditor changes a phone number; onDone gets the saved number, or undefined when cancelled. */
export function PhoneEditor(props: { userId: number; phone: string; onDone: (phone?: string) => void }) {
  const [v, setV] = useState(props.phone);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    setErr("");
    try {
      const r = await api.put<{ phone: string }>(`/users/${props.userId}/phone`, { phone: v });
      props.onDone(r.phone);
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="phone-editor"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <input
        class="input"
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        placeholder="+44 20 7946 0958" // i18n-ignore: an example number, the same in every language
        aria-label={t("app.people.phone.input")}
        aria-invalid={!!err}
        value={v}
        autoFocus
        onInput={(e) => setV((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), props.onDone())}
      />
      <button class="btn small primary" disabled={busy}>
        {t("app.people.phone.save")}
      </button>
      <button type="button" class="btn small" onClick={() => props.onDone()}>
        {t("app.people.phone.cancel")}
      </button>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </form>
  );
}

/** PhoneCard: your own phone number, in Settings. */
export function PhoneCard() {
  const me = use(store.me)!;
  const [phone, setPhone] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    api.get<Info>(`/users/${me.id}/sms`).then((i) => setPhone(i.phone), () => setPhone(""));
  }, [me.id]);
  return (
    <section class="card" aria-labelledby="phone-title">
      <h2 id="phone-title">{t("app.people.phone.cardTitle")}</h2>
      <p class="muted">{t("app.people.phone.cardHint")}</p>
      {phone === null ? (
        <Spinner />
      ) : editing ? (
        <PhoneEditor
          userId={me.id}
          phone={phone}
          onDone={(p) => {
            setEditing(false);
            if (p !== undefined) setPhone(p);
          }}
        />
      ) : (
        <div class="phone-line">
          <span class="phone-value">{phone || <span class="muted">{t("app.people.phone.noPhone")}</span>}</span>
          <button class="btn small" onClick={() => setEditing(true)}>
            {phone ? t("app.people.phone.change") : t("app.people.phone.addPhone")}
          </button>
        </div>
      )}
    </section>
  );
}

interface Settings {
  channel_id: number;
  roles: Role[];
  per_hour: number;
}

const ROLES = [
  ["admin", "app.people.smsSettings.admins"],
  ["supervisor", "app.people.smsSettings.supervisors"],
  ["agent", "app.people.smsSettings.agents"],
  ["member", "app.people.smsSettings.members"],
] as const satisfies readonly (readonly [Role, string])[];

/** SMSSettingsCard picks the SMS channel staff texts go out through, who may send, and the hourly limit. */
export function SMSSettingsCard() {
  const [s, setS] = useState<Settings | null>(null);
  const [channels, setChannels] = useState<Channel[]>([]);
  const [err, setErr] = useState("");
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    Promise.all([api.get<Settings>("/sms/settings"), api.get<{ channels: Channel[] }>("/channels")]).then(
      ([st, ch]) => {
        setS(st);
        setChannels((ch.channels || []).filter((c) => c.kind === "sms"));
      },
      (e) => setErr((e as Error).message),
    );
  }, []);
  const save = async (next: Settings) => {
    setS(next);
    setErr("");
    setSaved(false);
    try {
      setS(await api.put<Settings>("/sms/settings", next));
      setSaved(true);
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <section class="card" aria-labelledby="sms-settings-title">
      <h2 id="sms-settings-title">{t("app.people.smsSettings.title")}</h2>
      <p class="muted">{t("app.people.smsSettings.intro")}</p>
      {!s ? (
        err ? (
          <p class="form-error">{err}</p>
        ) : (
          <Spinner />
        )
      ) : (
        <>
          <label class="field">
            <span>{t("app.people.smsSettings.sendThrough")}</span>
            <select value={s.channel_id} onChange={(e) => save({ ...s, channel_id: Number((e.currentTarget as HTMLSelectElement).value) })}>
              <option value={0}>{t("app.people.smsSettings.off")}</option>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                  {c.settings?.from ? ` (${c.settings.from})` : ""}
                </option>
              ))}
            </select>
          </label>
          {!channels.length ? <p class="muted">{t("app.people.smsSettings.noChannel")}</p> : null}
          <fieldset class="field sms-roles">
            <legend>{t("app.people.smsSettings.whoMay")}</legend>
            {ROLES.map(([r, label]) => (
              <label key={r} class="check">
                <input
                  type="checkbox"
                  checked={s.roles.includes(r)}
                  onChange={(e) => {
                    const on = (e.currentTarget as HTMLInputElement).checked;
                    const roles = on ? [...s.roles, r] : s.roles.filter((x) => x !== r);
                    if (roles.length) save({ ...s, roles });
                  }}
                />{" "}
                {t(label)}
              </label>
            ))}
          </fieldset>
          <label class="field">
            <span>{t("app.people.smsSettings.perHour")}</span>
            <input
              type="number"
              min={1}
              max={10000}
              value={s.per_hour}
              onChange={(e) => save({ ...s, per_hour: Number((e.currentTarget as HTMLInputElement).value) || 0 })}
            />
          </label>
          {err ? (
            <p class="form-error" role="alert">
              {err}
            </p>
          ) : saved ? (
            <p class="muted" role="status">
              {t("app.people.smsSettings.saved")}
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
