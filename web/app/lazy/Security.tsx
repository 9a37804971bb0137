// Sign-in security, loaded on demand: setting up two-factor sign-in (the
// QR code, the secret, a first code, then the recovery codes shown once),
// the full-screen set-up an administrator must go through when the
// organisation requires it, and the Security section of Settings
// (password, two-factor, sessions).

import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { ApiError } from "../api";
import { use } from "../sig";
import * as store from "../store";
import type { Rotated, SessionInfo, TwoFactorStatus } from "../types";
import { copyText, fullTime, sentence } from "../util";
import { Logo } from "../ui/Auth";
import { Modal, Spinner } from "../ui/common";
import { CopyRow } from "../ui/fields";
import { t, tp } from "../../i18n/i18n";

/** CodeField: a one-time code input (the phone offers the code it just received). */
function CodeField(props: { id: string; label: string; value: string; onInput: (v: string) => void; autoFocus?: boolean; recovery?: boolean }) {
  return (
    <label class="field" for={props.id}>
      <span>{props.label}</span>
      <input
        id={props.id}
        class="code-input"
        value={props.value}
        required
        autoComplete="one-time-code"
        inputMode={props.recovery ? "text" : "numeric"}
        autoCapitalize="off"
        spellcheck={false}
        maxLength={props.recovery ? 20 : 7}
        pattern={props.recovery ? undefined : "[0-9 ]{6,7}"}
        autoFocus={props.autoFocus}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
    </label>
  );
}

/**
 * TwoFactorSetup walks through turning two-factor sign-in on: a new secret
 * (QR code and text), a first code from the app, then the recovery codes,
 * which are shown this once. onDone runs after "I saved them".
 */
export function TwoFactorSetup(props: { onDone: () => void; onCancel?: () => void }) {
  const [setup, setSetup] = useState<{ secret: string; url: string; qr: string } | null>(null);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.post<{ secret: string; url: string; qr: string }>("/me/two-factor/setup").then(setSetup, (e) => setErr(sentence((e as Error).message)));
  }, []);
  if (codes) return <RecoveryCodes codes={codes} onDone={props.onDone} />;
  const enable = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<Rotated>("/me/two-factor/enable", { code: code.replace(/\s/g, "") });
      store.rotated(out);
      const u = store.me.value;
      if (u) store.me.value = { ...u, two_factor: true };
      setCodes(out.recovery_codes || []);
    } catch (e) {
      setErr(sentence((e as Error).message));
      setCode("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="tf-setup" onSubmit={enable}>
      <ol class="tf-steps">
        <li>
          <p>{t("app.account.twoFactor.step1")}</p>
          {setup ? (
            <>
              <img class="tf-qr" src={setup.qr} width={200} height={200} alt={t("app.account.twoFactor.qr")} />
              <CopyRow label={t("app.account.twoFactor.byHand")} value={setup.secret.replace(/(.{4})/g, "$1 ").trim()} />
            </>
          ) : err ? null : (
            <Spinner label={t("app.account.twoFactor.preparing")} />
          )}
        </li>
        <li>
          <p>{t("app.account.twoFactor.step2")}</p>
          <CodeField id="tf-enable-code" label={t("app.account.twoFactor.code")} value={code} onInput={setCode} />
        </li>
      </ol>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <div class="row-end">
        {props.onCancel ? (
          <button type="button" class="btn" onClick={props.onCancel}>
            {t("app.account.twoFactor.cancel")}
          </button>
        ) : null}
        <button class="btn primary" disabled={busy || !setup || code.replace(/\s/g, "").length !== 6}>
          {busy ? t("app.account.twoFactor.checking") : t("app.account.twoFactor.turnOn")}
        </button>
      </div>
    </form>
  );
}

