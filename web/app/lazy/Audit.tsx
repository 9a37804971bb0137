// The audit log (administrators, loaded on demand): sensitive actions,
// newest first, filtered by action, with older pages on demand, and its
// export as CSV or JSON lines (docs/api.md#the-audit-log).

import { useEffect, useState } from "preact/hooks";
import * as api from "../api";
import type { AuditEntry } from "../types";
import { Spinner } from "../ui/common";
import { fullTime } from "../util";

const ACTIONS: [string, string][] = [
  ["", "Every action"],
  ["contact.exported", "Customer exported"],
  ["contact.erased", "Customer erased"],
  ["retention.run", "Retention run"],
  ["user.invited", "User invited"],
  ["invite.resent", "Invitation resent"],
  ["invite.revoked", "Invitation revoked"],
  ["invite.accepted", "Invitation accepted"],
  ["user.password_reset", "Password reset by e-mail"],
  ["user.created_oidc", "Account created by the sign-in provider"],
  ["oidc.settings_changed", "Sign-in provider changed"],
  ["audit.exported", "Audit log exported"],
];

const actionName = (a: string) => ACTIONS.find(([k]) => k === a)?.[1] || a;

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
        <h2>Audit log</h2>
        <span class="muted small">Newest first</span>
      </div>
      <p class="muted small">Sensitive actions: who did what, to what, from which address. Entries hold counts and ids, never the data an action removed.</p>
      <label class="field inline">
        <span>Action</span>
        <select class="input small" name="audit-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          {ACTIONS.map(([k, l]) => (
            <option key={k} value={k}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <Export action={action} />
      {err ? <p class="form-error">{err}</p> : null}
      {rows === null ? (
        <Spinner />
      ) : !rows.length ? (
        <p class="muted">Nothing recorded yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table audit-log" aria-label="Audit log">
            <thead>
              <tr>
                <th>Time</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Detail</th>
                <th>Address</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id} data-action={e.action}>
                  <td data-label="Time">
                    <time dateTime={e.at}>{fullTime(e.at)}</time>
                  </td>
                  <td data-label="Who">{e.actor_name}</td>
                  <td data-label="Action">{actionName(e.action)}</td>
                  <td data-label="Target">{e.target_type ? `${e.target_type}${e.target_id ? ` #${e.target_id}` : ""}` : "—"}</td>
                  <td data-label="Detail" class="small">
                    {detailText(e.detail)}
                  </td>
                  <td data-label="Address">{e.client_addr || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next ? (
        <button class="btn small center-btn" onClick={() => load(next)} disabled={busy}>
          Show older
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
    <div class="audit-export" role="group" aria-label="Export">
      <label class="field inline">
        <span>From</span>
        <input class="input small" type="date" name="audit-from" value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <label class="field inline">
        <span>To</span>
        <input class="input small" type="date" name="audit-to" value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <label class="field inline">
        <span>Format</span>
        <select class="input small" name="audit-format" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
          <option value="csv">CSV (spreadsheets)</option>
          <option value="jsonl">JSON lines</option>
        </select>
      </label>
      <a class="btn small" href={href} download>
        Export
      </a>
    </div>
  );
}
