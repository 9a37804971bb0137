// Administration of accounts by e-mail link and of the sign-in provider
// (loaded on demand): invitations with their pending list (resend,
// revoke), and the OpenID Connect provider's settings.

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import * as store from "../store";
import type { Group, Role } from "../types";
import { Spinner } from "../ui/common";
import { copyText, fullTime, sentence } from "../util";
import { t, tp } from "../../i18n/i18n";
import { ROLES, roleLabel } from "../people";

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

/** LinkToPass shows an invitation link the administrator must pass on, and why. */
function LinkToPass(props: { sent: InviteSent; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="notice" role="status" data-testid="invite-link">
      <p>
        {tp("app.account.invites.notMailed", {
          head: <strong>{t("app.account.invites.notMailedHead", { email: props.sent.invite.email })}</strong>,
          error: sentence(props.sent.mail_error || ""),
        })}
      </p>
      <div class="invite-link">
        <input class="input" readOnly value={props.sent.link} aria-label={t("app.account.invites.link")} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button
          type="button"
          class="btn small"
          onClick={async () => {
            await copyText(props.sent.link || "");
            setCopied(true);
          }}
        >
          {copied ? t("app.account.invites.copied") : t("app.account.invites.copy")}
        </button>
        <button type="button" class="btn small" onClick={props.onClose}>
          {t("app.account.invites.done")}
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
  const sent = (out: InviteSent, again: boolean) => {
    if (out.mailed) {
      setPass(null);
      store.toast(again ? t("app.account.invites.sentAgain", { email: out.invite.email }) : t("app.account.invites.mailed", { email: out.invite.email }));
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
      sent(out, false);
    } catch (x) {
      setErr(sentence((x as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const resend = async (inv: Invite) => {
    try {
      sent(await api.post<InviteSent>(`/invites/${inv.id}/resend`), true);
    } catch (x) {
      store.fail(x);
    }
  };
  const revoke = async (inv: Invite) => {
    if (!confirm(t("app.account.invites.revokeConfirm", { email: inv.email }))) return;
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
        <h2 id="invites-title">{t("app.account.invites.title")}</h2>
      </div>
      <p class="muted small">{mailer ? t("app.account.invites.introMailer") : t("app.account.invites.introNoMailer")}</p>
      <form class="invite-form" onSubmit={invite}>
        <label class="field">
          <span>{t("app.account.invites.email")}</span>
          <input class="input" name="invite-email" type="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("app.account.invites.role")}</span>
          <select class="input" name="invite-role" value={role} onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as Role)}>
            {ROLES.map(([r, l]) => (
              <option key={r} value={r} disabled={r === "admin" && me.role !== "admin"}>
                {t(l)}
              </option>
            ))}
          </select>
        </label>
        {groups.length ? (
          <label class="field">
            <span>{t("app.account.invites.group")}</span>
            <select class="input" name="invite-group" value={group} onChange={(e) => setGroup(Number((e.currentTarget as HTMLSelectElement).value))}>
              <option value={0}>{t("app.account.invites.noGroup")}</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button class="btn primary" disabled={busy}>
          {busy ? t("app.account.invites.busy") : t("app.account.invites.invite")}
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
        <p class="muted">{t("app.account.invites.none")}</p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label={t("app.account.invites.pending")}>
            <thead>
              <tr>
                <th>{t("app.account.invites.email")}</th>
                <th>{t("app.account.invites.role")}</th>
                <th>{t("app.account.invites.sent")}</th>
                <th>{t("app.account.invites.until")}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {list.map((inv) => {
                const expired = new Date(inv.expires_at).getTime() <= now;
                return (
                  <tr key={inv.id} data-email={inv.email}>
                    <td class="ellipsis" data-label={t("app.account.invites.email")}>
                      {inv.email}
                    </td>
                    <td data-label={t("app.account.invites.role")}>
                      {roleLabel(inv.role)}
                      {inv.group_ids.length ? <span class="muted small"> · {inv.group_ids.map(groupName).join(", ")}</span> : null}
                    </td>
                    <td data-label={t("app.account.invites.sent")}>
                      {inv.sent_at ? fullTime(inv.sent_at) : <span class="muted">{t("app.account.invites.notSent")}</span>}
                    </td>
                    <td data-label={t("app.account.invites.untilShort")} class={expired ? "expired" : ""}>
                      {expired ? t("app.account.invites.expired") : fullTime(inv.expires_at)}
                    </td>
                    <td class="row-actions">
                      <button class="btn small" onClick={() => resend(inv)}>
                        {mailer ? t("app.account.invites.resend") : t("app.account.invites.newLink")}
                      </button>{" "}
                      <button class="btn small danger" onClick={() => revoke(inv)}>
                        {t("app.account.invites.revoke")}
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
      <h2 id="oidc-title">{t("app.account.oidc.title")}</h2>
      <p class="muted small">{tp("app.account.oidc.intro", { uri: <code>{callback}</code> })}</p>
      <form onSubmit={save}>
        {text("issuer", t("app.account.oidc.issuer"), "https://id.example.com/realms/staff")}
        {text("client_id", t("app.account.oidc.clientId"), "parley")}
        <label class="field">
          <span>{t("app.account.oidc.secret")}</span>
          <input
            class="input"
            name="oidc-client_secret"
            type="password"
            autoComplete="off"
            value={secret}
            placeholder={s.client_secret_set ? t("app.account.oidc.secretStored") : ""}
            onInput={(e) => {
              setSecret((e.currentTarget as HTMLInputElement).value);
              setSaved(false);
            }}
          />
        </label>
        {text("button_label", t("app.account.oidc.buttonLabel"), t("app.account.oidc.buttonExample"))}
        <label class="toggle">
          <input type="checkbox" name="oidc-allow_signup" checked={s.allow_signup} onChange={(e) => set({ allow_signup: (e.currentTarget as HTMLInputElement).checked })} />
          <span class="toggle-text">
            {t("app.account.oidc.signup")}
            <small>{t("app.account.oidc.signupHint")}</small>
          </span>
        </label>
        {s.allow_signup ? (
          <label class="field">
            <span>{t("app.account.oidc.signupRole")}</span>
            <select class="input" name="oidc-signup_role" value={s.signup_role} onChange={(e) => set({ signup_role: (e.currentTarget as HTMLSelectElement).value as Role })}>
              {["member", "agent", "supervisor"].map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label class="toggle">
          <input type="checkbox" name="oidc-enabled" checked={s.enabled} onChange={(e) => set({ enabled: (e.currentTarget as HTMLInputElement).checked })} />
          <span class="toggle-text">
            {t("app.account.oidc.enabled")}
            <small>{t("app.account.oidc.enabledHint")}</small>
          </span>
        </label>
        <p class="muted small">{t("app.account.oidc.twoFactor")}</p>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          {saved ? (
            <span class="muted small" role="status">
              {t("app.account.oidc.saved")}
            </span>
          ) : null}
          <button class="btn primary" disabled={busy}>
            {busy ? t("app.account.oidc.saving") : t("app.account.oidc.save")}
          </button>
        </div>
      </form>
    </section>
  );
}
