// EditableRow is the one editable row of the app's lists: it shows its
// values, and Edit turns them into fields with Save and Cancel (Enter and
// Escape too); Delete asks once more. A new row starts in editing. The
// server's refusal is shown in the row. Tags (administration), quick
// replies and a customer's custom attributes are lists of these.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { t } from "../../i18n/i18n";

export interface EditField {
  key: string;
  label: string;
  type?: "text" | "color" | "textarea";
  required?: boolean;
  maxLength?: number;
  placeholder?: string;
}

export function EditableRow(props: {
  fields: EditField[];
  values: Record<string, string>;
  /** How the row reads when not edited (default: the values side by side). */
  view?: (v: Record<string, string>) => ComponentChildren;
  onSave: (v: Record<string, string>) => Promise<unknown>;
  onDelete?: () => Promise<unknown>;
  /** A new row: it starts in editing, and Cancel removes it. */
  isNew?: boolean;
  onCancel?: () => void;
  label: string;
  /** Extra buttons beside Edit and Delete. */
  extra?: ComponentChildren;
  class?: string;
}) {
  const [editing, setEditing] = useState(!!props.isNew);
  const [v, setV] = useState(props.values);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const [sure, setSure] = useState(false);

  const start = () => {
    setV(props.values);
    setErr("");
    setEditing(true);
  };
  const cancel = () => {
    setEditing(false);
    setErr("");
    props.onCancel?.();
  };
  const save = async (e?: Event) => {
    e?.preventDefault();
    for (const f of props.fields)
      if (f.required && !(v[f.key] || "").trim()) {
        setErr(t("app.account.editRow.required", { field: f.label }));
        return;
      }
    setBusy(true);
    setErr("");
    try {
      await props.onSave(v);
      setEditing(false);
    } catch (x) {
      setErr((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const del = async () => {
    setBusy(true);
    try {
      await props.onDelete!();
    } catch (x) {
      setErr((x as Error).message);
      setSure(false);
    } finally {
      setBusy(false);
    }
  };

  if (editing)
    return (
      <li class={"edit-row editing " + (props.class || "")}>
        <form onSubmit={save} aria-label={props.label} onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), cancel())}>
          {props.fields.map((f, i) => (
            <label key={f.key} class={"field edit-field f-" + f.key}>
              <span>{f.label}</span>
              {f.type === "textarea" ? (
                <textarea
                  class="input"
                  rows={3}
                  value={v[f.key] || ""}
                  maxLength={f.maxLength}
                  placeholder={f.placeholder}
                  autoFocus={i === 0}
                  onInput={(e) => setV({ ...v, [f.key]: (e.currentTarget as HTMLTextAreaElement).value })}
                />
              ) : (
                <input
                  class="input"
                  type={(f.type || "text") as "text"}
                  value={v[f.key] || (f.type === "color" ? "#3457d5" : "")}
                  maxLength={f.maxLength}
                  placeholder={f.placeholder}
                  autoFocus={i === 0}
                  onInput={(e) => setV({ ...v, [f.key]: (e.currentTarget as HTMLInputElement).value })}
                />
              )}
            </label>
          ))}
          <div class="edit-actions">
            <button class="btn small primary" disabled={busy}>
              {t("app.account.editRow.save")}
            </button>
            <button type="button" class="btn small" onClick={cancel}>
              {t("app.account.editRow.cancel")}
            </button>
          </div>
          {err ? (
            <p class="form-error" role="alert">
              {err}
            </p>
          ) : null}
        </form>
      </li>
    );
  return (
    <li class={"edit-row " + (props.class || "")} aria-label={props.label}>
      <div class="edit-view">{props.view ? props.view(props.values) : props.fields.map((f) => <span key={f.key}>{props.values[f.key]}</span>)}</div>
      <div class="edit-actions">
        {props.extra}
        {sure ? (
          <>
            <button class="btn small danger" disabled={busy} onClick={del} data-autofocus>
              {t("app.account.editRow.delete")}
            </button>
            <button class="btn small" onClick={() => setSure(false)}>
              {t("app.account.editRow.keep")}
            </button>
          </>
        ) : (
          <>
            <button class="btn small" onClick={start} aria-label={t("app.account.editRow.editLabel", { label: props.label })}>
              {t("app.account.editRow.edit")}
            </button>
            {props.onDelete ? (
              <button class="btn small" onClick={() => setSure(true)} aria-label={t("app.account.editRow.deleteLabel", { label: props.label })}>
                {t("app.account.editRow.delete")}
              </button>
            ) : null}
          </>
        )}
      </div>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </li>
  );
}
