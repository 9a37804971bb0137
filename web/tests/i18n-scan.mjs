// i18n-scan finds text in the staff app's sources that does not come from
// a message catalogue (docs/decisions.md, "Languages"): JSX text, text
// attributes (aria-label, title, placeholder, ...) and string literals that
// read as English prose or a label ("Save", "Could not load the list.").
// tests/i18n.test.mjs runs it over app/; run it by hand on some files with
//   node tests/i18n-scan.mjs app/ui/Sidebar.tsx app/lazy/Tasks.tsx
//
// It parses with @babel/parser and walks the tree; what it cannot tell from
// code (a CSS class list in a variable, a protocol word) is marked in the
// source with a comment containing "i18n-ignore" on the line or the line
// before, with the reason.

import { parse } from "@babel/parser";
import { readFileSync } from "node:fs";

/** Attributes whose strings are code, never shown: their values are not looked at. */
const CODE_ATTRS = new Set(
  (
    "class className style key id href src type role rel target name autocomplete autoComplete inputMode enterKeyHint " +
    "pattern method accept for htmlFor tabIndex dir lang loading decoding referrerPolicy sandbox allow crossOrigin " +
    "value defaultValue min max step width height viewBox d fill stroke points cx cy r x y x1 x2 y1 y2 transform " +
    "aria-controls aria-labelledby aria-describedby aria-haspopup aria-live aria-current aria-hidden aria-expanded " +
    "aria-pressed aria-selected aria-checked aria-orientation aria-autocomplete aria-activedescendant aria-owns " +
    "aria-keyshortcuts aria-sort aria-busy aria-modal aria-invalid aria-required aria-level aria-setsize aria-posinset " +
    "kind variant size to path icon mode as playsInline muted autoplay preload capture"
  ).split(" "),
);
/** Attributes whose strings are always shown to people: any letter in them is text. */
const TEXT_ATTRS = new Set("aria-label title placeholder alt label aria-description aria-placeholder aria-roledescription aria-valuetext".split(" "));
/** Single capitalised words that are code (keys, HTTP, DOM), not labels. */
const CODE_WORDS = new Set(
  (
    "Enter Escape Esc Tab Backspace Delete Insert Home End PageUp PageDown Space Shift Control Alt Meta GET POST PUT PATCH DELETE " +
    "HEAD OPTIONS Bearer Basic Authorization Content-Type Accept Idempotency-Key Date Math JSON Error Promise Intl Notification " +
    "Infinity NaN UTC Z Parley"
  ).split(" "),
);
/** Little English words that class lists and codes do not have: a string with a space and one of them reads as prose. */
const PROSE = /(^|[\s(])(the|a|an|to|of|you|your|is|are|by|for|with|and|not|no|this|that|be|has|have|was|it|from|can|will|cannot|could|please|yet|here|there|who|what|when)(?=[\s,.:;!?…)]|$)/i;

