// Small shared pieces: windows (modals), avatars, menus, presence dots.

import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { thumbURL } from "../api";
import { hue, initials } from "../util";
import { Close } from "./icons";
import type { Presence } from "../types";
import { t } from "../../i18n/i18n";

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * The open windows' close functions, the topmost last: Escape closes the
 * topmost wherever the focus is (a key pressed before the window took the
 * focus, or after a click on its backdrop, still closes it); a popup
 * inside the window that handles Escape itself stops it first.
 */
const openWindows: (() => void)[] = [];
document.addEventListener(
  "keydown",
  (e) => {
    if (e.key === "Escape" && openWindows.length) {
      e.stopPropagation();
      openWindows[openWindows.length - 1]();
    }
  },
);

/** trapFocus keeps Tab inside el and returns focus to where it was on close. */
function useFocusTrap(ref: { current: HTMLElement | null }, onClose: () => void) {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const before = document.activeElement as HTMLElement | null;
    const first = el.querySelector<HTMLElement>("[data-autofocus]") || el.querySelector<HTMLElement>(FOCUSABLE);
    (first || el).focus();
    const close = () => onClose();
    openWindows.push(close);
    const key = (e: KeyboardEvent) => {
      if (e.key === "Tab") {
        const items = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null);
        if (!items.length) return;
        const a = items[0],
          b = items[items.length - 1];
        if (e.shiftKey && document.activeElement === a) {
          e.preventDefault();
          b.focus();
        } else if (!e.shiftKey && document.activeElement === b) {
          e.preventDefault();
          a.focus();
        }
      }
    };
    el.addEventListener("keydown", key);
    return () => {
      el.removeEventListener("keydown", key);
      openWindows.splice(openWindows.lastIndexOf(close), 1);
      if (before && document.contains(before)) before.focus();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}

export function Modal(props: {
  title: ComponentChildren;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  wide?: boolean;
  label?: string;
  class?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useFocusTrap(ref, props.onClose);
  const named = typeof props.title === "string" ? props.title : undefined;
  return (
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        ref={ref}
        class={"modal " + (props.wide ? "wide " : "") + (props.class || "")}
        role="dialog"
        aria-modal="true"
        aria-label={props.label || named}
        tabIndex={-1}
      >
        <header class="modal-head">
          <h2>{props.title}</h2>
          <button class="icon-btn" onClick={props.onClose} aria-label={t("app.account.common.close")} title={t("app.account.common.closeEsc")}>
            <Close />
          </button>
        </header>
        <div class="modal-body">{props.children}</div>
        {props.footer ? <footer class="modal-foot">{props.footer}</footer> : null}
      </div>
    </div>
  );
}

/** Confirm asks once more before an action that cannot be undone (Cancel, or the action in red). */
export function Confirm(props: { title: string; action: string; onConfirm: () => void; onClose: () => void; children: ComponentChildren }) {
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.account.common.cancel")}
          </button>
          <button class="btn danger" data-autofocus onClick={props.onConfirm}>
            {props.action}
          </button>
        </>
      }
    >
      {props.children}
    </Modal>
  );
}

export function Avatar(props: { id: number; name: string; photo?: number; size?: number; presence?: Presence }) {
  const s = props.size || 36;
  const [broken, setBroken] = useState(false);
  return (
    <span class="avatar" style={{ width: `${s}px`, height: `${s}px`, fontSize: `${Math.round(s * 0.4)}px`, background: `hsl(${hue(props.id)} 55% 45%)` }} aria-hidden="true">
      {props.photo && !broken ? (
        <img src={thumbURL(props.photo)} alt="" width={s} height={s} loading="lazy" onError={() => setBroken(true)} />
      ) : (
        initials(props.name)
      )}
      {props.presence ? <span class={"avatar-dot " + props.presence} /> : null}
    </span>
  );
}

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
  checked?: boolean;
  disabled?: boolean;
}

/**
 * Menu is a context menu at a point (or under an element), navigable with
 * the arrow keys, closed by Escape, a click elsewhere or a choice.
 */
