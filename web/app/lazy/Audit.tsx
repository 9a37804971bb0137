// The audit log (administrators, loaded on demand): sensitive actions,
// newest first, filtered by action, with older pages on demand, and its
// export as CSV or JSON lines (docs/api.md#the-audit-log).

import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import type { AuditEntry } from "../types";
import { Spinner } from "../ui/common";
import { fullTime } from "../util";

/** The actions with their names (message keys). */
const ACTIONS: [string, string][] = [
  ["", "app.projects.audit.action.every"],
  ["contact.exported", "app.projects.audit.action.contactExported"],
  ["contact.erased", "app.projects.audit.action.contactErased"],
  ["retention.run", "app.projects.audit.action.retentionRun"],
  ["user.invited", "app.projects.audit.action.userInvited"],
  ["invite.resent", "app.projects.audit.action.inviteResent"],
  ["invite.revoked", "app.projects.audit.action.inviteRevoked"],
  ["invite.accepted", "app.projects.audit.action.inviteAccepted"],
  ["user.password_reset", "app.projects.audit.action.passwordReset"],
  ["user.created_oidc", "app.projects.audit.action.createdOidc"],
  ["oidc.settings_changed", "app.projects.audit.action.oidcChanged"],
  ["audit.exported", "app.projects.audit.action.auditExported"],
];

const actionName = (a: string) => {
  const k = ACTIONS.find(([c]) => c === a)?.[1];
  return k ? t(k) : a;
};

/** detailText shows an entry's detail as "dialogs 3 · files 1". */
function detailText(d: Record<string, unknown>): string {
  return Object.entries(d || {})
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? fullTime(v) : String(v)}`)
    .join(" · ");
}

export function AuditTab() {
  const [action, setAction] = useState("");
  const [rows, setRows] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState(0);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const load = async (before: number) => {
    setBusy(true);
    setErr("");
    try {
      const page = await api.get<{ entries: AuditEntry[]; next_before?: number }>("/audit" + api.qs({ action: action || undefined, before: before || undefined, limit: 50 }));
      setRows((cur) => (before ? [...(cur || []), ...page.entries] : page.entries));
      setNext(page.next_before || 0);
    } catch (e) {
      setErr((e as Error).message);
      if (!before) setRows([]);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setRows(null);
    load(0);
  }, [action]);
  return (
    <section class="card audit-card">
      <div class="card-head">
        <h2>{t("app.projects.audit.title")}</h2>
        <span class="muted small">{t("app.projects.audit.newestFirst")}</span>
      </div>
      <p class="muted small">{t("app.projects.audit.intro")}</p>
      <label class="field inline">
        <span>{t("app.projects.audit.action")}</span>
        <select class="input small" name="audit-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          {ACTIONS.map(([k, l]) => (
            <option key={k} value={k}>
              {t(l)}
            </option>
          ))}
        </select>
      </label>
      <Export action={action} />
      {err ? <p class="form-error">{err}</p> : null}
      {rows === null ? (
        <Spinner />
      ) : !rows.length ? (
        <p class="muted">{t("app.projects.audit.empty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="table audit-log" aria-label={t("app.projects.audit.title")}>
            <thead>
              <tr>
                <th>{t("app.projects.audit.time")}</th>
                <th>{t("app.projects.audit.who")}</th>
                <th>{t("app.projects.audit.action")}</th>
                <th>{t("app.projects.audit.target")}</th>
                <th>{t("app.projects.audit.detail")}</th>
                <th>{t("app.projects.audit.address")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id} data-action={e.action}>
                  <td data-label={t("app.projects.audit.time")}>
                    <time dateTime={e.at}>{fullTime(e.at)}</time>
                  </td>
                  <td data-label={t("app.projects.audit.who")}>{e.actor_name}</td>
                  <td data-label={t("app.projects.audit.action")}>{actionName(e.action)}</td>
                  <td data-label={t("app.projects.audit.target")}>{e.target_type ? `${e.target_type}${e.target_id ? ` #${e.target_id}` : ""}` : "—"}</td>
                  <td data-label={t("app.projects.audit.detail")} class="small">
                    {detailText(e.detail)}
                  </td>
                  <td data-label={t("app.projects.audit.address")}>{e.client_addr || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next ? (
        <button class="btn small center-btn" onClick={() => load(next)} disabled={busy}>
          {t("app.projects.audit.older")}
        </button>
      ) : null}
    </section>
  );
}

/** Export downloads the log (the action filter shown, and a period) as a file the browser saves. */
function Export(props: { action: string }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [format, setFormat] = useState("csv");
  // Dates are the administrator's local days: from the start of "from" to the end of "to".
  const since = from ? new Date(from + "T00:00:00").toISOString() : undefined;
  const until = to ? new Date(new Date(to + "T00:00:00").getTime() + 86400000).toISOString() : undefined;
  const href = "/api/v1/audit/export" + api.qs({ format, action: props.action || undefined, since, until });
  return (
    <div class="audit-export" role="group" aria-label={t("app.projects.audit.export")}>
      <label class="field inline">
        <span>{t("app.projects.audit.from")}</span>
        <input class="input small" type="date" name="audit-from" value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <label class="field inline">
        <span>{t("app.projects.audit.to")}</span>
        <input class="input small" type="date" name="audit-to" value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <label class="field inline">
        <span>{t("app.projects.audit.format")}</span>
        <select class="input small" name="audit-format" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
          <option value="csv">{t("app.projects.audit.csv")}</option>
          <option value="jsonl">{t("app.projects.audit.jsonl")}</option>
        </select>
      </label>
      <a class="btn small" href={href} download>
        {t("app.projects.audit.export")}
      </a>
    </div>
  );
}
