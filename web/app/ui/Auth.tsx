// The sign-in screen and the first-run screen that creates the first
// administrator; the pages of e-mail links (lazy/Links.tsx) are routed
// from here too.

import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import type { ApiError } from "../api";
import * as store from "../store";
import { sentence } from "../util";
import { Sig, use } from "../sig";
import { lazy } from "./lazy";
import { t, tp } from "../../i18n/i18n";

const AcceptInvite = lazy(() => import("../lazy/Links").then((m) => m.AcceptInvite));
const ResetPassword = lazy(() => import("../lazy/Links").then((m) => m.ResetPassword));
const ForgotPassword = lazy(() => import("../lazy/Links").then((m) => m.ForgotPassword));

/** authPath is the path of the page shown before signing in. */
const authPath = new Sig(location.pathname);
addEventListener("popstate", () => (authPath.value = location.pathname));

/** goAuth moves between the sign-in page and the link pages. */
export function goAuth(path: string, replace = false) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  authPath.value = path;
}

/** linkPage reports whether the address is an e-mail link's page, shown signed in or not. */
export function linkPage(): boolean {
  return /^\/(invite|reset)\/[^/]+\/?$/.test(location.pathname);
}

/** Field is a required labelled input of the sign-in and account-link pages. */
export function Field(props: { label: string; type?: string; value: string; onInput: (v: string) => void; autoComplete?: string; autoFocus?: boolean; name: string }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        name={props.name}
        type={(props.type || "text") as "text"}
        value={props.value}
        required
        autoComplete={props.autoComplete}
        autoFocus={props.autoFocus}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
    </label>
  );
}

export function SignIn() {
  const needsSetup = use(store.needsSetup);
  const path = use(authPath);
  let m = path.match(/^\/invite\/([^/]+)\/?$/);
  if (m) return <AcceptInvite token={decodeURIComponent(m[1])} />;
  m = path.match(/^\/reset\/([^/]+)\/?$/);
  if (m) return <ResetPassword token={decodeURIComponent(m[1])} />;
  if (/^\/forgot\/?$/.test(path)) return <ForgotPassword />;
  return needsSetup ? <Setup /> : <Login />;
}

/** Provider is the sign-in provider the page offers, if any. */
function useProvider(): { enabled: boolean; label?: string } | null {
  const [p, setP] = useState<{ enabled: boolean; label?: string } | null>(null);
  useEffect(() => {
    api.get<{ enabled: boolean; label?: string }>("/auth/oidc", { quiet401: true }).then(setP, () => setP(null));
  }, []);
  return p;
}

