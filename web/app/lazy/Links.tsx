// The pages reached from an e-mail link or before signing in: accepting
// an invitation (/invite/{token}), asking for a password reset (/forgot)
// and setting a new password (/reset/{token}). Loaded on demand.

import { useEffect, useState } from "preact/hooks";
import { t, tp } from "../../i18n/i18n";
import * as api from "../api";
import * as store from "../store";
import { Field, Logo, goAuth } from "../ui/Auth";
import { Spinner } from "../ui/common";
import { fullTime, sentence } from "../util";

interface InviteInfo {
  email: string;
  role: string;
  expires_at: string;
  two_factor_required: boolean;
}

interface ResetInfo {
  email: string;
  expires_at: string;
}

/** home leaves a link page for the app (or the sign-in page). */
function home() {
  goAuth("/", true);
  store.boot();
}

function Card(props: { title: string; children: preact.ComponentChildren; onSubmit?: (e: Event) => void; id: string }) {
  const body = (
    <>
      <div class="brand" aria-hidden="true">
        <Logo />
      </div>
      <h1 id={props.id}>{props.title}</h1>
      {props.children}
    </>
  );
  return (
    <main class="auth">
      {props.onSubmit ? (
        <form class="auth-card" onSubmit={props.onSubmit} aria-labelledby={props.id}>
          {body}
        </form>
      ) : (
        <section class="auth-card" aria-labelledby={props.id}>
          {body}
        </section>
      )}
    </main>
  );
}

function Gone(props: { title: string; message: string; id: string }) {
  return (
    <Card title={props.title} id={props.id}>
      <p class="form-error" role="alert">
        {props.message}
      </p>
      <button type="button" class="btn block" onClick={home}>
        {t("app.tasks.links.goHome")}
      </button>
    </Card>
  );
}

const ROLE_NAMES: Record<string, string> = {
  admin: "app.tasks.links.roleAdmin",
  supervisor: "app.tasks.links.roleSupervisor",
  agent: "app.tasks.links.roleAgent",
  member: "app.tasks.links.roleMember",
};

/** AcceptInvite: choose a name and password, and be signed in. */
export function AcceptInvite(props: { token: string }) {
  const [info, setInfo] = useState<InviteInfo | null>(null);
  const [gone, setGone] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<InviteInfo>(`/auth/invites/${encodeURIComponent(props.token)}`, { quiet401: true }).then(setInfo, (e) => setGone(sentence((e as Error).message)));
  }, [props.token]);
  if (gone) return <Gone id="invite-title" title={t("app.tasks.links.inviteGone")} message={gone} />;
  if (!info)
    return (
      <Card title={t("app.tasks.links.invitation")} id="invite-title">
        <Spinner />
      </Card>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setErr(t("app.tasks.links.differ"));
      return;
    }
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<{ csrf_token: string }>("/auth/invites/accept", { token: props.token, name: name.trim(), password });
      api.setCSRF(out.csrf_token);
      home();
    } catch (x) {
      setErr(sentence((x as Error).message));
      setBusy(false);
    }
  };
  return (
    <Card title={t("app.tasks.links.join")} id="invite-title" onSubmit={submit}>
      <p class="muted">{tp("app.tasks.links.invited", { role: ROLE_NAMES[info.role] ? t(ROLE_NAMES[info.role]) : info.role, email: <strong>{info.email}</strong> })}</p>
      {info.two_factor_required ? (
        <p class="muted small">{t("app.tasks.links.twoFactor")}</p>
      ) : null}
      <Field name="name" label={t("app.tasks.links.fullName")} value={name} onInput={setName} autoComplete="name" autoFocus />
      <Field name="password" label={t("app.tasks.links.password")} type="password" value={password} onInput={setPassword} autoComplete="new-password" />
      <Field name="password2" label={t("app.tasks.links.passwordAgain")} type="password" value={again} onInput={setAgain} autoComplete="new-password" />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? t("app.tasks.links.joining") : t("app.tasks.links.joinSignIn")}
      </button>
      <p class="muted small link-note">{t("app.tasks.links.once", { time: fullTime(info.expires_at) })}</p>
    </Card>
  );
}

