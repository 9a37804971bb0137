// The widget's DOM: the launcher bubble and the chat panel, in a shadow
// root. Plain DOM, no framework: render() reconciles the message log by key
// and rebuilds only the items whose content changed.

import { parse, type Block, type Inline } from "../app/markup";
import { fileURL } from "./api";
import { live, S, type Actions } from "./state";
import { locale, num, t, time } from "../i18n/i18n";
import { CSS } from "./style";
import type { Out, WFile, WMsg } from "./types";

type Kid = Node | string | null | undefined | false;

/** h makes an element: attributes (on* are handlers, true is an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, a?: Record<string, any> | null, ...kids: (Kid | Kid[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const k in a) {
    const v = a[k];
    if (v == null || v === false) continue;
    if (k.startsWith("on")) (el as any)[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) el.append(c);
  return el;
}

const I = {
  chat: "M21 11.5a8.4 8.4 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8z",
  x: "M18 6 6 18M6 6l12 12",
  down: "m6 9 6 6 6-6",
  clip: "m21.4 11.1-9.2 9.1a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.9-2.9l8.5-8.5",
  send: "M22 2 11 13M22 2l-7 20-4-9-9-4z",
  tick: "M20 6 9 17l-5-5",
  ticks: "M17 6 6.5 16.5 2 12M22.5 7.5l-9 9-1.5-1.5",
  clock: "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM12 7v5l3 2",
  file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6",
  star: "m12 2 3.1 6.3 6.9 1-5 4.9 1.2 6.8-6.2-3.2-6.2 3.2L7 14.2 2 9.3l6.9-1z",
};

function ic(d: string, label?: string): Element {
  const t = document.createElement("template");
  t.innerHTML = `<svg viewBox="0 0 24 24" ${label ? `role="img" aria-label="${label}"` : 'aria-hidden="true"'}><path d="${d}"/></svg>`;
  return t.content.firstChild as Element;
}

let A: Actions;
let wrap: HTMLElement, bub: HTMLButtonElement, badge: HTMLElement;
let pan: HTMLElement | undefined;
let log: HTMLElement, title: HTMLElement, sub: HTMLElement, av: HTMLElement, typ: HTMLElement;
let err: HTMLElement, errText: HTMLElement, cmp: HTMLElement, ta: HTMLTextAreaElement, drop: HTMLElement;
const cache = new Map<string, { s: string; el: HTMLElement }>();
let toBottom = false;

export function mount(a: Actions) {
  A = a;
  const host = h("div", { id: "parley-chat", lang: locale() });
  const root = host.attachShadow({ mode: "open" });
  badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  bub = h("button", { class: "bub", type: "button", "aria-label": t("widget.bubble.open"), "aria-expanded": "false", onclick: () => A.toggle() }, ic(I.chat), ic(I.down), badge);
  wrap = h("div", { class: "w" }, bub);
  root.append(h("style", null, CSS), wrap);
  document.body.append(host);
}

function build() {
  title = h("h2");
  sub = h("p");
  av = h("div", { class: "av", "aria-hidden": "true" });
  log = h("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t("widget.log.label"),
    // Near the top: fetch the older messages before the visitor gets there.
    onscroll: () => log.scrollTop < 300 && A.older(),
  });
  typ = h("div", { class: "typ", "aria-live": "polite" });
  errText = h("span");
  err = h("div", { class: "err", role: "alert", hidden: true }, errText, h("button", { type: "button", "aria-label": t("widget.error.dismiss"), onclick: () => A.dismiss() }, ic(I.x)));
  const fin = h("input", {
    type: "file",
    multiple: true,
    hidden: true,
    tabindex: "-1",
    onchange: () => {
      if (fin.files?.length) A.files([...fin.files]);
      fin.value = "";
    },
  });
  const send = () => {
    const t = ta.value.trim();
    if (!t) return;
    toBottom = true;
    if (!A.send(t)) return; // too long: the text stays to be shortened
    ta.value = "";
    grow();
    ta.focus();
  };
  ta = h("textarea", {
    rows: "1",
    "aria-label": t("widget.composer.label"),
    placeholder: t("widget.composer.placeholder"),
    maxlength: "10000",
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    },
    oninput: () => {
      grow();
      if (ta.value.trim()) A.typing();
    },
    onpaste: (e: ClipboardEvent) => {
      const f = [...(e.clipboardData?.files || [])];
      if (f.length) {
        e.preventDefault();
        A.files(f);
      }
    },
  });
  cmp = h(
    "div",
    { class: "cmp" },
    h("button", { class: "ib", type: "button", "aria-label": t("widget.composer.attach"), title: t("widget.composer.attach"), onclick: () => fin.click() }, ic(I.clip)),
    ta,
    h("button", { class: "ib snd", type: "button", "aria-label": t("widget.composer.send"), title: t("widget.composer.send"), onclick: send }, ic(I.send)),
    fin,
  );
  drop = h("div", { class: "drop", hidden: true }, t("widget.composer.drop"));
  pan = h(
    "div",
    { class: "pan", role: "dialog", "aria-label": t("widget.panel.label"), hidden: true, onkeydown: (e: KeyboardEvent) => e.key === "Escape" && A.close() },
    h("div", { class: "hd" }, av, h("div", { class: "ht" }, title, sub), h("button", { class: "hb", type: "button", "aria-label": t("widget.panel.close"), title: t("widget.panel.closeTitle"), onclick: () => A.close() }, ic(I.down))),
    log,
    typ,
    err,
    cmp,
    drop,
  );
  // Drag and drop files onto the panel.
  let depth = 0;
  const files = (e: DragEvent) => !!e.dataTransfer?.types.includes("Files") && !cmp.hidden;
  pan.addEventListener("dragenter", (e) => {
    if (!files(e)) return;
    e.preventDefault();
    depth++;
    drop.hidden = false;
  });
  pan.addEventListener("dragover", (e) => files(e) && e.preventDefault());
  pan.addEventListener("dragleave", () => {
    if (--depth > 0) return;
    depth = 0;
    drop.hidden = true;
  });
  pan.addEventListener("drop", (e) => {
    if (!files(e)) return;
    e.preventDefault();
    depth = 0;
    drop.hidden = true;
    const f = [...(e.dataTransfer?.files || [])];
    if (f.length) A.files(f);
  });
  wrap.append(pan);
}

function grow() {
  ta.style.height = "";
  ta.style.height = Math.min(ta.scrollHeight + 2, 130) + "px";
}

/** focus puts the keyboard in the panel: the message box, or the first field of a form shown instead. */
export function focus() {
  toBottom = true;
  const f = cmp && !cmp.hidden ? ta : (log?.querySelector("input,textarea,button") as HTMLElement | null);
  f?.focus();
}

