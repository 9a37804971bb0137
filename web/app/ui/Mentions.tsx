// @mention autocomplete for a composer: typing "@" and letters lists the
// conversation's members (and "all" in a multi-chat); Up/Down choose,
// Enter or Tab insert "@Name ", Escape closes. The chosen members are kept
// by id and sent with the message (the server checks they are members).

import type { RefObject } from "preact";
import { useState } from "preact/hooks";
import { mentionable, mentionedIn } from "../chat";
import type { Conversation } from "../types";
import { Avatar } from "./common";
import { t } from "../../i18n/i18n";

export interface MentionPicker {
  /** Call with the text after every input. */
  onInput(v: string): void;
  /** Call first in the textarea's keydown; true when the picker used the key. */
  onKeyDown(e: KeyboardEvent): boolean;
  /** The list to render above the textarea (null when closed). */
  popup: preact.JSX.Element | null;
  /** The mentioned member ids still in text; forgets them for the next message. */
  take(text: string): number[];
}

export function useMentionPicker(
  c: Conversation,
  ta: RefObject<HTMLTextAreaElement | null>,
  text: string,
  setText: (v: string) => void,
): MentionPicker {
  const [q, setQ] = useState<{ from: number; q: string; i: number } | null>(null);
  const [picked] = useState(() => new Map<number, string>());
  const all = mentionable(c);
  const matches = q
    ? all
        .filter((x) => x.name.toLowerCase().startsWith(q.q) || x.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q.q)))
        .slice(0, 8)
    : [];

  const use = (x: { id: number; name: string }) => {
    if (!q) return;
    const el = ta.current;
    const caret = el ? el.selectionStart : text.length;
    const ins = "@" + x.name + " ";
    const v = text.slice(0, q.from) + ins + text.slice(caret);
    if (x.id) picked.set(x.id, x.name);
    setQ(null);
    setText(v);
    const at = q.from + ins.length;
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at, at);
    });
  };

  const onInput = (v: string) => {
    const el = ta.current;
    const caret = el ? el.selectionStart : v.length;
    const m = v.slice(0, caret).match(/(?:^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.-]{0,30})$/u);
    if (!m) {
      if (q) setQ(null);
      return;
    }
    const word = m[1].toLowerCase();
    setQ({ from: caret - word.length - 1, q: word, i: q && q.q === word ? q.i : 0 });
  };

  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!q || !matches.length || e.isComposing) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = matches.length;
      setQ({ ...q, i: (q.i + (e.key === "ArrowDown" ? 1 : n - 1)) % n });
      return true;
    }
    if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      use(matches[Math.min(q.i, matches.length - 1)]);
      return true;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setQ(null);
      return true;
    }
    return false;
  };

  const popup =
    q && matches.length ? (
      <ul class="shortcuts mention-list" role="listbox" aria-label={t("app.chat.mention.list")}>
        {matches.map((x, i) => (
          <li key={x.id}>
            <button
              role="option"
              aria-selected={i === q.i}
              class={i === q.i ? "on" : ""}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => use(x)}
            >
              {x.id ? <Avatar id={x.id} name={x.name} size={20} /> : <span class="mention-all-icon">@</span>}
              <strong>{x.id ? x.name : "all"}</strong>
              <span>{x.id ? "" : t("app.chat.mention.notifyAll")}</span>
            </button>
          </li>
        ))}
      </ul>
    ) : null;

  const take = (text: string) => {
    const ids = mentionedIn(text, picked);
    picked.clear();
    return ids;
  };

  return { onInput, onKeyDown, popup, take };
}
