// PickList is the one list of choices the app uses wherever a user picks
// people, channels or tags: checkboxes (several) or radio buttons (one),
// each option with an optional avatar or icon, a colour, a count and a
// hint, an optional search field over the labels, and a disabled state.
// The inbox's filters, Reassign, live chat's Transfer and the customer
// card's tags all use it.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { t } from "../../i18n/i18n";

export interface PickOption<V> {
  value: V;
  label: string;
  hint?: string;
  /** Shown before the label (an avatar, a channel icon). */
  icon?: ComponentChildren;
  /** A tag's colour: the option is drawn as a chip of it. */
  color?: string;
  count?: number;
  disabled?: boolean;
}

export function PickList<V extends string | number>(props: {
  label: string;
  options: PickOption<V>[];
  selected: V[];
  onChange: (selected: V[]) => void;
  /** One choice (radio buttons) instead of several. */
  single?: boolean;
  /** A search field over the labels (shown when there are more options than this; 0: always). */
  search?: number;
  searchLabel?: string;
  disabled?: boolean;
  empty?: string;
  class?: string;
}) {
  const [q, setQ] = useState("");
  const showSearch = props.search !== undefined && props.options.length > props.search;
  const needle = q.trim().toLowerCase();
  const shown = needle ? props.options.filter((o) => o.label.toLowerCase().includes(needle)) : props.options;
  const name = "pick-" + props.label.replace(/\W+/g, "-").toLowerCase();
  return (
    <div class={"pick " + (props.class || "") + (props.disabled ? " disabled" : "")}>
      {showSearch ? (
        <input
          class="input small pick-search"
          type="search"
          placeholder={props.searchLabel || t("app.account.pick.search")}
          aria-label={props.searchLabel || t("app.account.pick.searchIn", { label: props.label })}
          value={q}
          disabled={props.disabled}
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
        />
      ) : null}
      <ul class="pick-list" role={props.single ? "radiogroup" : "group"} aria-label={props.label}>
        {shown.map((o) => {
          const on = props.selected.includes(o.value);
          return (
            <li key={String(o.value)}>
              <label class={"pick-opt" + (on ? " on" : "") + (o.disabled || props.disabled ? " off" : "")}>
                <input
                  type={props.single ? "radio" : "checkbox"}
                  name={name}
                  checked={on}
                  disabled={o.disabled || props.disabled}
                  onChange={() => {
                    if (props.single) props.onChange([o.value]);
                    else props.onChange(on ? props.selected.filter((v) => v !== o.value) : [...props.selected, o.value]);
                  }}
                />
                {o.icon ? <span class="pick-icon">{o.icon}</span> : null}
                <span class="pick-main">
                  {o.color ? (
                    <span class="tag-chip" style={{ "--tag": o.color }}>
                      <span class="tag-dot" aria-hidden="true" />
                      {o.label}
                    </span>
                  ) : (
                    <span class="pick-label">{o.label}</span>
                  )}
                  {o.hint ? <span class="pick-hint">{o.hint}</span> : null}
                </span>
                {o.count !== undefined ? <span class="pick-count">{o.count}</span> : null}
              </label>
            </li>
          );
        })}
        {!shown.length ? <li class="pick-empty muted">{needle ? t("app.account.pick.noMatches") : props.empty || t("app.account.pick.nothing")}</li> : null}
      </ul>
    </div>
  );
}
