// Markdown-style formatting of message texts: **bold**, *italic* or
// _italic_, ~~strike~~, `code`, ``` code blocks ```, links (web addresses
// found in the text, and [text](url)), bulleted and numbered lists and
// > quotes. parse turns a text into a small tree of blocks and inline
// pieces; the app (ui/Markup.tsx) and the widget (widget/view.ts) render
// that tree with their own element makers, as text nodes and a fixed set of
// elements, never as HTML: nothing in a message can add markup. Links are
// only ever http, https or mailto. Shared by the app and the widget, so it
// imports nothing.

export type Inline =
  | { t: "text"; s: string }
  | { t: "b" | "i" | "s"; c: Inline[] }
  | { t: "code"; s: string }
  | { t: "link"; href: string; s: string };

export type Block =
  | { t: "p"; c: Inline[] }
  | { t: "pre"; s: string }
  | { t: "quote"; c: Block[] }
  | { t: "ul"; items: Inline[][] }
  | { t: "ol"; start: number; items: Inline[][] };

export type Piece = string | { url: string };

const LINK = /\b((?:https?:\/\/|www\.)[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}*_~]|mailto:[^\s<>"'*_~`]+)/gi;

/** links splits text into plain pieces and web links (http, https, www., mailto). */
export function links(text: string): Piece[] {
  const out: Piece[] = [];
  const re = new RegExp(LINK.source, "gi");
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push({ url: linkURL(m[0]) });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// The match ignores case: "WWW." needs its scheme too, or the link would
// be relative, to a page of the app itself.
const linkURL = (u: string) => (/^www\./i.test(u) ? "https://" + u : u);

/** safeURL returns u when it is an http, https or mailto address, else "". */
export function safeURL(u: string): string {
  return /^(https?:\/\/[^\s<>"'`]+|mailto:[^\s<>"'`]+)$/i.test(u) ? u : "";
}

const FENCE = /^\s*```/;
const QUOTE = /^\s*>\s?/;
const BULLET = /^\s*[-*•+]\s+/;
const NUMBER = /^\s*(\d{1,9})[.)]\s+/;
const MAX_DEPTH = 4; // quotes in quotes, emphasis in emphasis

/** parse reads a message text into blocks. */
export function parse(text: string, depth = 0): Block[] {
  if (!text) return [];
  const lines = text.split("\n");
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ t: "p", c: inline(para.join("\n"), depth) });
    para = [];
  };
  for (let i = 0; i < lines.length; ) {
    const l = lines[i];
    if (FENCE.test(l)) {
      const first = l.replace(FENCE, "");
      // ```code``` on one line
      const one = first.lastIndexOf("```");
      if (one >= 0) {
        flush();
        out.push({ t: "pre", s: first.slice(0, one) });
        if (first.slice(one + 3).trim()) para.push(first.slice(one + 3));
        i++;
        continue;
      }
      let j = i + 1;
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
      flush();
      // The rest of the opening line is a language name when it is one
      // word; otherwise it is the first line of code.
      const body = lines.slice(i + 1, j);
      if (first.trim() && !/^[\w+#.-]+$/.test(first.trim())) body.unshift(first);
      out.push({ t: "pre", s: body.join("\n") });
      i = j + 1;
      continue;
    }
    if (QUOTE.test(l) && depth < MAX_DEPTH) {
      flush();
      const q: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) q.push(lines[i++].replace(QUOTE, ""));
      out.push({ t: "quote", c: parse(q.join("\n"), depth + 1) });
      continue;
    }
    if (BULLET.test(l)) {
      flush();
      const items: Inline[][] = [];
      while (i < lines.length && BULLET.test(lines[i])) items.push(inline(lines[i++].replace(BULLET, ""), depth));
      out.push({ t: "ul", items });
      continue;
    }
    const n = NUMBER.exec(l);
    if (n) {
      flush();
      const items: Inline[][] = [];
      while (i < lines.length && NUMBER.test(lines[i])) items.push(inline(lines[i++].replace(NUMBER, ""), depth));
      out.push({ t: "ol", start: Number(n[1]), items });
      continue;
    }
    para.push(l);
    i++;
  }
  flush();
  return out;
}

const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);
const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** inline reads the formatting inside one block. */
export function inline(s: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let buf = "";
  const push = (x: Inline) => {
    if (buf) out.push({ t: "text", s: buf });
    buf = "";
    out.push(x);
  };
  const re = new RegExp(LINK.source, "giy");
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    // `code`
    if (c === "`") {
      let n = 1;
      while (s[i + n] === "`") n++;
      const fence = "`".repeat(n);
      const end = s.indexOf(fence, i + n);
      if (end > i + n && s[end + n] !== "`") {
        push({ t: "code", s: s.slice(i + n, end) });
        i = end + n;
        continue;
      }
      buf += fence;
      i += n;
      continue;
    }
    // [text](url)
    if (c === "[") {
      const m = /^\[([^\[\]\n]{1,300})\]\(([^\s()<>"'`]{1,2000})\)/.exec(s.slice(i, i + 2400));
      if (m && safeURL(m[2])) {
        push({ t: "link", href: m[2], s: m[1] });
        i += m[0].length;
        continue;
      }
    }
    // a web address
    if ((c === "h" || c === "H" || c === "w" || c === "W" || c === "m" || c === "M") && !isWord(s[i - 1])) {
      re.lastIndex = i;
      const m = re.exec(s);
      if (m) {
        push({ t: "link", href: linkURL(m[0]), s: m[0] });
        i += m[0].length;
        continue;
      }
    }
    // **bold**, ~~strike~~, *italic*, _italic_
    if ((c === "*" || c === "_" || c === "~") && depth < MAX_DEPTH) {
      const two = s[i + 1] === c;
      const mark = c === "~" ? (two ? "~~" : "") : two && c === "*" ? "**" : c;
      if (mark && !isSpace(s[i + mark.length]) && !(c === "_" && isWord(s[i - 1]))) {
        const end = closer(s, i + mark.length, mark);
        if (end > 0) {
          const t = mark === "**" ? "b" : mark === "~~" ? "s" : "i";
          push({ t, c: inline(s.slice(i + mark.length, end), depth + 1) });
          i = end + mark.length;
          continue;
        }
      }
      buf += mark || c;
      i += (mark || c).length;
      continue;
    }
    buf += c;
    i++;
  }
  if (buf) out.push({ t: "text", s: buf });
  return out;
}

// closer finds where emphasis opened with mark before from ends: the next
// mark that follows a non-space and, for _, is not inside a word; code spans
// and links in between are skipped whole. -1 when there is none.
function closer(s: string, from: number, mark: string): number {
  const c = mark[0];
  for (let j = from; j < s.length; j++) {
    const ch = s[j];
    if (ch === "\n" && s[j + 1] === "\n") return -1; // not across an empty line
    if (ch === "`") {
      const e = s.indexOf("`", j + 1);
      if (e > 0) j = e;
      continue;
    }
    if (ch !== c) continue;
    if (!s.startsWith(mark, j) || j === from || isSpace(s[j - 1])) {
      if (mark.length === 1 && s[j + 1] === c) j++; // a ** is not two closing *
      continue;
    }
    if (mark.length === 1 && (s[j + 1] === c || s[j - 1] === c)) continue;
    if (c === "_" && isWord(s[j + mark.length])) continue;
    return j;
  }
  return -1;
}

/** plain is a text without its formatting marks: for notifications and previews. */
export function plain(text: string): string {
  const inl = (xs: Inline[]): string =>
    xs.map((x) => (x.t === "text" || x.t === "code" ? x.s : x.t === "link" ? x.s : inl(x.c))).join("");
  const blk = (bs: Block[]): string[] =>
    bs.map((b) => {
      switch (b.t) {
        case "p":
          return inl(b.c);
        case "pre":
          return b.s;
        case "quote":
          return blk(b.c).join("\n");
        case "ul":
          return b.items.map((it) => "• " + inl(it)).join("\n");
        case "ol":
          return b.items.map((it, k) => b.start + k + ". " + inl(it)).join("\n");
      }
    });
  return blk(parse(text)).join("\n");
}

/** formatKey is the mark a composer shortcut (with Ctrl or ⌘) puts around the selection: B bold, I italic, E code, Shift+X strike. */
export function formatKey(key: string, shift: boolean): string {
  const k = key.toLowerCase();
  if (shift) return k === "x" ? "~~" : "";
  return k === "b" ? "**" : k === "i" ? "_" : k === "e" ? "`" : "";
}

/**
 * wrap puts mark around text's selection [start, end), or takes it away
 * when the selection is already wrapped in it; it returns the new text
 * and selection.
 */
export function wrap(text: string, start: number, end: number, mark: string): { text: string; start: number; end: number } {
  const n = mark.length;
  if (start >= n && text.slice(start - n, start) === mark && text.slice(end, end + n) === mark) {
    return { text: text.slice(0, start - n) + text.slice(start, end) + text.slice(end + n), start: start - n, end: end - n };
  }
  return { text: text.slice(0, start) + mark + text.slice(start, end) + mark + text.slice(end), start: start + n, end: end + n };
}