/** ForgotPassword asks for a reset link by e-mail. */
export function ForgotPassword() {
  const [available, setAvailable] = useState<boolean | null>(null);
  const [email, setEmail] = useState("");
  const [done, setDone] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<{ available: boolean }>("/auth/password-reset", { quiet401: true }).then(
      (a) => setAvailable(a.available),
      () => setAvailable(false),
    );
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<{ message: string }>("/auth/password-reset", { email: email.trim() });
      setDone(out.message);
    } catch (x) {
      setErr(sentence((x as Error).message));
    } finally {
      setBusy(false);
    }
  };
  if (available === null)
    return (
      <Card title={t("app.tasks.links.forgot")} id="forgot-title">
        <Spinner />
      </Card>
    );
  if (!available)
    return (
      <Card title={t("app.tasks.links.forgot")} id="forgot-title">
        <p class="muted">{t("app.tasks.links.noMail")}</p>
        <button type="button" class="btn block" onClick={home}>
          {t("app.tasks.links.back")}
        </button>
      </Card>
    );
  if (done)
    return (
      <Card title={t("app.tasks.links.checkMail")} id="forgot-title">
        <p role="status">{done}</p>
        <p class="muted small">{t("app.tasks.links.nothingArrived")}</p>
        <button type="button" class="btn block" onClick={home}>
          {t("app.tasks.links.back")}
        </button>
      </Card>
    );
  return (
    <Card title={t("app.tasks.links.forgot")} id="forgot-title" onSubmit={submit}>
      <p class="muted">{t("app.tasks.links.enterEmail")}</p>
      <Field name="email" label={t("app.tasks.links.email")} type="email" value={email} onInput={setEmail} autoComplete="username" autoFocus />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? t("app.tasks.links.sending") : t("app.tasks.links.send")}
      </button>
      <button type="button" class="btn block auth-back" onClick={() => goAuth("/")}>
        {t("app.tasks.links.back")}
      </button>
    </Card>
  );
}

/** ResetPassword sets a new password with a reset link. */
export function ResetPassword(props: { token: string }) {
  const [info, setInfo] = useState<ResetInfo | null>(null);
  const [gone, setGone] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<ResetInfo>(`/auth/password-reset/${encodeURIComponent(props.token)}`, { quiet401: true }).then(setInfo, (e) => setGone(sentence((e as Error).message)));
  }, [props.token]);
  if (gone) return <Gone id="reset-title" title={t("app.tasks.links.resetGone")} message={t("app.tasks.links.askNew", { reason: gone })} />;
  if (!info)
    return (
      <Card title={t("app.tasks.links.setNew")} id="reset-title">
        <Spinner />
      </Card>
    );
  if (done)
    return (
      <Card title={t("app.tasks.links.changed")} id="reset-title">
        <p role="status">{t("app.tasks.links.changedText")}</p>
        <button type="button" class="btn primary block" onClick={home}>
          {t("app.tasks.links.signIn")}
        </button>
      </Card>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setErr(t("app.tasks.links.differ"));
      return;
    }
    setBusy(true);
    setErr("");
    try {
      await api.post("/auth/password-reset/confirm", { token: props.token, password });
      setDone(true);
    } catch (x) {
      setErr(sentence((x as Error).message));
      setBusy(false);
    }
  };
  return (
    <Card title={t("app.tasks.links.setNew")} id="reset-title" onSubmit={submit}>
      <p class="muted">{tp("app.tasks.links.resetFor", { email: <strong>{info.email}</strong> })}</p>
      <Field name="password" label={t("app.tasks.links.newPassword")} type="password" value={password} onInput={setPassword} autoComplete="new-password" autoFocus />
      <Field name="password2" label={t("app.tasks.links.newPasswordAgain")} type="password" value={again} onInput={setAgain} autoComplete="new-password" />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? t("app.tasks.links.saving") : t("app.tasks.links.setTheNew")}
      </button>
    </Card>
  );
}
