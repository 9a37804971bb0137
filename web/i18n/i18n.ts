// Parley's message catalogues (docs/decisions.md, "Languages"): one small
// module for the staff app and the website widget, no dependency.
//
// A catalogue is a flat object of stable keys ("widget.offline.title") to
// messages; English is the source and the fallback for a key a catalogue
// lacks. A message is text with ICU-like arguments:
//   "{name} joined the chat"                 a value
//   "{n, plural, one {# star} other {# stars}}"  a plural (Intl.PluralRules;
//        =0/=1 exact cases first, # is the number in the locale's digits)
// Dates, times and numbers are formatted with Intl in the chosen locale.

export type Catalog = Record<string, string>;
export type Params = Record<string, string | number>;

/** The languages Parley speaks; English first (the source). */
export const LANGS = ["en", "ru", "es"] as const;
export type Lang = (typeof LANGS)[number];

let lang: Lang = "en";
let cur: Catalog = {};
let src: Catalog = {};

/** use sets the language and its catalogue; base is the English source, the fallback for a missing key. */
export function use(l: Lang, messages: Catalog, base: Catalog = src) {
  lang = l;
  cur = messages;
  src = base;
}

/** locale is the language in use (a BCP 47 tag for Intl and lang attributes). */
export const locale = (): Lang => lang;

/** t is the message for key in the language in use, with its arguments filled in. */
export function t(key: string, params?: Params): string {
  const m = cur[key] ?? src[key];
  return m == null ? key : format(m, params || {}, lang);
}

/**
 * tp is t for a message with elements in it (a name in bold, a link): the
 * arguments that are not strings or numbers come back in their place, in
 * an array of parts to render ("Assigned to {who} by {how}").
 */
export function tp(key: string, params: Record<string, unknown>): unknown[] {
  const text: Params = {};
  const parts: unknown[] = [];
  for (const [k, v] of Object.entries(params))
    if (typeof v === "string" || typeof v === "number") text[k] = v;
    else {
      text[k] = "\u0000" + parts.length + "\u0000";
      parts.push(v);
    }
  return t(key, text)
    .split(/\u0000(\d+)\u0000/)
    .map((s, i) => (i % 2 ? parts[Number(s)] : s))
    .filter((s) => s !== "");
}

/** format fills in a message's arguments (see the file's comment). */
export function format(msg: string, p: Params, l: string): string {
  let out = "";
  let i = 0;
  while (i < msg.length) {
    const c = msg[i];
    if (c !== "{") {
      out += c;
      i++;
      continue;
    }
    const end = close(msg, i);
    const body = msg.slice(i + 1, end);
    i = end + 1;
    const k = body.indexOf(",");
    if (k < 0) {
      const v = p[body.trim()];
      out += v == null ? "{" + body + "}" : typeof v === "number" ? num(v, l) : v;
      continue;
    }
    // {n, plural, =0 {...} one {...} other {...}}
    const name = body.slice(0, k).trim();
    const rest = body.slice(k + 1);
    const opts = rest.slice(rest.indexOf(",") + 1);
    const n = Number(p[name]);
    const cases: Record<string, string> = {};
    for (let j = 0; j < opts.length; ) {
      const o = opts.indexOf("{", j);
      if (o < 0) break;
      const e = close(opts, o);
      cases[opts.slice(j, o).trim()] = opts.slice(o + 1, e);
      j = e + 1;
    }
    const pick = cases["=" + n] ?? cases[plural(n, l)] ?? cases.other ?? "";
    out += format(pick.replace(/#/g, "{" + name + "}"), p, l);
  }
  return out;
}

/** close is the index of the brace that closes the one at i. */
function close(s: string, i: number): number {
  for (let d = 0, j = i; j < s.length; j++) {
    if (s[j] === "{") d++;
    else if (s[j] === "}" && !--d) return j;
  }
  return s.length;
}

/**
 * cached keeps one Intl formatter per kind, language and options: making
 * one costs far more than using it, and a list of messages formats a time
 * per row.
 */
const formatters = new Map<string, unknown>();
function cached<F>(kind: string, l: string, o: object | undefined, make: () => F): F {
  const key = kind + l + (o ? JSON.stringify(o) : "");
  let f = formatters.get(key) as F | undefined;
  if (!f) formatters.set(key, (f = make()));
  return f;
}
const HM: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };

/** plural is n's plural category in language l: "one", "few", "many", "other" (Russian has all four). */
export const plural = (n: number, l: string = lang) => cached("p", l, undefined, () => new Intl.PluralRules(l)).select(n);

/** num writes a number in the locale's way (1,234 · 1 234 · 1.234). */
export const num = (n: number, l: string = lang, o?: Intl.NumberFormatOptions) => cached("n", l, o, () => new Intl.NumberFormat(l, o)).format(n);

/** time is a date's hour and minute in the locale ("" for no date). */
export function time(s: string | number | Date, l: string = lang): string {
  const d = new Date(s);
  return isNaN(+d) ? "" : cached("d", l, HM, () => new Intl.DateTimeFormat(l, HM)).format(d);
}

/** date formats a date in the locale with the given fields. */
export function date(s: string | number | Date, o: Intl.DateTimeFormatOptions = { dateStyle: "medium" }, l: string = lang): string {
  const d = new Date(s);
  return isNaN(+d) ? "" : cached("d", l, o, () => new Intl.DateTimeFormat(l, o)).format(d);
}

/** ago says how long ago a moment was ("5 minutes ago", "5 минут назад"), in the largest whole unit. */
export function ago(s: string | number | Date, now = Date.now(), l: string = lang): string {
  const sec = Math.round((+new Date(s) - now) / 1000);
  const f = cached("r", l, undefined, () => new Intl.RelativeTimeFormat(l, { numeric: "auto" }));
  const units: [Intl.RelativeTimeFormatUnit, number][] = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [u, k] of units) if (Math.abs(sec) >= k) return f.format(Math.trunc(sec / k), u);
  return f.format(0, "second");
}

/** match maps a language tag (ru-RU, es-419, EN) to one Parley speaks, or "". */
export function match(tag: string | null | undefined): Lang | "" {
  const base = (tag || "").trim().toLowerCase().split(/[-_]/)[0];
  return (LANGS as readonly string[]).includes(base) ? (base as Lang) : "";
}

/**
 * choose picks the language: the first of the candidates Parley speaks, in
 * order (an explicit choice, then the page's, then the browser's), else English.
 */
export function choose(...candidates: (string | readonly string[] | null | undefined)[]): Lang {
  for (const c of candidates)
    for (const tag of typeof c === "string" || c == null ? [c] : c) {
      const l = match(tag);
      if (l) return l;
    }
  return "en";
}
