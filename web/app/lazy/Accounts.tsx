// Administration of accounts by e-mail link and of the sign-in provider
// (loaded on demand): invitations with their pending list (resend,
// revoke), and the OpenID Connect provider's settings.

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import * as store from "../store";
import type { Group, Role } from "../types";
import { Spinner } from "../ui/common";
import { copyText, fullTime, sentence } from "../util";

interface Invite {
  id: number;
  email: string;
  role: Role;
  group_ids: number[];
  created_at: string;
  expires_at: string;
  sent_at?: string;
}

interface InviteSent {
  invite: Invite;
  mailed: boolean;
  mail_error?: string;
  link?: string;
}

const ROLE_LABELS: Record<string, string> = { member: "Member", agent: "Agent", supervisor: "Supervisor", admin: "Administrator" };

/** LinkToPass shows an invitation link the administrator must pass on, and why. */
function LinkToPass(props: { sent: InviteSent; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="notice" role="status" data-testid="invite-link">
      <p>
        <strong>The invitation to {props.sent.invite.email} was not e-mailed:</strong> {sentence(props.sent.mail_error || "")} Send this link yourself; it works
        once, for 7 days.
      </p>
      <div class="invite-link">
        <input class="input" readOnly value={props.sent.link} aria-label="Invitation link" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button
          type="button"
          class="btn small"
          onClick={async () => {
            await copyText(props.sent.link || "");
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" class="btn small" onClick={props.onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

/** InvitesCard: invite people by e-mail and manage the pending invitations. */
export function InvitesCard() {
  const me = store.me.value!;
  const [list, setList] = useState<Invite[] | null>(null);
  const [mailer, setMailer] = useState(true);
  const [groups, setGroups] = useState<Group[]>([]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [group, setGroup] = useState(0);
  const [pass, setPass] = useState<InviteSent | null>(null);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const load = () =>
    api.get<{ invites: Invite[]; mailer: boolean }>("/invites").then(
      (r) => {
        setList(r.invites);
        setMailer(r.mailer);
      },
      (e) => setErr(sentence((e as Error).message)),
    );
  useEffect(() => {
    load();
    api.get<{ groups: Group[] }>("/groups").then(
      (g) => setGroups(g.groups),
      () => {},
    );
  }, []);
  const sent = (out: InviteSent, verb: string) => {
    if (out.mailed) {
      setPass(null);
      store.toast(`${verb} to ${out.invite.email}`);
    } else setPass(out);
    load();
  };
  const invite = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const out = await api.post<InviteSent>("/invites", { email: email.trim(), role, group_ids: group ? [group] : [] });
      setEmail("");
      sent(out, "Invitation e-mailed");
    } catch (x) {
      setErr(sentence((x as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const resend = async (inv: Invite) => {
    try {
      sent(await api.post<InviteSent>(`/invites/${inv.id}/resend`), "Invitation sent again");
    } catch (x) {
      store.fail(x);
    }
  };
  const revoke = async (inv: Invite) => {
    if (!confirm(`Revoke the invitation to ${inv.email}? Its link stops working.`)) return;
    try {
      await api.del(`/invites/${inv.id}`);
      if (pass?.invite.id === inv.id) setPass(null);
      load();
    } catch (x) {
      store.fail(x);
    }
  };
  const groupName = (id: number) => groups.find((g) => g.id === id)?.name || `#${id}`;
  const now = Date.now();
  return (
    <section class="card" aria-labelledby="invites-title">
      <div class="card-head">
        <h2 id="invites-title">Invitations</h2>
      </div>
      <p class="muted small">
        {mailer
          ? "The invitee receives an e-mail with a link to choose a name and password. The link works once, for 7 days."
          : "No mail server is configured (--smtp-url), so you get each invitation's link to send yourself. It works once, for 7 days."}
      </p>
      <form class="invite-form" onSubmit={invite}>
        <label class="field">
          <span>E-mail</span>
          <input class="input" name="invite-email" type="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Role</span>
          <select class="input" name="invite-role" value={role} onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as Role)}>
            {Object.entries(ROLE_LABELS).map(([r, l]) => (
              <option key={r} value={r} disabled={r === "admin" && me.role !== "admin"}>
                {l}
              </option>
            ))}
          </select>
        </label>
        {groups.length ? (
          <label class="field">
            <span>Group</span>
            <select class="input" name="invite-group" value={group} onChange={(e) => setGroup(Number((e.currentTarget as HTMLSelectElement).value))}>
              <option value={0}>None</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button class="btn primary" disabled={busy}>
          {busy ? "Inviting…" : "Invite"}
        </button>
      </form>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      {pass ? <LinkToPass sent={pass} onClose={() => setPass(null)} /> : null}
      {list === null ? (
        <Spinner />
      ) : !list.length ? (
        <p class="muted">No pending invitations.</p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label="Pending invitations">
            <thead>
              <tr>
                <th>E-mail</th>
                <th>Role</th>
                <th>Sent</th>
                <th>Link works until</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {list.map((inv) => {
                const expired = new Date(inv.expires_at).getTime() <= now;
                return (
                  <tr key={inv.id} data-email={inv.email}>
                    <td class="ellipsis" data-label="E-mail">
                      {inv.email}
                    </td>
                    <td data-label="Role">
                      {ROLE_LABELS[inv.role] || inv.role}
                      {inv.group_ids.length ? <span class="muted small"> · {inv.group_ids.map(groupName).join(", ")}</span> : null}
                    </td>
                    <td data-label="Sent">{inv.sent_at ? fullTime(inv.sent_at) : <span class="muted">not e-mailed</span>}</td>
                    <td data-label="Until" class={expired ? "expired" : ""}>
                      {expired ? "Expired" : fullTime(inv.expires_at)}
                    </td>
                    <td class="row-actions">
                      <button class="btn small" onClick={() => resend(inv)}>
                        {mailer ? "Resend" : "New link"}
                      </button>{" "}
                      <button class="btn small danger" onClick={() => revoke(inv)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface OIDCSettings {
  enabled: boolean;
  issuer: string;
  client_id: string;
  client_secret?: string;
  client_secret_set: boolean;
  button_label: string;
  allow_signup: boolean;
  signup_role: Role;
}

/** ProviderCard: the OpenID Connect sign-in provider (administrators). */
export function ProviderCard() {
  const [s, setS] = useState<OIDCSettings | null>(null);
  const [secret, setSecret] = useState("");
  const [err, setErr] = useState("");
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<OIDCSettings>("/oidc").then(setS, (e) => setErr(sentence((e as Error).message)));
  }, []);
  if (!s) return <section class="card">{err ? <p class="form-error">{err}</p> : <Spinner />}</section>;
  const set = (p: Partial<OIDCSettings>) => {
    setS({ ...s, ...p });
    setSaved(false);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      setS(await api.put<OIDCSettings>("/oidc", { ...s, client_secret: secret }));
      setSecret("");
      setSaved(true);
    } catch (x) {
      setErr(sentence((x as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const callback = location.origin + "/api/v1/auth/oidc/callback";
  const text = (k: "issuer" | "client_id" | "button_label", label: string, placeholder: string) => (
    <label class="field">
      <span>{label}</span>
      <input class="input" name={"oidc-" + k} value={s[k]} placeholder={placeholder} onInput={(e) => set({ [k]: (e.currentTarget as HTMLInputElement).value })} />
    </label>
  );
  return (
    <section class="card" aria-labelledby="oidc-title">
      <h2 id="oidc-title">Sign-in provider (OpenID Connect)</h2>
      <p class="muted small">
        Let people sign in with your organisation's identity provider (Keycloak, Google, Microsoft Entra ID, Authentik…). Register Parley there as a
        confidential client with the redirect URI <code>{callback}</code>. People are matched to accounts by their verified e-mail address.
      </p>
      <form onSubmit={save}>
        {text("issuer", "Issuer URL", "https://id.example.com/realms/staff")}
        {text("client_id", "Client ID", "parley")}
        <label class="field">
          <span>Client secret</span>
          <input
            class="input"
            name="oidc-client_secret"
            type="password"
            autoComplete="off"
            value={secret}
            placeholder={s.client_secret_set ? "Stored — leave empty to keep it" : ""}
            onInput={(e) => {
              setSecret((e.currentTarget as HTMLInputElement).value);
              setSaved(false);
            }}
          />
        </label>
        {text("button_label", "Button label (“Sign in with …”)", "Company SSO")}
        <label class="toggle">
          <input type="checkbox" name="oidc-allow_signup" checked={s.allow_signup} onChange={(e) => set({ allow_signup: (e.currentTarget as HTMLInputElement).checked })} />
          <span class="toggle-text">
            Create accounts on first sign-in
            <small>Off: only people who already have an account (or an invitation they accepted) can sign in with the provider.</small>
          </span>
        </label>
        {s.allow_signup ? (
          <label class="field">
            <span>Role of new accounts</span>
            <select class="input" name="oidc-signup_role" value={s.signup_role} onChange={(e) => set({ signup_role: (e.currentTarget as HTMLSelectElement).value as Role })}>
              {["member", "agent", "supervisor"].map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label class="toggle">
          <input type="checkbox" name="oidc-enabled" checked={s.enabled} onChange={(e) => set({ enabled: (e.currentTarget as HTMLInputElement).checked })} />
          <span class="toggle-text">
            Offer it on the sign-in page
            <small>Saving checks that the provider's discovery document can be read.</small>
          </span>
        </label>
        <p class="muted small">
          Two-factor sign-in: the provider's own second factor counts. An account with Parley's two-factor sign-in on is let in through the provider only when the
          provider reports a second factor (the ID token's amr claim); otherwise it signs in with its password and code.
        </p>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          {saved ? (
            <span class="muted small" role="status">
              Saved
            </span>
          ) : null}
          <button class="btn primary" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </section>
  );
}