/** unfocus gives the focus back to the bubble if it was in the panel. */
export function unfocus() {
  if ((wrap.getRootNode() as ShadowRoot).activeElement) bub.focus();
}

const initials = (n: string) =>
  n
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0].toUpperCase())
    .join("") || "?";

const size = (n: number) =>
  n < 1e3 ? t("widget.size.b", { n }) : n < 1e6 ? t("widget.size.kb", { n: Math.round(n / 1e3) }) : t("widget.size.mb", { n: num(+(n / 1e6).toFixed(1), locale(), { minimumFractionDigits: 1 }) });

/** text appends the text, formatted (see app/markup.ts): elements and text nodes, never HTML. */
export function text(el: HTMLElement, t: string) {
  el.append(...blocks(parse(t)));
}

function inlines(xs: Inline[]): (Node | string)[] {
  return xs.map((x) => {
    switch (x.t) {
      case "text":
        return x.s;
      case "code":
        return h("code", null, x.s);
      case "link":
        return h("a", { href: x.href, target: "_blank", rel: "noopener noreferrer" }, x.s);
      default:
        return h(x.t === "b" ? "strong" : x.t === "i" ? "em" : "del", null, inlines(x.c));
    }
  });
}

function blocks(bs: Block[]): Node[] {
  return bs.map((b) => {
    switch (b.t) {
      case "p":
        return h("p", null, inlines(b.c));
      case "pre":
        return h("pre", null, h("code", null, b.s));
      case "quote":
        return h("blockquote", null, blocks(b.c));
      case "ul":
        return h("ul", null, b.items.map((it) => h("li", null, inlines(it))));
      case "ol":
        return h("ol", { start: String(b.start) }, b.items.map((it) => h("li", null, inlines(it))));
    }
  });
}

