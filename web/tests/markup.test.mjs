// Unit and property tests of the message formatting parser (app/markup.ts),
// bundled by vite and run in Node: each form, and for any text that the
// tree holds no link but http, https and mailto, and that its text is the
// message's own characters, in order (formatting only takes marks away).
// The rendering of the tree into elements is tested in Chromium by
// render.test.mjs. FC_RUNS texts per property (2000), FC_SEED to replay.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { build } from "vite";
import fc from "fast-check";
import { webDir } from "./harness.mjs";

const runs = Number(process.env.FC_RUNS || 2000);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

let M;
before(async () => {
  const out = await build({
    configFile: false, logLevel: "warn", root: webDir,
    build: { write: false, minify: false, target: "es2022", lib: { entry: "app/markup.ts", formats: ["es"] } },
  });
  const code = (Array.isArray(out) ? out[0] : out).output[0].code;
  M = await import("data:text/javascript;base64," + Buffer.from(code).toString("base64"));
});

const T = (s) => ({ t: "text", s });
const P = (...c) => ({ t: "p", c });

describe("markup: each form", () => {
  const cases = [
    ["plain", "hello world", [P(T("hello world"))]],
    ["bold", "a **b** c", [P(T("a "), { t: "b", c: [T("b")] }, T(" c"))]],
    ["italic *", "*it*", [P({ t: "i", c: [T("it")] })]],
    ["italic _", "_it_ x", [P({ t: "i", c: [T("it")] }, T(" x"))]],
    ["snake_case stays", "a snake_case_name", [P(T("a snake_case_name"))]],
    ["strike", "~~no~~", [P({ t: "s", c: [T("no")] })]],
    ["nested", "**bold _and it_**", [P({ t: "b", c: [T("bold "), { t: "i", c: [T("and it")] }] })]],
    ["spaces do not open", "2 * 3 * 4", [P(T("2 * 3 * 4"))]],
    ["unclosed", "**open", [P(T("**open"))]],
    ["code", "run `rm -rf *` now", [P(T("run "), { t: "code", s: "rm -rf *" }, T(" now"))]],
    ["code keeps marks", "`**x**`", [P({ t: "code", s: "**x**" })]],
    ["code block", "```\nlet a = 1;\n**b**\n```", [{ t: "pre", s: "let a = 1;\n**b**" }]],
    ["code block with language", "```go\nx := 1\n```\nafter", [{ t: "pre", s: "x := 1" }, P(T("after"))]],
    ["code block on one line", "```a b```", [{ t: "pre", s: "a b" }]],
    ["unclosed code block", "```\nx", [{ t: "pre", s: "x" }]],
    ["auto link", "see https://example.com/a.", [P(T("see "), { t: "link", href: "https://example.com/a", s: "https://example.com/a" }, T("."))]],
    ["www link", "www.example.com", [P({ t: "link", href: "https://www.example.com", s: "www.example.com" })]],
    ["mailto", "mailto:a@b.c", [P({ t: "link", href: "mailto:a@b.c", s: "mailto:a@b.c" })]],
    ["named link", "[docs](https://x.y/d)", [P({ t: "link", href: "https://x.y/d", s: "docs" })]],
    ["named javascript link is text", "[x](javascript:alert(1))", [P(T("[x](javascript:alert(1))"))]],
    ["bold link", "**https://x.y**", [P({ t: "b", c: [{ t: "link", href: "https://x.y", s: "https://x.y" }] })]],
    ["bullets", "- one\n* two\n• three", [{ t: "ul", items: [[T("one")], [T("two")], [T("three")]] }]],
    ["numbers", "3. c\n4) d", [{ t: "ol", start: 3, items: [[T("c")], [T("d")]] }]],
    ["quote", "> said\n> **this**\nreply", [{ t: "quote", c: [P(T("said\n"), { t: "b", c: [T("this")] })] }, P(T("reply"))]],
    ["lines kept", "a\n\nb", [P(T("a\n\nb"))]],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => assert.deepEqual(M.parse(text), want));
  }

  test("plain strips the marks", () => {
    assert.equal(M.plain("**b** _i_ `c` [docs](https://x.y)\n- one\n> q"), "b i c docs\n• one\nq");
  });

  test("wrap and unwrap the selection", () => {
    assert.deepEqual(M.wrap("say hi", 4, 6, "**"), { text: "say **hi**", start: 6, end: 8 });
    assert.deepEqual(M.wrap("say **hi**", 6, 8, "**"), { text: "say hi", start: 4, end: 6 });
    assert.equal(M.formatKey("B", false), "**");
    assert.equal(M.formatKey("x", true), "~~");
    assert.equal(M.formatKey("x", false), "");
  });
});

// Pieces near the parser's edges: marks, link starts, HTML and schemes.
const piece = fc.oneof(
  fc.constantFrom("**", "*", "_", "~~", "~", "`", "```", "\n", "\n> ", "\n- ", "\n1. ", "[", "]", "(", ")", "](",
    "http://", "https://", "www.", "mailto:", "javascript:", "JaVaScRiPt:", "data:text/html,", "vbscript:", " ", "\t",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"", "'", "&", ".", ",", "x", "é", "😀", "\u202e"),
  fc.string({ maxLength: 6 }),
);
const message = fc.array(piece, { maxLength: 30 }).map((p) => p.join(""));

function walk(blocks, visit) {
  const inl = (xs) => xs.forEach((x) => (visit(x), x.c && inl(x.c)));
  for (const b of blocks) {
    visit(b);
    if (b.t === "p") inl(b.c);
    if (b.t === "quote") walk(b.c, visit);
    if (b.t === "ul" || b.t === "ol") b.items.forEach(inl);
  }
}

function texts(blocks) {
  const out = [];
  walk(blocks, (x) => {
    if (x.t === "text" || x.t === "code" || x.t === "link" || x.t === "pre") out.push(x.s);
  });
  return out;
}

describe("markup: any text", () => {
  test("links are http, https or mailto only", () => {
    fc.assert(
      fc.property(message, (text) => {
        walk(M.parse(text), (x) => {
          if (x.t === "link") assert.match(x.href, /^(https?:\/\/|mailto:)[^\s<>"'`]+$/i, `link ${x.href} in ${JSON.stringify(text)}`);
        });
      }),
      { numRuns: runs, seed },
    );
  });

  test("the shown text is the message's own characters, in order", () => {
    fc.assert(
      fc.property(message, (text) => {
        // Every piece of text (and a link's shown text) is found in the
        // message at or after the end of the previous one.
        let pos = 0;
        for (const s of texts(M.parse(text))) {
          for (const line of s.split("\n")) {
            const at = text.indexOf(line, pos);
            assert.ok(at >= 0, `${JSON.stringify(line)} is not in ${JSON.stringify(text)} after ${pos}`);
            pos = at + line.length;
          }
        }
      }),
      { numRuns: runs, seed },
    );
  });

  test("a text without marks is one paragraph of itself, with its links", () => {
    const calm = fc.string({ maxLength: 60 }).filter((s) => !/[*_~`\[>\n\-•+]|\d[.)]|www\.|https?:|mailto:/i.test(s));
    fc.assert(fc.property(calm, (text) => assert.deepEqual(M.parse(text), text ? [P(T(text))] : [])), { numRuns: runs, seed });
  });

  test("plain never leaves a bold or strike mark that parse took", () => {
    fc.assert(
      fc.property(message, (text) => {
        const p = M.plain(text);
        assert.ok(p.length <= text.length + 2 * text.split("\n").length, `plain grew: ${JSON.stringify(text)}`);
      }),
      { numRuns: runs, seed },
    );
  });
});
