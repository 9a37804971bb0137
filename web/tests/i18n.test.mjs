// Tests of the message catalogues (i18n/, docs/decisions.md "Languages"),
// run in Node (no browser): every key the sources use exists in every
// language, no language has keys the others lack, each translation has the
// same arguments as the English source and parses; plural selection
// (Russian one/few/many), numbers in the locale, and the widget's choice of
// language. A string added to the widget without its translations fails here.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { build } from "vite";
import { webDir } from "./harness.mjs";
import { scan } from "./i18n-scan.mjs";

const LANGS = ["en", "ru", "es"];
/** The catalogue namespaces: a directory in i18n/ each, and the sources that use it. */
const NS = { widget: ["widget"], app: ["app"] };

/** load bundles one TypeScript module with vite and imports it. */
async function load(entry) {
  const out = await build({
    configFile: false, logLevel: "warn", root: webDir,
    build: { write: false, minify: false, target: "es2022", lib: { entry, formats: ["es"] } },
  });
  const code = (Array.isArray(out) ? out[0] : out).output[0].code;
  return import("data:text/javascript;base64," + Buffer.from(code).toString("base64"));
}

let I;
const cats = {};
before(async () => {
  I = await load("i18n/i18n.ts");
  for (const ns of Object.keys(NS)) {
    cats[ns] = {};
    for (const l of LANGS) cats[ns][l] = (await load(`i18n/${ns}/${l}.ts`)).default;
  }
});

const files = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });

/** The keys the sources of a namespace use: every string literal "<ns>.…" (keys are only ever written whole). */
function used(ns) {
  const keys = new Map();
  const dynamic = [];
  for (const f of NS[ns].flatMap((d) => files(path.join(webDir, d)))) {
    const src = readFileSync(f, "utf8");
    const rel = path.relative(webDir, f);
    for (const m of src.matchAll(new RegExp(`(["'\`])(${ns}\\.[\\w.]+)\\1`, "g")))
      if (!/\.(js|ts|mjs)$/.test(m[2])) keys.set(m[2], rel);
    // t("…" + x), t(`…${x}`): a key made up at run time cannot be checked (nor shortened by the build).
    for (const m of src.matchAll(/\btp?\(\s*(["'`])[^"'`]*(\1\s*\+|\$\{)/g)) dynamic.push(rel + ": " + m[0]);
  }
  return { keys, dynamic };
}

/** args are the names of a message's arguments ({name}, {n, plural, …}). */
const args = (msg) => new Set([...msg.matchAll(/\{\s*(\w+)\s*[,}]/g)].map((m) => m[1]));

describe("catalogues", () => {
  for (const ns of Object.keys(NS)) {
    test(`${ns}: every key the sources use is in every language`, () => {
      const { keys, dynamic } = used(ns);
      assert.deepEqual(dynamic, [], "keys must be written whole, as string literals");
      assert.ok(keys.size > 50, `only ${keys.size} keys found in the ${ns} sources`);
      const missing = [];
      for (const l of LANGS) for (const [k, f] of keys) if (typeof cats[ns][l][k] !== "string") missing.push(`${l}: ${k} (used in ${f})`);
      assert.deepEqual(missing, []);
    });

    test(`${ns}: the languages have the same keys, and no key is unused`, () => {
      const en = Object.keys(cats[ns].en).sort();
      for (const l of LANGS) assert.deepEqual(Object.keys(cats[ns][l]).sort(), en, `${l} has other keys than en`);
      const { keys } = used(ns);
      assert.deepEqual(en.filter((k) => !keys.has(k)), [], "keys no source uses");
    });

    test(`${ns}: each translation has the English arguments, balanced braces, and an "other" plural`, () => {
      const bad = [];
      for (const [k, src] of Object.entries(cats[ns].en))
        for (const l of LANGS) {
          const msg = cats[ns][l][k];
          if (!msg.trim()) bad.push(`${l} ${k}: empty`);
          if (JSON.stringify([...args(msg)].sort()) !== JSON.stringify([...args(src)].sort()))
            bad.push(`${l} ${k}: arguments ${[...args(msg)]} ≠ en ${[...args(src)]}`);
          let d = 0;
          for (const c of msg) if ((d += c === "{" ? 1 : c === "}" ? -1 : 0) < 0) break;
          if (d !== 0) bad.push(`${l} ${k}: unbalanced braces`);
          for (const m of msg.matchAll(/\{\s*\w+\s*,\s*plural\s*,/g)) {
            const rest = msg.slice(m.index);
            if (!/\bother\s*\{/.test(rest)) bad.push(`${l} ${k}: a plural without "other"`);
          }
          // Every argument is filled in: nothing of the message's syntax is left in the text.
          const p = Object.fromEntries([...args(src)].map((a) => [a, a === "n" || a === "max" ? 3 : "X"]));
          const out = I.format(msg, p, l);
          if (/[{}#]/.test(out)) bad.push(`${l} ${k}: "${out}" keeps syntax`);
        }
      assert.deepEqual(bad, []);
    });
  }

  test("app: no text in the sources outside the catalogues (tests/i18n-scan.mjs)", () => {
    const found = files(path.join(webDir, "app")).flatMap((f) => scan(path.relative(webDir, f), readFileSync(f, "utf8")));
    assert.deepEqual(found, [], "text written in the code, not taken from i18n/app/*: use t()");
  });

  test("the scan finds text in JSX, text attributes and prose, and passes over code", () => {
    const src = `import x from "./a.css";
      const cls = "btn primary";
      export function A(p) {
        if (p.e.key === "Enter") go("ArrowDown");
        const m = { ok: "Saved the settings.", code: "queued" };
        return <div class="btn small" title="Open the chat" data-x="Some thing" aria-label={t("app.core.x")}>
          Hello there {p.name}<Modal heading="Delete this case?" />{t("app.core.y", { who: "Ann" })}
          <span aria-hidden="true">·</span>
        </div>;
      }`;
    const found = scan("a.tsx", src).map((f) => f.replace(/^a\.tsx:\d+: /, ""));
    assert.deepEqual(found.sort(), ['"Delete this case?"', '"Hello there"', '"Open the chat"', '"Saved the settings."'].sort());
  });

  test("a key missing from a catalogue is caught", () => {
    // The check above, on a catalogue with one key taken out.
    const { keys } = used("widget");
    const ru = { ...cats.widget.ru };
    delete ru["widget.composer.send"];
    assert.ok(keys.has("widget.composer.send"));
    assert.ok([...keys.keys()].some((k) => typeof ru[k] !== "string"));
  });
});

describe("plurals and formats", () => {
  test("Russian: one, few, many (1 2 5 21 11 22 111)", () => {
    const cases = { 1: "one", 2: "few", 5: "many", 21: "one", 11: "many", 22: "few", 111: "many", 0: "many" };
    for (const [n, c] of Object.entries(cases)) assert.equal(I.plural(Number(n), "ru"), c, `ru ${n}`);
    const star = cats.widget.ru["widget.rate.star"];
    assert.deepEqual(
      [1, 2, 5, 21, 11].map((n) => I.format(star, { n }, "ru")),
      ["1 звезда", "2 звезды", "5 звёзд", "21 звезда", "11 звёзд"],
    );
  });

  test("English and Spanish: one and other; exact =1 cases first", () => {
    assert.deepEqual([1, 2, 0].map((n) => I.format(cats.widget.en["widget.rate.star"], { n }, "en")), ["1 star", "2 stars", "0 stars"]);
    assert.deepEqual([1, 5].map((n) => I.format(cats.widget.es["widget.rate.star"], { n }, "es")), ["1 estrella", "5 estrellas"]);
    const typing = cats.widget.ru["widget.typing"];
    assert.equal(I.format(typing, { n: 1, names: "Анна" }, "ru"), "Анна печатает…");
    assert.equal(I.format(typing, { n: 2, names: "Анна и Олег" }, "ru"), "Анна и Олег печатают…");
  });

  test("numbers and times in the locale", () => {
    const msg = cats.widget.ru["widget.tooLong"];
    assert.equal(
      I.format(msg, { max: 2000, n: 2001 }, "ru"),
      "Сообщение может содержать не больше 2\u00a0000 символов, а в этом 2\u00a0001 символ. Сократите его или отправьте частями.",
    );
    assert.equal(I.format(cats.widget.en["widget.tooLong"], { max: 2000, n: 2001 }, "en").slice(0, 40), "Messages can be up to 2,000 characters; ");
    assert.equal(I.num(1.5, "es"), "1,5");
    const at = new Date(2026, 0, 2, 15, 7);
    assert.equal(I.time(at, "ru"), "15:07");
    assert.match(I.time(at, "en"), /^03:07\sPM$/);
  });

  test("tp puts elements in their place in the sentence of the language", () => {
    const el = { el: "b" };
    I.use("ru", { k: "Назначено: {who}, {n, plural, one {# раз} few {# раза} many {# раз} other {# раза}}" }, { k: "{who} was assigned {n} times" });
    assert.deepEqual(I.tp("k", { who: el, n: 3 }), ["Назначено: ", el, ", 3 раза"]);
    I.use("en", {}, { k: "{who} was assigned {n} times" });
    assert.deepEqual(I.tp("k", { who: el, n: 3 }), [el, " was assigned 3 times"]);
    I.use("en", {}, {});
  });

  test("t falls back to English for a key the language lacks, and says the key when none has it", () => {
    I.use("ru", { a: "по-русски" }, { a: "in English", b: "only English" });
    assert.equal(I.t("a"), "по-русски");
    assert.equal(I.t("b"), "only English");
    assert.equal(I.t("c"), "c");
    assert.equal(I.locale(), "ru");
    I.use("en", {}, {});
  });
});

describe("choice of language", () => {
  const nav = ["de-DE", "es-MX", "en"];
  test("the explicit choice wins, then the page's, then the browser's, then English", () => {
    assert.equal(I.choose("ru", "es", nav), "ru");
    assert.equal(I.choose("", "es", ["ru"]), "es");
    assert.equal(I.choose(undefined, "", nav), "es");
    assert.equal(I.choose(undefined, "", ["de", "fr"]), "en");
    assert.equal(I.choose(), "en");
  });
  test("regional tags map to the language; one Parley does not speak is passed over", () => {
    assert.equal(I.choose("ru-RU"), "ru");
    assert.equal(I.choose("es-419"), "es");
    assert.equal(I.choose("ES_es"), "es");
    assert.equal(I.choose("en-GB", "ru"), "en");
    assert.equal(I.choose("de", "pt-BR", ["ru-UA"]), "ru");
    assert.equal(I.match("russian"), "");
  });
});