/** prose tells whether a string literal outside JSX reads as something shown to a person. */
export function prose(s) {
  const v = s.trim();
  if (!/\p{L}{2}/u.test(v)) return false;
  if (/^[a-z][\w-]*(\.[\w-]+)+$/.test(v)) return false; // a key, a file name, a dotted path
  if (/^(https?:|mailto:|tel:|data:|blob:|\/|\.\/|#|\?|&|[\w-]+=)/.test(v)) return false; // URLs and paths
  if (/^[\w-]+$/.test(v)) return /^[A-Z][a-z]+(-[a-z]+)*$/.test(v) && !CODE_WORDS.has(v); // "Save", "Multi-chat", not "ArrowDown"
  if (/^[A-Z][a-z']+[\s,:]/.test(v)) return true; // "Save changes", "Not found, ...", "Assistance: "
  if (/\s/.test(v) && /[.…?!]$/.test(v) && /\p{L}{3}/u.test(v)) return true; // a sentence
  return /\s/.test(v) && PROSE.test(v);
}

/** scan returns the places in one source file where text is not from a catalogue: "file:line: what". */
export function scan(file, src = readFileSync(file, "utf8")) {
  const ast = parse(src, { sourceType: "module", plugins: ["typescript", "jsx"], errorRecovery: true });
  const lines = src.split("\n");
  const ignored = (line) => /i18n-ignore/.test(lines[line - 1] || "") || /i18n-ignore/.test(lines[line - 2] || "");
  const out = [];
  const report = (node, what) => {
    const line = node.loc.start.line;
    if (!ignored(line)) out.push(`${file}:${line}: ${what}`);
  };
  const strings = (node, all) => {
    // all: any letters count (a text attribute); else only prose.
    walk(node, (n, stop) => {
      if (n.type === "StringLiteral") {
        if (all ? /\p{L}{2}/u.test(n.value) && !/^[a-z][\w-]*(\.[\w-]+)+$/.test(n.value) : prose(n.value)) report(n, JSON.stringify(n.value));
      } else if (n.type === "TemplateLiteral") {
        const text = n.quasis.map((q) => q.value.cooked).join("");
        if (all ? /\p{L}{2}/u.test(text) : prose(n.quasis.map((q) => q.value.cooked).join(" x "))) report(n, "`" + text + "`");
      } else if (n.type === "CallExpression" && isT(n)) stop();
      else if (n.type === "JSXElement" || n.type === "JSXFragment") {
        visit(n);
        stop();
      }
    });
  };
  const visit = (root) =>
    walk(root, (n, stop) => {
      switch (n.type) {
        case "ImportDeclaration":
        case "ExportAllDeclaration":
        case "TSTypeAnnotation":
        case "TSTypeAliasDeclaration":
        case "TSInterfaceDeclaration":
        case "TSLiteralType":
        case "TSEnumDeclaration":
          return stop();
        case "CallExpression":
          if (isT(n) || isConsole(n) || isCodeCall(n)) return stop();
          return;
        case "BinaryExpression":
          if (/^[!=]==?$/.test(n.operator)) return stop(); // comparisons with codes: e.key === "Enter"
          return;
        case "SwitchCase":
          if (n.test) walk(n.test, (_, s) => s());
          for (const c of n.consequent) visit(c);
          return stop();
        case "ObjectProperty":
          if (n.computed) return;
          visit(n.value);
          return stop();
        case "MemberExpression":
          if (n.computed && n.property.type === "StringLiteral") return stop();
          return;
        case "JSXText":
          if (/\p{L}{2}/u.test(n.value)) report(n, JSON.stringify(n.value.trim()));
          return;
        case "JSXAttribute": {
          const name = n.name.type === "JSXNamespacedName" ? n.name.name.name : n.name.name;
          if (!n.value || CODE_ATTRS.has(name) || name.startsWith("data-") || /^on[A-Z]/.test(name)) return stop();
          strings(n.value, TEXT_ATTRS.has(name));
          return stop();
        }
        case "JSXOpeningElement":
          if (/^(svg|path|circle|rect|g|line|polyline|polygon|ellipse|defs|clipPath|mask|use|stop|linearGradient)$/.test(n.name.name || ""))
            return stop();
          return;
        case "StringLiteral":
          if (prose(n.value)) report(n, JSON.stringify(n.value));
          return;
        case "TemplateLiteral": {
          const text = n.quasis.map((q) => q.value.cooked).join(" x ");
          if (prose(text)) report(n, "`" + n.quasis.map((q) => q.value.cooked).join("${…}") + "`");
          return;
        }
      }
    });
  visit(ast.program);
  return out;
}

const callee = (n) => (n.callee.type === "MemberExpression" ? n.callee.property.name : n.callee.name);
/** isT: t("…") and tp("…"), whose arguments are keys and values. */
const isT = (n) => n.callee.type === "Identifier" && (n.callee.name === "t" || n.callee.name === "tp");
const isConsole = (n) => n.callee.type === "MemberExpression" && n.callee.object.name === "console";
/** isCodeCall: calls whose string arguments are code (selectors, events, storage keys, headers, MIME types). */
const isCodeCall = (n) =>
  /^(querySelector|querySelectorAll|closest|matches|getElementById|addEventListener|removeEventListener|getItem|setItem|removeItem|setAttribute|getAttribute|removeAttribute|toggleAttribute|createElement|get|set|has|delete|append|postMessage|dispatchEvent|CustomEvent|Event|startsWith|endsWith|includes|split|join|replace|replaceAll|match|test|padStart|padEnd|indexOf|lastIndexOf|toLocaleString|toLocaleDateString|toLocaleTimeString|DateTimeFormat|NumberFormat|RelativeTimeFormat|PluralRules|matchMedia|fetch|request|navigate|sendFrame|send|on|off|emit|canPlayType|isTypeSupported|getContext|toDataURL|toBlob|Blob|File|URL|RegExp|css|keyframes)$/.test(
    callee(n) || "",
  );

/** walk visits a tree depth first; the visitor's stop() skips the node's children. */
function walk(node, fn) {
  const go = (n) => {
    if (!n || typeof n.type !== "string") return;
    let skip = false;
    fn(n, () => (skip = true));
    if (skip) return;
    for (const k of Object.keys(n)) {
      if (k === "loc" || k === "start" || k === "end" || k === "leadingComments" || k === "trailingComments" || k === "extra") continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(go);
      else if (v && typeof v.type === "string") go(v);
    }
  };
  go(node);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = process.argv.slice(2).flatMap((f) => scan(f));
  for (const f of found) console.log(f);
  console.log(`${found.length} untranslated`);
  process.exitCode = found.length ? 1 : 0;
}
