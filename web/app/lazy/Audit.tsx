// The audit log (administrators, loaded on demand): sensitive actions,
// newest first, filtered by action, with older pages on demand
// (docs/api.md#the-audit-log).

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
                  <td data-label="Target">{e.target_type ? `${e.target_type} #${e.target_id}` : "—"}</td>
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