export function Menu(props: { x: number; y: number; items: MenuItem[]; onClose: () => void; label?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ x: props.x, y: props.y });
  useLayoutEffect(() => {
    const el = ref.current!;
    const r = el.getBoundingClientRect();
    setPos({
      x: Math.max(4, Math.min(props.x, window.innerWidth - r.width - 4)),
      y: Math.max(4, Math.min(props.y, window.innerHeight - r.height - 4)),
    });
    el.querySelector<HTMLElement>("button:not([disabled])")?.focus();
    const away = (e: Event) => {
      if (!el.contains(e.target as Node)) props.onClose();
    };
    const timer = setTimeout(() => {
      document.addEventListener("mousedown", away);
      document.addEventListener("contextmenu", away);
      window.addEventListener("blur", props.onClose);
    });
    return () => {
      clearTimeout(timer);
      document.removeEventListener("mousedown", away);
      document.removeEventListener("contextmenu", away);
      window.removeEventListener("blur", props.onClose);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const key = (e: KeyboardEvent) => {
    const items = [...ref.current!.querySelectorAll<HTMLElement>("button:not([disabled])")];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "ArrowDown") items[(i + 1) % items.length]?.focus();
    else if (e.key === "ArrowUp") items[(i - 1 + items.length) % items.length]?.focus();
    else if (e.key === "Home") items[0]?.focus();
    else if (e.key === "End") items[items.length - 1]?.focus();
    else if (e.key === "Escape" || e.key === "Tab") props.onClose();
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <div ref={ref} class="menu" role="menu" aria-label={props.label} style={{ left: `${pos.x}px`, top: `${pos.y}px` }} onKeyDown={key}>
      {props.items.map((it) => (
        <button
          key={it.label}
          role={it.checked === undefined ? "menuitem" : "menuitemcheckbox"}
          aria-checked={it.checked === undefined ? undefined : it.checked}
          class={it.danger ? "danger" : ""}
          disabled={it.disabled}
          onClick={() => {
            props.onClose();
            it.onSelect();
          }}
        >
          {it.checked !== undefined ? <span class="check">{it.checked ? "✓" : ""}</span> : null}
          {it.label}
        </button>
      ))}
    </div>
  );
}

/** useMenu holds an open menu's position; open() takes the event or the element it belongs to. */
export function useMenu() {
  const [at, setAt] = useState<{ x: number; y: number } | null>(null);
  const open = (e: MouseEvent | KeyboardEvent | HTMLElement) => {
    if (e instanceof HTMLElement) {
      const r = e.getBoundingClientRect();
      setAt({ x: r.left, y: r.bottom + 4 });
    } else if (e instanceof MouseEvent && (e.clientX || e.clientY)) {
      e.preventDefault();
      setAt({ x: e.clientX, y: e.clientY });
    } else {
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      e.preventDefault();
      setAt({ x: r.left + 16, y: r.top + 16 });
    }
  };
  return { at, open, close: () => setAt(null) };
}

export function Toggle(props: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string; id?: string }) {
  return (
    <label class="toggle">
      <input type="checkbox" id={props.id} checked={props.checked} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <span class="toggle-text">
        {props.label}
        {props.hint ? <small>{props.hint}</small> : null}
      </span>
    </label>
  );
}

export function Spinner(props: { label?: string }) {
  return <span class="spinner" role="status" aria-label={props.label || t("app.account.common.loading")} />;
}

/** CommentForm is the "Add a comment" box under a case or a task; Ctrl+Enter sends. */
export function CommentForm(props: { text: string; busy: boolean; onText: (s: string) => void; onSubmit: (e: Event) => void }) {
  return (
    <form class="comment-form" onSubmit={props.onSubmit}>
      <textarea
        class="input"
        rows={2}
        aria-label={t("app.account.comment.label")}
        placeholder={t("app.account.comment.placeholder")}
        value={props.text}
        onInput={(e) => props.onText((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) props.onSubmit(e);
        }}
      />
      <div class="row-end">
        <button class="btn primary" disabled={props.busy || !props.text.trim()}>
          {t("app.account.comment.add")}
        </button>
      </div>
    </form>
  );
}
