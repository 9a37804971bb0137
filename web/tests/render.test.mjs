// Property test of the message text renderers (the web app's Text
// component, its formatted message rows, and the widget's text()), in
// Chromium. The plain Text (search results): for any text, what they
// render is the text itself, in text nodes, plus the only markup they make
// — links (<a href target rel>, to http, https or mailto only) and, in the
// app, <mark> around the words of a search. Nothing in a message can add
// markup or an attribute, or a link to another scheme (javascript:,
// data:). The formatted renderers (markup.ts) make only its elements, with
// no attribute but a link's: see checkFormatted. fast-check makes the texts: FC_RUNS of them per renderer (1000;
// more for a longer run), FC_SEED to replay a failure.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { build } from "vite";
import preact from "@preact/preset-vite";
import fc from "fast-check";
import { chromiumPath, launchBrowser, webDir } from "./harness.mjs";
import { existsSync } from "node:fs";

const skip = existsSync(chromiumPath) ? "" : `Chromium is not installed at ${chromiumPath}`;
const runs = Number(process.env.FC_RUNS || 1000);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

// Pieces that make texts near the renderers' edges: link starts and ends,
// markup, entities, quotes, controls and bidi overrides.
const piece = fc.oneof(
  fc.constantFrom("http://", "https://", "www.", "mailto:", "javascript:", "data:text/html,", "HTTPS://", "wWw.", "ftp://",
    "<", ">", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"', "'", "&", "&amp;", "&lt;", "`", "=",
    " ", "\n", "\t", ".", ",", ")", "]", "}", "!", "?", ":", ";", "/", "\\", "#", "%00", "\u0000", "\u202e", "\ufeff",
    "example.com", "a@b.c", "x", "é", "😀", "\ud800"),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
);
const message = fc.array(piece, { maxLength: 24 }).map((p) => p.join(""));

