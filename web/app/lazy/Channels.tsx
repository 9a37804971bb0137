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
import { t, tp } from "../../i18n/i18n";
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

// The default the server gives a secret Parley makes (a code, never shown). i18n-ignore
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
          <ChannelIcon channel={connect.kind} size={20} /> {t("app.admin.channels.connectKind", { kind: connect.label })}
        </h2>
        <ChannelForm
          p={p}
          kind={connect}
          onSaved={(ch) => {
            fresh = ch;
            navigate(chURL(p, ch.id));
          }}
          onCancel={() => setConnect(true)}
          cancelLabel={t("app.admin.channels.back")}
        />
      </section>
    );
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.channels.title")}</h2>
        <button class="btn primary" onClick={() => setConnect(true)} disabled={!kinds.length}>
          {t("app.admin.channels.connectChannel")}
        </button>
      </div>
      <p class="muted small">{t("app.admin.channels.intro")}</p>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">{t("app.admin.channels.empty")}</p>
      ) : (
        <ul class="group-list ch-list" aria-label={t("app.admin.channels.listLabel")}>
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
  if (ch.paused) return <span class="pill">{t("app.admin.common.paused")}</span>;
  if (ch.last_error) return <span class="pill bad">{t("app.admin.channels.error")}</span>;
  return <span class="pill on">{t("app.admin.common.active")}</span>;
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
const mb = (n: number) =>
  n ? (n >= MB ? t("app.admin.channels.mb", { n: Math.round((n / MB) * 10) / 10 }) : t("app.admin.channels.kb", { n: Math.round(n / 1024) })) : t("app.admin.channels.serverLimit");
/** Each kind of attachment with its limit's message ("images {size}"). */
const LIMITS = [
  ["image", "app.admin.channels.limitImages"],
  ["audio", "app.admin.channels.limitAudio"],
  ["video", "app.admin.channels.limitVideo"],
  ["other", "app.admin.channels.limitOther"],
] as const satisfies readonly (readonly [keyof AttachmentLimits, string])[];

/** limitsText: a kind's attachment limits in words. */
function limitsText(l: AttachmentLimits | undefined): string {
  if (!l || LIMITS.every(([k]) => !l[k])) return t("app.admin.channels.serverFileLimit");
  return LIMITS.map(([k, w]) => t(w, { size: mb(l[k]) })).join(", ");
}

function KindPicker(props: { kinds: ChannelKind[]; onPick: (k: ChannelKind) => void; onCancel: () => void }) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.channels.connectChannel")}</h2>
        <button class="btn" onClick={props.onCancel}>
          {t("app.admin.common.cancel")}
        </button>
      </div>
      <p class="muted small">{t("app.admin.channels.where")}</p>
      <ul class="ch-kinds" aria-label={t("app.admin.channels.kindsLabel")}>
        {props.kinds.map((k) => (
          <li key={k.kind}>
            <button class="ch-kind" onClick={() => props.onPick(k)} data-kind={k.kind}>
              <span class="ch-kind-head">
                <ChannelIcon channel={k.kind} size={22} />
                <strong>{k.label}</strong>
              </span>
              <span class="muted small">{t("app.admin.channels.rate", { n: k.rate >= 1 ? Math.round(k.rate) : k.rate })}</span>
              <span class="muted small">{t("app.admin.channels.statuses", { list: (k.statuses || []).join(", ") || t("app.admin.channels.statusesNone") })}</span>
              <span class="muted small">{t("app.admin.channels.files", { limits: limitsText(k.limits) })}</span>
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
  const msg = (e as Error).message || t("app.admin.common.notSaved");
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
      <FieldRow id={inputId("name")} label={t("app.admin.channels.name")} required help={t("app.admin.channels.nameHelp")} error={errFor("name")}>
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
        label={t("app.admin.channels.autoCase")}
        hint={t("app.admin.channels.autoCaseHint")}
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
            {t("app.admin.common.saved")}
          </span>
        ) : null}
        {props.onCancel ? (
          <button type="button" class="btn" onClick={props.onCancel}>
            {props.cancelLabel || t("app.admin.common.cancel")}
          </button>
        ) : null}
        <button class="btn primary" disabled={busy}>
          {busy ? <Spinner label={t("app.admin.common.saving")} /> : null}
          {ch ? t("app.admin.common.save") : t("app.admin.channels.connect")}
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
        ? t("app.admin.channels.secretNewOnSave")
        : t("app.admin.channels.secretRemovedOnSave")
      : t("app.admin.channels.secretSet")
    : generated
      ? t("app.admin.channels.secretGenerated")
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
          <span class={"pill small-pill" + (props.cleared ? "" : " on")}>{props.cleared ? (generated ? t("app.admin.channels.badgeNew") : t("app.admin.channels.badgeRemoved")) : t("app.admin.channels.badgeSet")}</span>
        ) : null
      }
      after={
        canClear ? (
          <button type="button" class="link small" onClick={() => props.onClear(!props.cleared)}>
            {props.cleared ? t("app.admin.channels.keepSecret") : generated ? t("app.admin.channels.makeNew") : t("app.admin.channels.removeSecret")}
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
          {t("app.admin.channels.all")}
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
        <h2>{t("app.admin.common.settings")}</h2>
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
          <p class="muted">{t("app.admin.channels.kindGone", { kind: ch.kind })}</p>
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
    store.toast(t("app.admin.channels.removed", { name: ch.name }));
    navigate(listURL(p));
  });
  return (
    <section class="card ch-head">
      <a class="link-back small" href={listURL(p)} onClick={onLink}>
        ‹ {t("app.admin.channels.all")}
      </a>
      <div class="ch-title">
        <ChannelIcon channel={ch.kind} size={28} />
        <span class="ch-row-main">
          <h2 class="ellipsis">{ch.name}</h2>
          <span class="muted small">
            {t("app.admin.channels.connectedAt", { kind: kindLabel(props.kinds, ch.kind), time: fullTime(ch.created_at) })}
          </span>
        </span>
        <StatePill ch={ch} />
      </div>
      {ch.paused ? (
        <p class="muted small">{t("app.admin.channels.pausedNote")}</p>
      ) : null}
      {ch.last_error ? (
        <p class="ch-error form-error" role="status">
          <strong>{t("app.admin.common.lastError")}</strong> {ch.last_error}
          {ch.error_at ? <span class="ch-error-at"> · {fullTime(ch.error_at)}</span> : null}
        </p>
      ) : null}
      <div class="row-start">
        <button class="btn" onClick={testNow} disabled={!!busy}>
          {busy === "test" ? <Spinner label={t("app.admin.channels.testing")} /> : null}
          {t("app.admin.channels.test")}
        </button>
        <button class="btn" onClick={pause} disabled={!!busy}>
          {ch.paused ? t("app.admin.common.resume") : t("app.admin.common.pause")}
        </button>
        <span class="grow" />
        <button class="btn danger" onClick={() => setRemoving(true)} disabled={!!busy}>
          {t("app.admin.common.remove")}
        </button>
      </div>
      {test ? (
        <p class={"ch-test " + (test.ok ? "ok-text" : "form-error")} role="status">
          {test.ok
            ? test.detail
              ? t("app.admin.channels.testOk", { detail: test.detail })
              : t("app.admin.channels.testOkDefault")
            : t("app.admin.channels.testFailed", { error: test.error || "" })}
        </p>
      ) : null}
      {removing ? (
        <Confirm
          title={t("app.admin.channels.removeTitle", { name: ch.name })}
          action={t("app.admin.common.remove")}
          onConfirm={remove}
          onClose={() => setRemoving(false)}
        >
          <p>{t("app.admin.channels.removeBody")}</p>
          <p>{t("app.admin.channels.removeDialogs")}</p>
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
    <section ref={ref} class="card ch-secrets" aria-label={t("app.admin.channels.newSecrets")}>
      <h2>{t("app.admin.channels.copySecrets", { n: names.length })}</h2>
      <p class="small">
        <strong>{t("app.admin.common.notShownAgain")}</strong> {t("app.admin.channels.keepsSecrets", { n: names.length })}
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
          <p>{t("app.admin.setup.telegramPolling")}</p>
        ) : (
          <p>{t("app.admin.setup.telegramWebhook")}</p>
        );
      break;
    case "whatsapp":
    case "messenger":
    case "instagram":
      how = (
        <ol>
          <li>
            {t("app.admin.setup.metaOpen", {
              path:
                ch.kind === "whatsapp"
                  ? t("app.admin.setup.pathWhatsapp")
                  : ch.kind === "instagram"
                    ? t("app.admin.setup.pathInstagram")
                    : t("app.admin.setup.pathMessenger"),
            })}
          </li>
          <li>
            {tp("app.admin.setup.metaPaste", {
              callback: <strong>{t("app.admin.setup.callbackUrl")}</strong>,
              verify: <strong>{t("app.admin.setup.verifyToken")}</strong>,
            })}
          </li>
          <li>
            {ch.kind === "whatsapp"
              ? t("app.admin.setup.subscribeWhatsapp")
              : ch.kind === "instagram"
                ? t("app.admin.setup.subscribeInstagram")
                : t("app.admin.setup.subscribeMessenger")}
          </li>
        </ol>
      );
      break;
    case "sms":
      how = (
        <p>{t("app.admin.setup.sms")}</p>
      );
      break;
    case "api":
      how = (
        <p>{t("app.admin.setup.api")}</p>
      );
      break;
    default:
      how = <p>{t("app.admin.setup.other")}</p>;
  }
  return (
    <section class="card ch-setup">
      <h2>{t("app.admin.setup.title")}</h2>
      <CopyRow label={t("app.admin.common.webhookUrl")} value={url} />
      {local ? <p class="small warn-text">{t("app.admin.setup.local")}</p> : null}
      <div class="small">{how}</div>
    </section>
  );
}
