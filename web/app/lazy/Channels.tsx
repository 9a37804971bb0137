// Administration → a project's Channels (docs/channels.md, loaded on
// demand): the services customers write from (Telegram, WhatsApp,
// Messenger, Instagram, e-mail, SMS, other systems through the API).
//
// The list shows each channel's state and last error. "Connect a channel"
// picks a kind, then fills a form made from the kind's own fields (GET
// /channel-kinds). One channel's page says how to point the service at
// Parley (its webhook URL; the secrets Parley generated, shown once),
// tests the connection, pauses, resumes and removes it, and changes it
// with the same form. Secrets never come back from the server: the form
// shows which are set and replaces one only when something is typed.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import { ApiError } from "../api";
import { channelKinds } from "../inbox";
import { navigate, onLink } from "../router";
import * as store from "../store";
import type { AttachmentLimits, Channel, ChannelField, ChannelKind, ChannelTest, Project } from "../types";
import { ChannelIcon } from "../ui/channels";
import { Confirm, Spinner, Toggle } from "../ui/common";
import { CopyRow, FieldRow } from "../ui/fields";
import { fullTime } from "../util";

const GENERATED = "(generated)";

const listURL = (p: Project) => `/admin/projects/${p.id}/channels`;
const chURL = (p: Project, id: number) => `${listURL(p)}/${id}`;

/**
 * The secrets of the channel just saved, from the one answer that holds
 * them: kept here, not in the page's state, because saving a new channel
 * navigates to its page. Forgotten when that page closes.
 */
let fresh: Channel | null = null;

export function ChannelsSection(props: { p: Project; id?: number }) {
  const [kinds, setKinds] = useState<ChannelKind[] | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    channelKinds().then(setKinds, (e) => setErr(e.message));
  }, []);
  if (err || !kinds) return <section class="card">{err ? <p class="form-error">{err}</p> : <Spinner />}</section>;
  if (props.id) return <ChannelPage key={props.id} p={props.p} id={props.id} kinds={kinds} />;
  return <ChannelList p={props.p} kinds={kinds} />;
}

const kindOf = (kinds: ChannelKind[], k: string) => kinds.find((x) => x.kind === k);
const kindLabel = (kinds: ChannelKind[], k: string) => kindOf(kinds, k)?.label || k;

// ---- the list ------------------------------------------------------------------