/** signInError is why a sign-in with the provider failed (?sign_in_error=), taken from the address once. */
function takeSignInError(): string {
  const q = new URLSearchParams(location.search);
  const e = q.get("sign_in_error") || "";
  if (e) {
    q.delete("sign_in_error");
    const rest = q.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  return e;
}

function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // The second step: the account has two-factor sign-in.
  const [askCode, setAskCode] = useState(false);
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState(() => sentence(takeSignInError()));
  const provider = useProvider();
  const [busy, setBusy] = useState(false);
  // Refused for too many failures: no retry before this time (ms).
  const [waitUntil, setWaitUntil] = useState(0);
  const [, tick] = useState(0);
  const codeRef = useRef<HTMLInputElement>(null);
  const waitLeft = Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000));
  useEffect(() => {
    if (!waitLeft) return;
    const timer = setTimeout(() => tick((n) => n + 1), 1000);
    return () => clearTimeout(timer);
  });
  useEffect(() => {
    if (askCode) codeRef.current?.focus();
  }, [askCode]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await store.login(email.trim(), password, askCode ? code.trim() : "");
    } catch (err) {
      const ae = err as ApiError;
      if (ae.code === "two_factor_required") {
        setAskCode(true);
      } else {
        setError(sentence(ae.message));
        if (ae.code === "rate_limited" && ae.retryAfter) setWaitUntil(Date.now() + ae.retryAfter * 1000);
        if (askCode && ae.code === "unauthorized") {
          setCode("");
          codeRef.current?.focus();
        }
      }
      setBusy(false);
    }
  };
  const back = () => {
    setAskCode(false);
    setRecovery(false);
    setCode("");
    setError("");
  };
  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="brand" aria-hidden="true">
          <Logo />
        </div>
        <h1 id="signin-title">{askCode ? t("app.account.signIn.twoFactorTitle") : t("app.account.signIn.title")}</h1>
        {askCode ? (
          <>
            <p class="muted">
              {recovery
                ? tp("app.account.signIn.recoveryHint", { email: <strong>{email.trim()}</strong> })
                : tp("app.account.signIn.codeHint", { email: <strong>{email.trim()}</strong> })}
            </p>
            <label class="field">
              <span>{recovery ? t("app.account.signIn.recoveryCode") : t("app.account.signIn.code")}</span>
              <input
                ref={codeRef}
                name="code"
                class="code-input"
                value={code}
                required
                autoComplete="one-time-code"
                // The numeric keyboard for the app's digits; recovery codes have letters.
                inputMode={recovery ? "text" : "numeric"}
                autoCapitalize="off"
                spellcheck={false}
                maxLength={20}
                onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <p class="auth-alt">
              <button
                type="button"
                class="link"
                onClick={() => {
                  setRecovery(!recovery);
                  setCode("");
                  codeRef.current?.focus();
                }}
              >
                {recovery ? t("app.account.signIn.useApp") : t("app.account.signIn.useRecovery")}
              </button>
            </p>
          </>
        ) : (
          <>
            <Field name="email" label={t("app.account.signIn.email")} type="email" value={email} onInput={setEmail} autoComplete="username" autoFocus />
            <Field name="password" label={t("app.account.signIn.password")} type="password" value={password} onInput={setPassword} autoComplete="current-password" />
          </>
        )}
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button class="btn primary block" type="submit" disabled={busy || waitLeft > 0}>
          {busy
            ? t("app.account.signIn.busy")
            : waitLeft > 0
              ? t("app.account.signIn.tryAgainIn", { wait: waitText(waitLeft) })
              : askCode
                ? t("app.account.signIn.verify")
                : t("app.account.signIn.submit")}
        </button>
        {askCode ? (
          <button type="button" class="btn block auth-back" onClick={back}>
            {t("app.account.signIn.otherAccount")}
          </button>
        ) : (
          <>
            <p class="auth-forgot">
              <a
                href="/forgot"
                class="link"
                onClick={(e) => {
                  e.preventDefault();
                  goAuth("/forgot");
                }}
              >
                {t("app.account.signIn.forgot")}
              </a>
            </p>
            {provider?.enabled ? (
              <>
                <div class="auth-or" role="separator">
                  <span>{t("app.account.signIn.or")}</span>
                </div>
                <a class="btn block sso-btn" href="/api/v1/auth/oidc/start">
                  {t("app.account.signIn.withProvider", { name: provider.label || "" })}
                </a>
              </>
            ) : null}
          </>
        )}
      </form>
    </main>
  );
}

/** waitText: seconds as "42 s" or "3 min". */
function waitText(s: number): string {
  return s < 60 ? t("app.account.signIn.seconds", { n: s }) : t("app.account.signIn.minutes", { n: Math.ceil(s / 60) });
}

function Setup() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setError(t("app.account.setup.differ"));
      return;
    }
    setBusy(true);
    setError("");
    try {
      await store.setup(name.trim(), email.trim(), password);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit} aria-labelledby="setup-title">
        <div class="brand" aria-hidden="true">
          <Logo />
        </div>
        <h1 id="setup-title">{t("app.account.setup.title")}</h1>
        <p class="muted">{t("app.account.setup.intro")}</p>
        <Field name="name" label={t("app.account.setup.name")} value={name} onInput={setName} autoComplete="name" autoFocus />
        <Field name="email" label={t("app.account.signIn.email")} type="email" value={email} onInput={setEmail} autoComplete="username" />
        <Field name="password" label={t("app.account.setup.password")} type="password" value={password} onInput={setPassword} autoComplete="new-password" />
        <Field name="password2" label={t("app.account.setup.again")} type="password" value={again} onInput={setAgain} autoComplete="new-password" />
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button class="btn primary block" type="submit" disabled={busy}>
          {busy ? t("app.account.setup.busy") : t("app.account.setup.submit")}
        </button>
      </form>
    </main>
  );
}

export function Logo() {
  return (
    <svg width="44" height="44" viewBox="0 0 64 64" aria-hidden="true">
      <rect x="4" y="8" width="52" height="40" rx="12" fill="#3457d5" />
      <path d="M16 44 12 60 30 46z" fill="#3457d5" />
      <path d="M18 24h28M18 33h18" stroke="#fff" stroke-width="5" stroke-linecap="round" />
    </svg>
  );
}