/** RecoveryCodes shows the codes once, to copy or download, and asks that they were saved. */
function RecoveryCodes(props: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const text = props.codes.join("\n") + "\n";
  const copy = async () => {
    try {
      await copyText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch (e) {
      store.fail(e);
    }
  };
  const download = () => {
    const who = store.me.value?.email || "";
    const head = who ? t("app.account.recovery.fileTitleFor", { email: who, host: location.host }) : t("app.account.recovery.fileTitle", { host: location.host });
    const body = head + "\n" + t("app.account.recovery.fileNote") + "\n\n" + text;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([body], { type: "text/plain" }));
    a.download = "parley-recovery-codes.txt";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <div class="tf-codes">
      <p class="ok-text">
        <strong>{t("app.account.recovery.on")}</strong>
      </p>
      <p>
        {t("app.account.recovery.save")} <strong>{t("app.account.recovery.once")}</strong>
      </p>
      <ul class="recovery-codes" aria-label={t("app.account.recovery.label")}>
        {props.codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <div class="tf-code-actions">
        <button type="button" class="btn" onClick={copy}>
          {copied ? t("app.account.recovery.copied") : t("app.account.recovery.copy")}
        </button>
        <button type="button" class="btn" onClick={download}>
          {t("app.account.recovery.download")}
        </button>
      </div>
      <label class="toggle">
        <input type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
        <span class="toggle-text">{t("app.account.recovery.saved")}</span>
      </label>
      <div class="row-end">
        <button type="button" class="btn primary" disabled={!saved} onClick={props.onDone}>
          {t("app.account.recovery.continue")}
        </button>
      </div>
    </div>
  );
}

/** ForcedSetup replaces the app while the organisation requires this administrator to set up two-factor sign-in. */
export function ForcedSetup() {
  const me = use(store.me);
  return (
    <main class="auth">
      <section class="auth-card wide" aria-labelledby="tf-forced-title">
        <div class="brand" aria-hidden="true">
          <Logo />
        </div>
        <h1 id="tf-forced-title">{tp("app.account.forced.title", { signIn: <span class="nowrap">{t("app.account.forced.titleNowrap")}</span> })}</h1>
        <p class="muted">{me ? tp("app.account.forced.textAs", { email: <strong>{me.email}</strong> }) : t("app.account.forced.text")}</p>
        <TwoFactorSetup onDone={() => store.setUpDone()} />
        <p class="tf-signout">
          <button type="button" class="link" onClick={() => store.logout()}>
            {t("app.account.forced.signOut")}
          </button>
        </p>
      </section>
    </main>
  );
}

/** SecuritySection: Settings' password, two-factor and sessions. */
export function SecuritySection() {
  return (
    <section class="card" aria-labelledby="security-title">
      <h2 id="security-title">{t("app.account.security.title")}</h2>
      <ChangePassword />
      <TwoFactorCard />
      <Sessions />
    </section>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [msg, setMsg] = useState("");
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setMsg("");
    try {
      store.rotated(await api.post<Rotated>("/me/password", { current_password: current, password: next }));
      setCurrent("");
      setNext("");
      setMsg(t("app.account.password.changed"));
      sessionsChanged();
    } catch (e) {
      setErr(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sec-block" onSubmit={submit} aria-labelledby="pw-title">
      <h3 id="pw-title">{t("app.account.password.title")}</h3>
      <div class="sec-fields">
        <label class="field">
          <span>{t("app.account.password.current")}</span>
          <input
            class="input"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            aria-invalid={err?.field === "current_password" ? true : undefined}
            onInput={(e) => setCurrent((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          <span>{t("app.account.password.new")}</span>
          <input
            class="input"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={next}
            aria-invalid={err?.field === "password" ? true : undefined}
            onInput={(e) => setNext((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </div>
      {err ? (
        <p class="form-error" role="alert">
          {sentence(err.message)}
        </p>
      ) : null}
      {msg ? (
        <p class="ok-text" role="status">
          {msg}
        </p>
      ) : null}
      <button class="btn" disabled={busy || !current || next.length < 8}>
        {busy ? t("app.account.password.busy") : t("app.account.password.change")}
      </button>
    </form>
  );
}

function TwoFactorCard() {
  const [st, setSt] = useState<TwoFactorStatus | null>(null);
  const [err, setErr] = useState("");
  const [dialog, setDialog] = useState<"" | "on" | "off">("");
  const load = () => api.get<TwoFactorStatus>("/me/two-factor").then(setSt, (e) => setErr(sentence((e as Error).message)));
  useEffect(() => {
    load();
  }, []);
  return (
    <div class="sec-block" aria-labelledby="tf-title">
      <h3 id="tf-title">{t("app.account.twoFactor.title")}</h3>
      {!st ? (
        err ? (
          <p class="form-error">{err}</p>
        ) : (
          <Spinner />
        )
      ) : st.enabled ? (
        <>
          <p>
            <span class="pill on">{t("app.account.twoFactor.on")}</span> {t("app.account.twoFactor.onText")}{" "}
            <span class={st.recovery_codes_left <= 2 ? "warn-text" : "muted"}>{t("app.account.twoFactor.codesLeft", { n: st.recovery_codes_left })}</span>
          </p>
          {st.required ? (
            <p class="muted">{t("app.account.twoFactor.required")}</p>
          ) : (
            <button class="btn" onClick={() => setDialog("off")}>
              {t("app.account.twoFactor.turnOffMore")}
            </button>
          )}
        </>
      ) : (
        <>
          <p>
            <span class="pill">{t("app.account.twoFactor.off")}</span> {t("app.account.twoFactor.offText")}
          </p>
          <button class="btn primary" onClick={() => setDialog("on")}>
            {t("app.account.twoFactor.setUp")}
          </button>
        </>
      )}
      {dialog === "on" ? (
        <Modal title={t("app.account.twoFactor.setUp")} onClose={() => (setDialog(""), load())}>
          <TwoFactorSetup
            onCancel={() => setDialog("")}
            onDone={() => {
              setDialog("");
              load();
              sessionsChanged();
            }}
          />
        </Modal>
      ) : null}
      {dialog === "off" ? (
        <TurnOff
          onClose={() => setDialog("")}
          onDone={() => {
            setDialog("");
            load();
            sessionsChanged();
          }}
        />
      ) : null}
    </div>
  );
}

function TurnOff(props: { onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      store.rotated(await api.post<Rotated>("/me/two-factor/disable", { password, code: code.trim() }));
      const u = store.me.value;
      if (u) store.me.value = { ...u, two_factor: false };
      store.toast(t("app.account.turnOff.done"));
      props.onDone();
    } catch (e) {
      setErr(sentence((e as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={t("app.account.turnOff.title")} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>{t("app.account.turnOff.text")}</p>
        <label class="field">
          <span>{t("app.account.turnOff.password")}</span>
          <input class="input" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <CodeField id="tf-off-code" label={t("app.account.turnOff.code")} value={code} onInput={setCode} recovery />
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.account.turnOff.cancel")}
          </button>
          <button class="btn danger" disabled={busy || !password || !code.trim()}>
            {t("app.account.turnOff.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Sessions is asked to reload after a change that signs other sessions out. */
let sessionsChanged = () => {};

function Sessions() {
  const [list, setList] = useState<SessionInfo[] | null>(null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(0);
  const alive = useRef(true);
  const load = () =>
    api.get<SessionInfo[]>("/me/tokens").then(
      (l) => alive.current && setList(l.filter((s) => s.kind === "session").sort((a, b) => Number(!!b.current) - Number(!!a.current) || b.last_used_at.localeCompare(a.last_used_at))),
      (e) => alive.current && setErr(sentence((e as Error).message)),
    );
  useEffect(() => {
    alive.current = true;
    sessionsChanged = load;
    load();
    return () => {
      alive.current = false;
      sessionsChanged = () => {};
    };
  }, []);
  const end = async (id: number) => {
    setBusy(id);
    try {
      await api.del(`/me/tokens/${id}`);
      await load();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy(0);
    }
  };
  const endOthers = async () => {
    setBusy(-1);
    try {
      const out = await api.post<{ ended: number }>("/me/tokens/sign-out-others");
      store.toast(t("app.account.sessions.ended", { n: out.ended }));
      await load();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy(0);
    }
  };
  const others = list ? list.filter((s) => !s.current).length : 0;
  return (
    <div class="sec-block" aria-labelledby="sessions-title">
      <h3 id="sessions-title">{t("app.account.sessions.title")}</h3>
      {!list ? (
        err ? (
          <p class="form-error">{err}</p>
        ) : (
          <Spinner />
        )
      ) : (
        <>
          <ul class="sessions" aria-label={t("app.account.sessions.label")}>
            {list.map((s) => (
              <li key={s.id} class={"session" + (s.current ? " current" : "")}>
                <div class="session-main">
                  <strong class="session-client">{describeClient(s.client)}</strong>
                  {s.current ? <span class="pill on">{t("app.account.sessions.thisDevice")}</span> : null}
                  <span class="session-meta muted">
                    {s.addr ? <span>{s.addr}</span> : null}
                    <span>{t("app.account.sessions.signedIn", { when: fullTime(s.created_at) })}</span>
                    <span>{t("app.account.sessions.lastActive", { when: fullTime(s.last_used_at) })}</span>
                  </span>
                </div>
                {s.current ? null : (
                  <button
                    class="btn small"
                    disabled={busy !== 0}
                    onClick={() => end(s.id)}
                    aria-label={
                      s.addr
                        ? t("app.account.sessions.signOutAt", { client: describeClient(s.client), addr: s.addr })
                        : t("app.account.sessions.signOutClient", { client: describeClient(s.client) })
                    }
                  >
                    {t("app.account.sessions.signOut")}
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button class="btn" disabled={busy !== 0 || others === 0} onClick={endOthers}>
            {t("app.account.sessions.signOutOthers")}
          </button>
        </>
      )}
    </div>
  );
}

/** describeClient turns a User-Agent into something a person recognises: "Chrome on Linux". */
export function describeClient(ua: string | undefined): string {
  if (!ua) return t("app.account.client.unknown");
  const m = (re: RegExp) => re.test(ua);
  let browser = "";
  if (m(/Edg(e|A|iOS)?\//)) browser = "Edge"; // i18n-ignore: a browser's name
  else if (m(/OPR\/|Opera/)) browser = "Opera"; // i18n-ignore: a browser's name
  else if (m(/SamsungBrowser\//)) browser = "Samsung Internet"; // i18n-ignore: a browser's name
  else if (m(/Firefox\/|FxiOS\//)) browser = "Firefox"; // i18n-ignore: a browser's name
  else if (m(/HeadlessChrome\//)) browser = "Headless Chrome"; // i18n-ignore: a browser's name
  else if (m(/Chromium\//)) browser = "Chromium"; // i18n-ignore: a browser's name
  else if (m(/Chrome\/|CriOS\//)) browser = "Chrome"; // i18n-ignore: a browser's name
  else if (m(/Safari\//) && m(/Version\//)) browser = "Safari"; // i18n-ignore: a browser's name
  else if (m(/^parley|^Parley/)) browser = ua.split(/[\s/]/)[0];
  else if (m(/^curl\//)) browser = "curl";
  else if (m(/^Go-http-client/)) browser = t("app.account.client.go");
  else if (m(/^node|undici/)) browser = t("app.account.client.node");
  let os = "";
  if (m(/iPhone|iPad|iPod/)) os = m(/iPad/) ? "iPad" : "iPhone";
  else if (m(/Android/)) os = "Android"; // i18n-ignore: a system's name
  else if (m(/Windows/)) os = "Windows"; // i18n-ignore: a system's name
  else if (m(/CrOS/)) os = "ChromeOS";
  else if (m(/Mac OS X|Macintosh/)) os = "macOS";
  else if (m(/Linux|X11/)) os = "Linux"; // i18n-ignore: a system's name
  if (!browser && !os) return ua.length > 40 ? ua.slice(0, 40) + "…" : ua;
  if (!browser) return t("app.account.client.browserOn", { os });
  return os ? t("app.account.client.on", { browser, os }) : browser;
}