function ChannelList(props: { p: Project; kinds: ChannelKind[] }) {
  const { p, kinds } = props;
  const [list, setList] = useState<Channel[] | null>(null);
  const [err, setErr] = useState("");
  // Connecting: picking a kind (true), then its form.
  const [connect, setConnect] = useState<ChannelKind | boolean>(false);
  useEffect(() => {
    api.get<{ channels: Channel[] }>("/channels" + api.qs({ project_id: p.id })).then(
      (r) => setList(r.channels || []),
      (e) => setErr(e.message),
    );
  }, [p.id]);
  if (connect === true) return <KindPicker kinds={kinds} onPick={setConnect} onCancel={() => setConnect(false)} />;
  if (connect)
    return (
      <section class="card">
        <h2 class="ch-form-title">
          <ChannelIcon channel={connect.kind} size={20} /> Connect {connect.label}
        </h2>
        <ChannelForm
          p={p}
          kind={connect}
          onSaved={(ch) => {
            fresh = ch;
            navigate(chURL(p, ch.id));
          }}
          onCancel={() => setConnect(true)}
          cancelLabel="Back"
        />
      </section>
    );
  return (
    <section class="card">
      <div class="card-head">
        <h2>Channels</h2>
        <button class="btn primary" onClick={() => setConnect(true)} disabled={!kinds.length}>
          Connect a channel
        </button>
      </div>
      <p class="muted small">
        Customers who write to a connected messenger, mailbox or number get a dialog in this project's inbox, like the website chat's; replies go back the
        same way.
      </p>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">No channels yet. Connect one to answer customers where they write.</p>
      ) : (
        <ul class="group-list ch-list" aria-label="Connected channels">
          {list.map((ch) => (
            <li key={ch.id}>
              <a class="group-row ch-row" href={chURL(p, ch.id)} onClick={onLink} data-channel={ch.id}>
                <ChannelIcon channel={ch.kind} size={22} />
                <span class="ch-row-main">
                  <strong class="ellipsis">{ch.name}</strong>
                  <span class="muted small">{kindLabel(kinds, ch.kind)}</span>
                </span>
                <StatePill ch={ch} />
                {ch.last_error ? <ChannelError ch={ch} /> : null}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function StatePill(props: { ch: Channel }) {
  const { ch } = props;
  if (ch.paused) return <span class="pill">Paused</span>;
  if (ch.last_error) return <span class="pill bad">Error</span>;
  return <span class="pill on">Active</span>;
}

function ChannelError(props: { ch: Channel }) {
  return (
    <span class="ch-error form-error small" role="status">
      {props.ch.last_error}
      {props.ch.error_at ? <span class="ch-error-at"> · {fullTime(props.ch.error_at)}</span> : null}
    </span>
  );
}

const MB = 1 << 20;
const mb = (n: number) => (n ? (n >= MB ? `${Math.round((n / MB) * 10) / 10} MB` : `${Math.round(n / 1024)} KB`) : "the server's limit");
const LIMITS: [keyof AttachmentLimits, string][] = [
  ["image", "images"],
  ["audio", "audio"],
  ["video", "video"],
  ["other", "other files"],
];

/** limitsText: a kind's attachment limits in words. */
function limitsText(l: AttachmentLimits | undefined): string {
  if (!l || LIMITS.every(([k]) => !l[k])) return "the server's file limit";
  return LIMITS.map(([k, w]) => `${w} ${mb(l[k])}`).join(", ");
}

function KindPicker(props: { kinds: ChannelKind[]; onPick: (k: ChannelKind) => void; onCancel: () => void }) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>Connect a channel</h2>
        <button class="btn" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <p class="muted small">Where do your customers write from?</p>
      <ul class="ch-kinds" aria-label="Kinds of channel">
        {props.kinds.map((k) => (
          <li key={k.kind}>
            <button class="ch-kind" onClick={() => props.onPick(k)} data-kind={k.kind}>
              <span class="ch-kind-head">
                <ChannelIcon channel={k.kind} size={22} />
                <strong>{k.label}</strong>
              </span>
              <span class="muted small">
                Up to {k.rate >= 1 ? Math.round(k.rate) : k.rate} {k.rate === 1 ? "message" : "messages"} a second
              </span>
              <span class="muted small">Statuses: {(k.statuses || []).join(", ") || "none"}</span>
              <span class="muted small">Files: {limitsText(k.limits)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---- the form ------------------------------------------------------------------

/**
 * fieldError finds the field an API error names: "name", or a setting or
 * secret ("settings.base_url"); the message names it the same way, and
 * there the field's label replaces the API's name.
 */
function fieldError(e: unknown, kind: ChannelKind): { key: string; msg: string } {
  const msg = (e as Error).message || "Not saved";
  if (!(e instanceof ApiError)) return { key: "", msg };
  if (/^(settings|secrets)\b/.test(e.field || "")) {
    const m = msg.match(/\b(settings|secrets)\.([A-Za-z0-9_]+)(?: \([^)]*\))?/);
    const f = m && kind[m[1] as "settings" | "secrets"]?.find((x) => x.name === m[2]);
    return f ? { key: m[1] + "." + m[2], msg: msg.replace(m[0], f.label) } : { key: "", msg };
  }
  return { key: e.field === "name" ? "name" : "", msg };
}

/**
 * ChannelForm creates a channel of a kind, or changes one (ch). Secrets are
 * password fields that are never filled: on a channel, the ones set say
 * so, and only what is typed replaces them.
 */
function ChannelForm(props: {
  p: Project;
  kind: ChannelKind;
  ch?: Channel;
  onSaved: (ch: Channel) => void;
  onCancel?: () => void;
  cancelLabel?: string;
}) {
  const { kind, ch } = props;
  const [name, setName] = useState(ch?.name || "");
  const [autoCase, setAutoCase] = useState(ch?.auto_case || false);
  const [settings, setSettings] = useState<Record<string, string>>(() =>
    Object.fromEntries((kind.settings || []).map((f) => [f.name, ch ? ch.settings?.[f.name] || "" : f.default || ""])),
  );
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  // Secrets to clear: an optional one removed, or a generated one made again.
  const [clear, setClear] = useState<Record<string, boolean>>({});
  const [err, setErr] = useState<{ key: string; msg: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const saving = useRef(false); // a second click lands before the button is disabled
  const [saved, setSaved] = useState(false);
  const set = (ch?.secrets_set || []) as string[];

  const submit = async (e: Event) => {
    e.preventDefault();
    if (saving.current) return;
    saving.current = true;
    setBusy(true);
    setErr(null);
    setSaved(false);
    const typed: Record<string, string> = {};
    for (const f of kind.secrets || []) {
      const v = (secrets[f.name] || "").trim();
      if (v) typed[f.name] = v;
      else if (ch && clear[f.name]) typed[f.name] = "";
    }
    try {
      const out = ch
        ? await api.patch<Channel>(`/channels/${ch.id}`, { name: name.trim(), auto_case: autoCase, settings, secrets: typed })
        : await api.post<Channel>("/channels", { project_id: props.p.id, kind: kind.kind, name: name.trim(), auto_case: autoCase, settings, secrets: typed });
      setSecrets({});
      setClear({});
      setSaved(true);
      props.onSaved(out);
    } catch (x) {
      setErr(fieldError(x, kind));
    } finally {
      saving.current = false;
      setBusy(false);
    }
  };

  const errFor = (key: string) => (err && err.key === key ? err.msg : "");
  const idBase = `ch-${ch ? ch.id : kind.kind}`;
  const inputId = (key: string) => `${idBase}-${key === "name" ? "name" : key.replace("settings.", "s-").replace("secrets.", "k-")}`;
  // The field the server named gets the focus, so its error is read out and in view.
  useEffect(() => {
    if (err?.key) document.getElementById(inputId(err.key))?.focus();
  }, [err]);
  return (
    <form class="ch-form" onSubmit={submit}>
      <FieldRow id={inputId("name")} label="Name" required help="Shown beside the channel's icon in the dialog list, like “Shop bot”." error={errFor("name")}>
        {(a) => <input class="input" {...a} maxLength={100} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </FieldRow>
      {(kind.settings || []).map((f) => (
        <SettingField
          key={f.name}
          f={f}
          id={inputId("settings." + f.name)}
          value={settings[f.name] || ""}
          error={errFor("settings." + f.name)}
          onChange={(v) => setSettings({ ...settings, [f.name]: v })}
        />
      ))}
      {(kind.secrets || []).map((f) => (
        <SecretField
          key={f.name}
          f={f}
          id={inputId("secrets." + f.name)}
          editing={!!ch}
          isSet={set.includes(f.name)}
          cleared={!!clear[f.name]}
          onClear={(on) => setClear({ ...clear, [f.name]: on })}
          value={secrets[f.name] || ""}
          error={errFor("secrets." + f.name)}
          onChange={(v) => setSecrets({ ...secrets, [f.name]: v })}
        />
      ))}
      <Toggle
        label="Open a case for every new dialog"
        hint="Each customer's new dialog through this channel gets a case, with where the customer came from."
        checked={autoCase}
        onChange={setAutoCase}
      />
      {err && !err.key ? (
        <p class="form-error" role="alert">
          {err.msg}
        </p>
      ) : null}
      <div class="row-end">
        {saved && ch ? (
          <span class="ok-text save-state" role="status">
            Saved
          </span>
        ) : null}
        {props.onCancel ? (
          <button type="button" class="btn" onClick={props.onCancel}>
            {props.cancelLabel || "Cancel"}
          </button>
        ) : null}
        <button class="btn primary" disabled={busy}>
          {busy ? <Spinner label="Saving" /> : null}
          {ch ? "Save" : "Connect"}
        </button>
      </div>
    </form>
  );
}

function SettingField(props: { f: ChannelField; id: string; value: string; error: string; onChange: (v: string) => void }) {
  const { f } = props;
  return (
    <FieldRow id={props.id} label={f.label} required={f.required} help={f.help} error={props.error}>
      {(a) =>
        f.options?.length ? (
          <select class="input" {...a} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
            {!f.required && !f.default && !f.options.includes("") ? <option value="">—</option> : null}
            {f.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        ) : (
          <input
            class={"input" + (props.error ? " invalid" : "")}
            {...a}
            required={f.required}
            inputMode={f.name.endsWith("_url") ? "url" : undefined}
            spellcheck={false}
            placeholder={f.default || undefined}
            value={props.value}
            onInput={(e) => props.onChange(e.currentTarget.value)}
          />
        )
      }
    </FieldRow>
  );
}

function SecretField(props: {
  f: ChannelField;
  id: string;
  editing: boolean;
  isSet: boolean;
  cleared: boolean;
  onClear: (on: boolean) => void;
  value: string;
  error: string;
  onChange: (v: string) => void;
}) {
  const { f } = props;
  const generated = f.default === GENERATED;
  const placeholder = props.isSet
    ? props.cleared
      ? generated
        ? "A new one is made when you save"
        : "Removed when you save"
      : "Set — type to replace it"
    : generated
      ? "Made by Parley if left empty"
      : "";
  // An optional secret can be removed, a generated one made again; a required one only replaced.
  const canClear = props.editing && props.isSet && (generated || !f.required);
  return (
    <FieldRow
      id={props.id}
      label={f.label}
      required={f.required && !props.isSet}
      help={f.help}
      error={props.error}
      badge={
        props.isSet ? (
          <span class={"pill small-pill" + (props.cleared ? "" : " on")}>{props.cleared ? (generated ? "new one on save" : "removed on save") : "set"}</span>
        ) : null
      }
      after={
        canClear ? (
          <button type="button" class="link small" onClick={() => props.onClear(!props.cleared)}>
            {props.cleared ? "Keep the current one" : generated ? "Make a new one" : "Remove it"}
          </button>
        ) : null
      }
    >
      {(a) => (
        <input
          class={"input" + (props.error ? " invalid" : "")}
          {...a}
          type="password"
          // Never the browser's saved sign-in password.
          autoComplete="new-password"
          spellcheck={false}
          required={f.required && !props.isSet}
          placeholder={placeholder}
          value={props.value}
          onInput={(e) => props.onChange(e.currentTarget.value)}
        />
      )}
    </FieldRow>
  );
}

// ---- one channel -------------------------------------------------------------------

function ChannelPage(props: { p: Project; id: number; kinds: ChannelKind[] }) {
  const { p, id } = props;
  const [ch, setCh] = useState<Channel | null>(fresh && fresh.id === id ? fresh : null);
  const [secrets, setSecrets] = useState(fresh && fresh.id === id ? fresh.new_secrets || null : null);
  const [err, setErr] = useState("");
  useEffect(() => {
    fresh = null;
    api.get<Channel>(`/channels/${id}`).then(setCh, (e) => setErr(e.message));
  }, [id]);
  if (err)
    return (
      <section class="card">
        <p class="form-error">{err}</p>
        <a href={listURL(p)} onClick={onLink}>
          All channels
        </a>
      </section>
    );
  if (!ch)
    return (
      <section class="card">
        <Spinner />
      </section>
    );
  const kind = kindOf(props.kinds, ch.kind);
  return (
    <>
      <ChannelHead p={p} ch={ch} kinds={props.kinds} onChange={setCh} />
      {secrets ? <NewSecrets kind={kind} secrets={secrets} /> : null}
      <Setup ch={ch} kind={kind} />
      <section class="card">
        <h2>Settings</h2>
        {kind ? (
          <ChannelForm
            p={p}
            kind={kind}
            ch={ch}
            onSaved={(out) => {
              setCh(out);
              if (out.new_secrets && Object.keys(out.new_secrets).length) setSecrets(out.new_secrets);
            }}
          />
        ) : (
          <p class="muted">This server no longer connects {ch.kind} channels; the channel can only be removed.</p>
        )}
      </section>
    </>
  );
}

/** ChannelHead: the channel, its state and last error, Test connection, Pause or Resume, Remove. */
function ChannelHead(props: { p: Project; ch: Channel; kinds: ChannelKind[]; onChange: (ch: Channel) => void }) {
  const { p, ch } = props;
  const [busy, setBusy] = useState("");
  const [test, setTest] = useState<ChannelTest | null>(null);
  const [removing, setRemoving] = useState(false);
  const run = (what: string, fn: () => Promise<void>) => async () => {
    if (busy) return;
    setBusy(what);
    try {
      await fn();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy("");
    }
  };
  const testNow = run("test", async () => {
    setTest(null);
    setTest(await api.post<ChannelTest>(`/channels/${ch.id}/test`));
    // The test records or clears the channel's last error.
    props.onChange(await api.get<Channel>(`/channels/${ch.id}`));
  });
  const pause = run("pause", async () => props.onChange(await api.patch<Channel>(`/channels/${ch.id}`, { paused: !ch.paused })));
  const remove = run("remove", async () => {
    await api.del(`/channels/${ch.id}`);
    setRemoving(false);
    store.toast(`${ch.name} was removed.`);
    navigate(listURL(p));
  });
  return (
    <section class="card ch-head">
      <a class="link-back small" href={listURL(p)} onClick={onLink}>
        ‹ All channels
      </a>
      <div class="ch-title">
        <ChannelIcon channel={ch.kind} size={28} />
        <span class="ch-row-main">
          <h2 class="ellipsis">{ch.name}</h2>
          <span class="muted small">
            {kindLabel(props.kinds, ch.kind)} · connected {fullTime(ch.created_at)}
          </span>
        </span>
        <StatePill ch={ch} />
      </div>
      {ch.paused ? (
        <p class="muted small">Paused: the service keeps customers' messages for later, and replies wait in the queue until you resume.</p>
      ) : null}
      {ch.last_error ? (
        <p class="ch-error form-error" role="status">
          <strong>Last error:</strong> {ch.last_error}
          {ch.error_at ? <span class="ch-error-at"> · {fullTime(ch.error_at)}</span> : null}
        </p>
      ) : null}
      <div class="row-start">
        <button class="btn" onClick={testNow} disabled={!!busy}>
          {busy === "test" ? <Spinner label="Testing" /> : null}
          Test connection
        </button>
        <button class="btn" onClick={pause} disabled={!!busy}>
          {ch.paused ? "Resume" : "Pause"}
        </button>
        <span class="grow" />
        <button class="btn danger" onClick={() => setRemoving(true)} disabled={!!busy}>
          Remove
        </button>
      </div>
      {test ? (
        <p class={"ch-test " + (test.ok ? "ok-text" : "form-error")} role="status">
          {test.ok ? `Connected: ${test.detail || "the service answered"}` : `The test failed: ${test.error}`}
        </p>
      ) : null}
      {removing ? (
        <Confirm title={`Remove ${ch.name}?`} action="Remove" onConfirm={remove} onClose={() => setRemoving(false)}>
          <p>Customers can no longer write to this project through it.</p>
          <p>
            Its dialogs keep their history, but replies still waiting to be sent fail, and nothing more can be sent from those dialogs.
          </p>
        </Confirm>
      ) : null}
    </section>
  );
}

/** NewSecrets: what Parley generated, from the one answer that holds it. */
function NewSecrets(props: { kind?: ChannelKind; secrets: Record<string, string> }) {
  const ref = useRef<HTMLElement>(null);
  // One made again from the form further down: bring it into view.
  useEffect(() => ref.current?.scrollIntoView({ block: "nearest" }), [props.secrets]);
  const names = Object.keys(props.secrets);
  if (!names.length) return null;
  const label = (n: string) => props.kind?.secrets.find((f) => f.name === n)?.label || n;
  return (
    <section ref={ref} class="card ch-secrets" aria-label="New secrets">
      <h2>Copy {names.length > 1 ? "these secrets" : "this secret"} now</h2>
      <p class="small">
        <strong>It will not be shown again.</strong> Parley keeps {names.length > 1 ? "them" : "it"} but never shows {names.length > 1 ? "them" : "it"}{" "}
        back; if lost, make a new one under Settings.
      </p>
      {names.map((n) => (
        <CopyRow key={n} label={label(n)} value={props.secrets[n]} />
      ))}
    </section>
  );
}

/** Setup: the webhook URL, and what to do with it for the channel's service. */
function Setup(props: { ch: Channel; kind?: ChannelKind }) {
  const { ch, kind } = props;
  if (kind && !kind.webhook) return null;
  // Without a public URL the server gives a path: this browser's origin is the best guess.
  const local = ch.webhook_url.startsWith("/");
  const url = local ? location.origin + ch.webhook_url : ch.webhook_url;
  const s = ch.settings || {};
  let how: ComponentChildren;
  switch (ch.kind) {
    case "telegram":
      how =
        s.mode === "polling" ? (
          <p>Polling: Parley asks Telegram for new messages itself, so this URL is not used (Parley removed any webhook the bot had).</p>
        ) : (
          <p>
            Nothing to paste: Parley registered this URL as the bot's webhook with Telegram when you saved, with the webhook secret that proves each call is
            Telegram's. If that failed, the error shows above; choose polling when Telegram cannot reach this server.
          </p>
        );
      break;
    case "whatsapp":
    case "messenger":
    case "instagram":
      how = (
        <ol>
          <li>
            In your Meta app, open the webhook settings (
            {ch.kind === "whatsapp" ? "WhatsApp → Configuration" : ch.kind === "instagram" ? "Instagram → Webhooks" : "Messenger → Settings → Webhooks"}).
          </li>
          <li>
            Paste this URL as the <strong>Callback URL</strong>, and the <strong>Verify token</strong>: the one Parley made (shown once, when it made it) or
            the one you typed.
          </li>
          <li>
            Subscribe to{" "}
            {ch.kind === "whatsapp" ? "messages" : ch.kind === "instagram" ? "messages and messaging_seen" : "messages, message_deliveries and message_reads"}.
          </li>
        </ol>
      );
      break;
    case "sms":
      how = (
        <p>
          In the Twilio console, open the phone number (or its Messaging Service) and paste this URL as the messaging webhook (“A message comes in”, HTTP POST)
          and as the status callback URL, so delivery statuses come back to the dialogs.
        </p>
      );
      break;
    case "api":
      how = (
        <p>
          Your system sends customers' messages to this URL, with the channel's token; Parley signs what it sends your system with the signing secret. Both
          are shown once, when Parley makes them.
        </p>
      );
      break;
    default:
      how = <p>Give this URL to the service as its webhook.</p>;
  }
  return (
    <section class="card ch-setup">
      <h2>Webhook</h2>
      <CopyRow label="Webhook URL" value={url} />
      {local ? (
        <p class="small warn-text">
          This server has no public URL (PARLEY_PUBLIC_URL), so this is the address your browser uses; the service must be able to reach it.
        </p>
      ) : null}
      <div class="small">{how}</div>
    </section>
  );
}