function viewer(f: WFile) {
  const back = (wrap.getRootNode() as ShadowRoot).activeElement as HTMLElement | null;
  const close = () => {
    v.remove();
    back?.focus();
  };
  const x = h("button", { class: "hb", type: "button", "aria-label": t("widget.image.close"), onclick: close }, ic(I.x));
  const v = h(
    "div",
    {
      class: "view",
      role: "dialog",
      "aria-label": f.name,
      onclick: close,
      onkeydown: (e: KeyboardEvent) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          close();
        }
      },
    },
    h("img", { src: fileURL(f.id), alt: f.name, crossorigin: "anonymous" }),
    x,
  );
  wrap.append(v);
  x.focus();
}

function fileEl(f: WFile): HTMLElement {
  // Only an image the server could preview is shown: one it would not
  // decode (a decompression bomb, an SVG) is a file to download.
  if (/^image\//.test(f.content_type) && f.has_thumbnail) {
    // crossorigin: the request then carries the page's Origin, which the server checks.
    const img = h("img", { src: fileURL(f.id, true), alt: f.name, crossorigin: "anonymous" });
    const b = h("button", { class: "img", type: "button", "aria-label": t("widget.image.open", { name: f.name }), onclick: () => viewer(f) }, img);
    if (f.width && f.height) {
      const k = Math.min(1, 230 / f.width, 230 / f.height);
      b.style.width = Math.max(48, Math.round(f.width * k)) + "px";
      b.style.height = Math.max(48, Math.round(f.height * k)) + "px";
    } else b.style.maxWidth = "230px";
    return b;
  }
  // A plain link would not carry the Origin the server checks: fetch the file, then save it.
  const get = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await fetch(fileURL(f.id));
      if (!r.ok) throw 0;
      const u = URL.createObjectURL(await r.blob());
      const a = h("a", { href: u, download: f.name });
      wrap.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(u), 60_000);
    } catch {
      open(fileURL(f.id), "_blank", "noopener");
    }
  };
  return h("a", { class: "fl", href: fileURL(f.id), title: f.name, onclick: get }, ic(I.file), h("span", null, f.name), h("small", null, size(f.size)));
}

