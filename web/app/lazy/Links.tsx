// The pages reached from an e-mail link or before signing in: accepting
// an invitation (/invite/{token}), asking for a password reset (/forgot)
// and setting a new password (/reset/{token}). Loaded on demand.

import { useEffect, useState } from "preact/hooks";
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
        Go to Parley
      </button>
    </Card>
  );
}

const ROLE_NAMES: Record<string, string> = { admin: "an administrator", supervisor: "a supervisor", agent: "an agent", member: "a member" };

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
  if (gone) return <Gone id="invite-title" title="This invitation link does not work" message={gone} />;
  if (!info)
    return (
      <Card title="Invitation" id="invite-title">
        <Spinner />
      </Card>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setErr("The two passwords differ.");
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
    <Card title="Join Parley" id="invite-title" onSubmit={submit}>
      <p class="muted">
        You are invited as {ROLE_NAMES[info.role] || info.role}, with the address <strong>{info.email}</strong>. Choose the name your colleagues see and a
        password.
      </p>
      {info.two_factor_required ? (
        <p class="muted small">The organisation requires administrators to use two-factor sign-in: you set it up with an authenticator app right after this.</p>
      ) : null}
      <Field name="name" label="Full name" value={name} onInput={setName} autoComplete="name" autoFocus />
      <Field name="password" label="Password (at least 8 characters)" type="password" value={password} onInput={setPassword} autoComplete="new-password" />
      <Field name="password2" label="Password again" type="password" value={again} onInput={setAgain} autoComplete="new-password" />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? "Joining…" : "Join and sign in"}
      </button>
      <p class="muted small link-note">The link works once, until {fullTime(info.expires_at)}.</p>
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
      <Card title="Forgot your password?" id="forgot-title">
        <Spinner />
      </Card>
    );
  if (!available)
    return (
      <Card title="Forgot your password?" id="forgot-title">
        <p class="muted">This server cannot send e-mail, so it cannot send you a reset link. Ask an administrator to set a new password for you.</p>
        <button type="button" class="btn block" onClick={home}>
          Back to sign-in
        </button>
      </Card>
    );
  if (done)
    return (
      <Card title="Check your mail" id="forgot-title">
        <p role="status">{done}</p>
        <p class="muted small">Nothing arrived? Check the spam folder, and that you typed the address your account uses.</p>
        <button type="button" class="btn block" onClick={home}>
          Back to sign-in
        </button>
      </Card>
    );
  return (
    <Card title="Forgot your password?" id="forgot-title" onSubmit={submit}>
      <p class="muted">Enter the e-mail address of your account: we send a link to set a new password.</p>
      <Field name="email" label="E-mail" type="email" value={email} onInput={setEmail} autoComplete="username" autoFocus />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? "Sending…" : "Send the link"}
      </button>
      <button type="button" class="btn block auth-back" onClick={() => goAuth("/")}>
        Back to sign-in
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
  if (gone) return <Gone id="reset-title" title="This reset link does not work" message={gone + " Ask for a new one from the sign-in page."} />;
  if (!info)
    return (
      <Card title="Set a new password" id="reset-title">
        <Spinner />
      </Card>
    );
  if (done)
    return (
      <Card title="Password changed" id="reset-title">
        <p role="status">Your new password is set, and you are signed out everywhere. Sign in with it now.</p>
        <button type="button" class="btn primary block" onClick={home}>
          Sign in
        </button>
      </Card>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setErr("The two passwords differ.");
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
    <Card title="Set a new password" id="reset-title" onSubmit={submit}>
      <p class="muted">
        For <strong>{info.email}</strong>. Setting it signs you out on every device; two-factor sign-in, if you use it, stays on.
      </p>
      <Field name="password" label="New password (at least 8 characters)" type="password" value={password} onInput={setPassword} autoComplete="new-password" autoFocus />
      <Field name="password2" label="New password again" type="password" value={again} onInput={setAgain} autoComplete="new-password" />
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <button class="btn primary block" type="submit" disabled={busy}>
        {busy ? "Saving…" : "Set the new password"}
      </button>
    </Card>
  );
}