describe("message text rendering", { skip: skip || false, timeout: 600_000 }, () => {
  let browser, page;

  before(async () => {
    // Just the renderers, bundled as the app's build compiles them.
    const out = await build({
      configFile: false, logLevel: "warn", root: webDir,
      plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
      define: { __APP_VERSION__: '"test"' },
      build: { write: false, minify: false, target: "es2022", lib: { entry: "tests/render-entry.tsx", formats: ["iife"], name: "R" } },
    });
    const code = (Array.isArray(out) ? out[0] : out).output[0].code;
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setContent("<!doctype html><title>render</title>");
    await page.addScriptTag({ content: code });
    // tree serialises what a renderer made: text nodes, and elements with
    // their attributes and children.
    await page.evaluate(() => {
      const tree = (n) =>
        n.nodeType === Node.TEXT_NODE
          ? { text: n.data }
          : { tag: n.nodeName.toLowerCase(), attrs: Object.fromEntries([...n.attributes].map((a) => [a.name, a.value])), kids: [...n.childNodes].map(tree) };
      window.renderApp = (t, hl) => tree(window.R.appText(t, hl)).kids;
      window.renderWidget = (t) => tree(window.R.widgetText(t)).kids;
      window.renderFormatted = (t, hl) => tree(window.R.appFormatted(t, hl)).kids;
    });
  });

  after(async () => {
    await browser?.close();
  });

  // check walks the rendered nodes along the text: each text node is the
  // next part of it; a link's text is the next part (a "www." link shows
  // the https:// it links to), its href that text, its scheme http, https
  // or mailto; a <mark> (marks true) holds a search word; nothing else.
  function check(text, nodes, { marks = false, words = [] } = {}) {
    let pos = 0;
    const take = (s, what) => {
      assert.ok(text.startsWith(s, pos), `${what} ${JSON.stringify(s)} is not the text at ${pos} of ${JSON.stringify(text)}`);
      pos += s.length;
    };
    const walk = (ns) => {
      for (const n of ns) {
        if (n.text !== undefined) {
          take(n.text, "text");
          continue;
        }
        if (n.tag === "mark" && marks) {
          assert.ok(n.kids.every((k) => k.text !== undefined), `markup in a <mark> of ${JSON.stringify(text)}`);
          const t = n.kids.map((k) => k.text).join("");
          assert.ok(words.includes(t.toLowerCase()), `<mark>${t}</mark> is no search word of ${JSON.stringify(words)}`);
          take(t, "marked text");
          continue;
        }
        assert.equal(n.tag, "a", `a <${n.tag}> in ${JSON.stringify(text)}`);
        assert.deepEqual(Object.keys(n.attrs).sort(), ["href", "rel", "target"], `link attributes in ${JSON.stringify(text)}`);
        assert.equal(n.attrs.target, "_blank");
        assert.equal(n.attrs.rel, "noopener noreferrer");
        assert.ok(n.kids.length === 1 && n.kids[0].text !== undefined, `markup in a link of ${JSON.stringify(text)}`);
        const shown = n.kids[0].text;
        assert.equal(n.attrs.href, shown, `a link to ${n.attrs.href} shows ${shown}`);
        // The scheme as the browser reads it: leading spaces and controls
        // are skipped, tabs and newlines removed, letters any case.
        const scheme = shown.replace(/^[\u0000-\u0020]+/, "").replace(/[\t\n\r]/g, "").toLowerCase();
        assert.match(scheme, /^(https?:\/\/|mailto:)/, `a link to ${shown} in ${JSON.stringify(text)}`);
        take(shown.startsWith("https://") && !text.startsWith(shown, pos) ? shown.slice("https://".length) : shown, "link");
      }
    };
    walk(nodes);
    assert.equal(pos, text.length, `only ${pos} of ${text.length} characters of ${JSON.stringify(text)} rendered`);
  }

  // checkFormatted checks what the formatted renderers made (the app's
  // message rows, the widget): only the elements of markup.ts, with no
  // attribute but a link's href, target and rel (http, https or mailto)
  // and a numbered list's start; each text node is the message's own
  // text, found in order (formatting takes the marks away).
  const FORMAT_TAGS = new Set(["p", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "mark"]);
  function checkFormatted(text, nodes, { marks = false } = {}) {
    let pos = 0;
    const walk = (ns, inLink) => {
      for (const n of ns) {
        if (n.text !== undefined) {
          for (const line of n.text.split("\n")) {
            // A www. link shows its address as written; its href adds https://.
            const at = text.indexOf(line, pos);
            assert.ok(at >= 0, `text ${JSON.stringify(line)} is not in ${JSON.stringify(text)} after ${pos}`);
            pos = at + line.length;
          }
          continue;
        }
        assert.ok(FORMAT_TAGS.has(n.tag) && (marks || n.tag !== "mark"), `a <${n.tag}> in ${JSON.stringify(text)}`);
        const attrs = Object.keys(n.attrs).sort();
        if (n.tag === "a") {
          assert.ok(!inLink, `a link in a link in ${JSON.stringify(text)}`);
          assert.deepEqual(attrs, ["href", "rel", "target"], `link attributes in ${JSON.stringify(text)}`);
          assert.equal(n.attrs.target, "_blank");
          assert.equal(n.attrs.rel, "noopener noreferrer");
          const scheme = n.attrs.href.replace(/^[\u0000-\u0020]+/, "").replace(/[\t\n\r]/g, "").toLowerCase();
          assert.match(scheme, /^(https?:\/\/|mailto:)/, `a link to ${n.attrs.href} in ${JSON.stringify(text)}`);
        } else if (n.tag === "ol") {
          assert.ok(attrs.length === 0 || (attrs.length === 1 && attrs[0] === "start" && /^\d+$/.test(n.attrs.start)), `ol attributes in ${JSON.stringify(text)}`);
        } else {
          assert.deepEqual(attrs, [], `<${n.tag}> attributes in ${JSON.stringify(text)}`);
        }
        walk(n.kids, inLink || n.tag === "a");
      }
    };
    walk(nodes, false);
  }

  const fpiece = fc.oneof(piece, fc.constantFrom("**", "*", "_", "~~", "```", "\n> ", "\n- ", "\n1. ", "[x](", "](javascript:", "](https://a.b)"));
  const formatted = fc.array(fpiece, { maxLength: 30 }).map((p) => p.join(""));

  test("the web app's message rows, formatted", async () => {
    await fc.assert(
      fc.asyncProperty(formatted, async (text) => checkFormatted(text, await page.evaluate(([t]) => window.renderFormatted(t), [text]))),
      { numRuns: runs, seed, examples: [["[x](javascript:alert(1))"], ["**<b>www.example.com</b>**"], ["> ```\n<script>alert(1)</script>"]] },
    );
  });

  test("the web app's message rows, formatted, highlighting search words", async () => {
    await fc.assert(
      fc.asyncProperty(formatted, fc.constantFrom("a", "href", "http", "strong"), async (text, hl) =>
        checkFormatted(text, await page.evaluate(([t, h]) => window.renderFormatted(t, h), [text, hl]), { marks: true }),
      ),
      { numRuns: runs, seed },
    );
  });

  // Examples run first, each time (they count in numRuns): wWw.## was a
  // relative link in the app.
  const params = { numRuns: runs, seed, examples: [["javascript:alert(1)//https://x.y"], ["<b>www.example.com</b>"], ["mailto:a@b.c?x=<script>"], ["https://a.b/\"onmouseover=alert(1)"], ["wWw.##"]] };

  test("the web app", async () => {
    await fc.assert(
      fc.asyncProperty(message, async (text) => check(text, await page.evaluate(([t]) => window.renderApp(t), [text]))),
      params,
    );
  });

  test("the web app, highlighting search words", async () => {
    const words = fc.array(fc.oneof(piece, fc.constantFrom("mark", "a", "href", "http")), { minLength: 1, maxLength: 3 }).map((w) => w.join(" "));
    await fc.assert(
      fc.asyncProperty(message, words, async (text, hl) => {
        const ws = hl.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
        check(text, await page.evaluate(([t, h]) => window.renderApp(t, h), [text, hl]), { marks: true, words: ws });
      }),
      { numRuns: runs, seed },
    );
  });

  test("the widget, formatted", async () => {
    await fc.assert(
      fc.asyncProperty(formatted, async (text) => checkFormatted(text, await page.evaluate(([t]) => window.renderWidget(t), [text]))),
      params,
    );
  });
});