/** offline is the server's line when a message came while nobody was online: the admin's text (or ours) and the case number ("(case #12)"), said in the widget's language. */
function offline(s: string): string {
  const m = /^([^]*?)\s*\(case (#\d+)\)$/.exec(s);
  const text = (m ? m[1] : s) || S.cfg?.messages?.offline || t("widget.note.offlineSaved");
  return m ? t("widget.note.offlineCase", { text, case: m[2] }) : text;
}

function sysEl(m: WMsg): HTMLElement {
  const e = m.event || { action: "" };
  const name = e.name || m.name || "";
  const p = { name, to: e.to || "", case: e.text || "" };
  const a = e.action;
  const s =
    a === "joined" || a === "connected"
      ? t(name ? "widget.event.joined" : "widget.event.joinedAnon", p)
      : a === "left" || a === "disconnected"
        ? t(name ? "widget.event.left" : "widget.event.leftAnon", p)
        : a === "transferred"
          ? t(e.name ? (e.to ? "widget.event.transferredTo" : "widget.event.transferred") : e.to ? "widget.event.weTransferredTo" : "widget.event.weTransferred", p)
          : a === "closed"
            ? t("widget.event.closed")
            : a === "case_created"
              ? // Said mid-chat too: nobody is leaving, the chat is kept to follow it up.
                t(e.name ? "widget.event.caseCreated" : "widget.event.weCaseCreated", p)
              : a === "offline"
                ? offline(e.text || "")
                : e.text || m.text || a;
  return h("div", { class: a === "offline" ? "note" : "sys", "data-event": a }, s);
}

function msgEl(m: WMsg, name: string, st: string): HTMLElement {
  const mine = m.from === "visitor";
  const media = !m.deleted && !m.text && !!m.files?.length && m.files.every((f) => /^image\//.test(f.content_type));
  const b = h("div", { class: media ? "b media" : "b" });
  if (m.deleted) b.append(h("i", null, t("widget.message.deleted")));
  else {
    if (m.text) text(b, m.text);
    for (const f of m.files || []) b.append(fileEl(f));
  }
  return h(
    "div",
    { class: "m" + (mine ? " v " + st : ""), "data-status": st || null, "data-seq": String(m.seq) },
    name && h("div", { class: "who" }, name),
    b,
    h(
      "div",
      { class: "meta" },
      time(m.created_at),
      m.edited_at && !m.deleted && " · " + t("widget.message.edited"),
      mine && (st === "read" ? ic(I.ticks, t("widget.message.read")) : ic(I.tick, t("widget.message.sent"))),
    ),
  );
}

function outEl(o: Out): HTMLElement {
  const b = h("div", { class: "b" });
  if (o.text) text(b, o.text);
  if (o.file || o.name) b.append(h("span", { class: "fl" }, ic(I.file), h("span", null, o.file?.name || o.name || t("widget.message.file")), o.file && h("small", null, size(o.file.size))));
  const meta = o.fail
    ? [
        h("span", { title: o.fail }, t("widget.message.notSent")),
        // Refused for good (too long, too large): no Retry that can never work; the text can be taken back to edit.
        o.perm
          ? o.text &&
            h(
              "button",
              {
                class: "lk",
                type: "button",
                onclick: () => {
                  ta.value = o.text;
                  A.retry(o.cid, true);
                  grow();
                  ta.focus();
                },
              },
              t("widget.message.edit"),
            )
          : h("button", { class: "lk", type: "button", onclick: () => A.retry(o.cid) }, t("widget.message.retry")),
        h("button", { class: "lk", type: "button", onclick: () => A.retry(o.cid, true) }, t("widget.message.remove")),
      ]
    : [ic(I.clock), t(o.file && !o.fid ? "widget.message.uploading" : "widget.message.sending")];
  const st = o.fail ? "failed" : "pending";
  return h("div", { class: "m v " + st, "data-status": st }, b, h("div", { class: "meta" }, meta));
}

function rateEl(): HTMLElement {
  let score = 0;
  const ok = h("button", { class: "pri", type: "submit", disabled: true }, t("widget.rate.send"));
  const stars = [1, 2, 3, 4, 5].map((i) =>
    h(
      "button",
      {
        type: "button",
        role: "radio",
        "aria-checked": "false",
        "aria-label": t("widget.rate.star", { n: i }),
        onclick: () => {
          score = i;
          stars.forEach((s, j) => {
            s.classList.toggle("on", j < i);
            s.setAttribute("aria-checked", String(j + 1 === i));
          });
          ok.disabled = false;
        },
      },
      ic(I.star),
    ),
  );
  const com = h("textarea", { rows: "2", "aria-label": t("widget.rate.comment"), placeholder: t("widget.rate.commentPlaceholder"), maxlength: "2000" });
  return h(
    "form",
    {
      class: "card",
      "aria-label": t("widget.rate.label"),
      onsubmit: (e: Event) => {
        e.preventDefault();
        ok.disabled = true;
        A.rate(score, com.value.trim()).then((done) => (ok.disabled = done));
      },
    },
    h("h3", null, t("widget.rate.title")),
    h("p", null, t("widget.rate.text")),
    h("div", { class: "stars", role: "radiogroup", "aria-label": t("widget.rate.stars") }, stars),
    com,
    ok,
  );
}

function prechatEl(): HTMLElement {
  const fs = S.cfg?.prechat_fields || [];
  const inputs = fs.map((f) =>
    h("input", {
      name: f.name,
      type: f.name === "email" ? "email" : "text",
      required: f.required,
      value: S.ident[f.name] || null,
      autocomplete: f.name === "name" || f.name === "email" ? f.name : "off",
      maxlength: "200",
    }),
  );
  return h(
    "form",
    {
      class: "card",
      "aria-label": t("widget.prechat.title"),
      onsubmit: (e: Event) => {
        e.preventDefault();
        const v: Record<string, string> = {};
        inputs.forEach((i) => (v[i.name] = i.value.trim()));
        A.prechat(v);
      },
    },
    h("h3", null, t("widget.prechat.title")),
    h("p", null, t("widget.prechat.text")),
    fs.map((f, i) => h("label", null, f.label + (f.required ? " *" : ""), inputs[i])),
    h("button", { class: "pri", type: "submit" }, t("widget.prechat.start")),
  );
}

/** emailEl asks where to reply while nobody can answer, before the message becomes a case (seed 004). */
function emailEl(): HTMLElement {
  const i = h("input", { name: "email", type: "email", required: true, autocomplete: "email", maxlength: "200", value: S.ident.email || null });
  return h(
    "form",
    {
      class: "card",
      "aria-label": t("widget.email.title"),
      onsubmit: (e: Event) => {
        e.preventDefault();
        A.replyTo(i.value.trim());
      },
    },
    h("h3", null, t("widget.email.title")),
    h("p", null, t("widget.email.text")),
    h("label", null, t("widget.email.label") + " *", i),
    h("button", { class: "pri", type: "submit" }, t("widget.email.continue")),
    h("button", { class: "lk", type: "button", onclick: () => A.replyTo("") }, t("widget.email.skip")),
  );
}

/** list joins names the locale's way ("A, B and C", "A, B y C", "A, B и C"). */
const list = (xs: string[]) => new Intl.ListFormat(locale(), { type: "conjunction" }).format(xs);

export function render() {
  const n = S.unread;
  badge.hidden = !n || S.open;
  badge.textContent = n > 99 ? "99+" : String(n);
  bub.setAttribute("aria-label", S.open ? t("widget.bubble.minimize") : n ? t("widget.bubble.openUnread", { n }) : t("widget.bubble.open"));
  bub.setAttribute("aria-expanded", String(S.open));
  bub.hidden = !!S.cfg && !S.cfg.chat_enabled && !S.conv;
  wrap.classList.toggle("open", S.open);
  if (!pan) {
    if (!S.open) return;
    build();
  }
  pan!.hidden = !S.open;
  if (!S.open) return;

  const cfg = S.cfg;
  const c = S.conv;
  const cons = (c?.status === "open" && c.consultants) || [];
  const name = cfg?.name || t("widget.panel.defaultName");
  pan!.setAttribute("aria-label", cfg ? t("widget.panel.labelWith", { name }) : t("widget.panel.label"));
  title.textContent = name;
  av.textContent = initials(cons[0]?.name || name);
  // Whether someone can answer this dialog now (a level-2 specialist after a transfer), not only level 1.
  const on = !S.fatal && !!cfg && live();
  sub.replaceChildren(
    h("span", { class: "dot" + (on ? " on" : "") }),
    cons.length
      ? t("widget.status.chattingWith", { names: list(cons.map((x) => x.name)) })
      : t(S.fatal ? "widget.status.unavailable" : !cfg ? "widget.status.connecting" : on ? "widget.status.online" : "widget.status.offline"),
  );

  const items: HTMLElement[] = [];
  const used = new Set<string>();
  const put = (key: string, sig: string, make: () => HTMLElement) => {
    used.add(key);
    let e = cache.get(key);
    if (!e || e.s !== sig) cache.set(key, (e = { s: sig, el: make() }));
    items.push(e.el);
  };
  const texts = cfg?.messages || {};
  if (S.fatal) put("fatal", S.fatal, () => h("div", { class: "fatal" }, S.fatal));
  else if (!cfg) put("load", "", () => h("div", { class: "note" }, t("widget.status.connecting")));
  else {
    if (texts.greeting) put("greet", texts.greeting + name, () => msgEl({ text: texts.greeting, from: "consultant", created_at: "" } as WMsg, name, ""));
    if (!cfg.chat_enabled) put("off", "", () => h("div", { class: "note" }, t("widget.note.disabled")));
    // (Not again once the server has said it in the dialog, with the case number.)
    else if (!on && ![...S.msgs.values()].some((m) => m.event?.action === "offline" && m.c === c?.id)) put("offline", texts.offline || "", () => h("div", { class: "note" }, texts.offline || t("widget.note.offline")));
    if (S.prechat) put("prechat", JSON.stringify(cfg.prechat_fields), prechatEl);
    // Older messages to fetch: fetched when scrolled up to here, or on a click.
    if (c && S.top !== c.id && [...S.msgs.values()].some((m) => m.c === c.id))
      put("more", S.older ? "1" : "", () =>
        S.older
          ? h("div", { class: "more", role: "status" }, t("widget.log.loading"))
          : h("div", { class: "more" }, h("button", { class: "lk", type: "button", onclick: () => A.older() }, t("widget.log.earlier"))),
      );
    let prev = texts.greeting ? "c" + name : "";
    let mineInConv = false;
    for (const m of [...S.msgs.values()].sort((a, b) => a.id - b.id)) {
      const sys = m.kind === "event" || m.from === "system";
      const who = sys ? "" : m.from === "visitor" ? "v" : "c" + (m.name || "");
      const nm = who[0] === "c" && who !== prev ? m.name || "" : "";
      prev = who;
      const mine = m.from === "visitor";
      if (mine && c && m.c === c.id) mineInConv = true;
      const st = mine ? (c && m.c === c.id && m.seq <= c.read_seq ? "read" : "sent") : "";
      put("m" + m.id, [m.text, m.edited_at, m.deleted, nm, st, m.files?.length].join("|"), () => (sys ? sysEl(m) : msgEl(m, nm, st)));
    }
    for (const o of S.out) put("o" + o.cid, (o.fail || "") + o.fid, () => outEl(o));
    // What is true while nobody is in the dialog: after a consultant left or passed it on, colleagues
    // (or the specialist) are alerted; before anyone came, the project's waiting text.
    if (on && (S.out.length || mineInConv) && (!c || (c.status === "open" && !cons.length))) {
      let left: WMsg | undefined;
      for (const m of S.msgs.values()) if (m.c === c?.id && m.kind === "event" && (!left || m.id > left.id)) left = m;
      const a = left?.event?.action;
      const w =
        a === "transferred"
          ? left!.event!.to
            ? t("widget.note.specialistAsked", { name: left!.event!.to })
            : t("widget.note.someSpecialistAsked")
          : a === "disconnected"
            ? t("widget.note.colleagueAsked")
            : texts.waiting;
      if (w) put("wait", w, () => h("div", { class: "note" }, w));
    }
    if (S.askEmail) put("email", "", emailEl);
    if (c?.status === "closed") {
      if (S.rated === c.id) put("thx" + c.id, "", () => h("div", { class: "card thx", role: "status" }, h("h3", null, t("widget.rate.thanks")), h("p", null, t("widget.rate.more"))));
      else if (!c.rated) put("rate" + c.id, "", rateEl);
    }
  }
  for (const k of cache.keys()) if (!used.has(k)) cache.delete(k);
  const stick = toBottom || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  // Scrolled up: what the visitor reads stays in place when lines come or go above it
  // (older messages prepended, the loading line). The anchor is the last line in view that stays.
  let anchor: Element | undefined;
  let y = 0;
  if (!stick) {
    const keep = new Set<Element>(items);
    const bottom = log.getBoundingClientRect().bottom;
    for (let el = log.lastElementChild; el; el = el.previousElementSibling)
      if (keep.has(el) && (y = el.getBoundingClientRect().top) < bottom) {
        anchor = el;
        break;
      }
  }
  items.forEach((el, i) => log.children[i] !== el && log.insertBefore(el, log.children[i] || null));
  while (log.children.length > items.length) log.lastChild!.remove();
  if (stick) log.scrollTop = log.scrollHeight;
  else if (anchor) log.scrollTop += anchor.getBoundingClientRect().top - y;
  toBottom = false;

  const ty = S.typing;
  typ.textContent = ty.length ? t("widget.typing", { n: ty.length, names: list(ty) }) : "";
  err.hidden = !S.alert;
  errText.textContent = S.alert;
  cmp.hidden = !cfg || !!S.fatal || !cfg.chat_enabled || S.prechat || S.askEmail;
  ta.placeholder = t(c?.status === "closed" ? "widget.composer.placeholderNew" : "widget.composer.placeholder");
}
