// Form pieces the administration screens share (channels, webhooks, bots):
// a labelled field with its help and the server's error about it, and a
// value shown for copying (a secret shown once, a URL to paste elsewhere).

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import * as store from "../store";
import { copyText } from "../util";
import { t } from "../../i18n/i18n";

export type Attrs = { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean };

/** FieldRow: a label, the input (given its id and descriptions), the field's help and the server's error about it. */
export function FieldRow(props: {
  id: string;
  label: string;
  required?: boolean;
  help?: string;
  error?: string;
  badge?: ComponentChildren;
  children: (a: Attrs) => ComponentChildren;
  after?: ComponentChildren;
}) {
  const desc = [props.error ? props.id + "-err" : "", props.help ? props.id + "-help" : ""].filter(Boolean).join(" ");
  return (
    <div class={"field" + (props.error ? " has-error" : "")}>
      <label for={props.id}>
        {props.label}
        {props.required ? <small> {t("app.account.fields.required")}</small> : null}
        {props.badge}
      </label>
      {props.children({ id: props.id, "aria-describedby": desc || undefined, "aria-invalid": props.error ? true : undefined })}
      {props.after}
      {props.error ? (
        <span class="field-error" id={props.id + "-err"} role="alert">
          {props.error}
        </span>
      ) : null}
      {props.help ? (
        <small class="field-help" id={props.id + "-help"}>
          {props.help}
        </small>
      ) : null}
    </div>
  );
}

/** CopyRow: a labelled value with a Copy button. */
export function CopyRow(props: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await copyText(props.value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch (e) {
      store.fail(e);
    }
  };
  return (
    <div class="copy-row">
      <span class="copy-label small muted">{props.label}</span>
      <div class="secret-row">
        <code class="secret" aria-label={props.label}>
          {props.value}
        </code>
        <button class="btn small" onClick={copy} aria-label={t("app.account.fields.copyLabel", { label: props.label })}>
          {copied ? t("app.account.fields.copied") : t("app.account.fields.copy")}
        </button>
      </div>
    </div>
  );
}
