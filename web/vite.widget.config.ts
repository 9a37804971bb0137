// Vite builds the website chat widget (widget/, docs/livechat.md) into
// dist/widget.js: one classic script (an IIFE, loaded with <script async>),
// no chunks, no CSS file (the styles are a string put in the shadow root).
// It runs after the app's build and must not empty dist/.
//
// Reproducible like the app's build: a fixed file name, no source maps.
//
// The widget speaks English, built in; each other language is its own small
// script, dist/widget-<lang>.js, that widget/lang.ts loads when the visitor's
// language is that one (docs/livechat.md, "Language"). It calls
// ParleyWidgetLocale(lang, catalogue); written in ASCII (\u escapes), so the
// host page's charset cannot garble it.
//
// To keep widget.js small, the build writes each catalogue key
// ("widget.composer.send") as a short id, the same in widget.js and in the
// language files: a key is only ever written whole, as a string literal
// (i18n.test.mjs checks the sources use no other).
import { defineConfig, type Plugin } from "vite";
import en from "./i18n/widget/en.ts";
import es from "./i18n/widget/es.ts";
import ru from "./i18n/widget/ru.ts";

const ids = new Map(Object.keys(en).map((k, i) => [k, i.toString(36)]));
const short = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [ids.get(k) || k, v]));

const locales: Plugin = {
  name: "parley-widget-locales",
  renderChunk(code) {
    return code.replace(/(["'`])(widget\.[\w.]+)\1/g, (m, q, k) => (ids.has(k) ? q + ids.get(k) + q : m));
  },
  generateBundle() {
    for (const [lang, msgs] of Object.entries({ es, ru })) {
      const json = JSON.stringify(short(msgs)).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
      this.emitFile({
        type: "asset",
        fileName: `widget-${lang}.js`,
        source: `window.ParleyWidgetLocale&&ParleyWidgetLocale(${JSON.stringify(lang)},${json});\n`,
      });
    }
  },
};

export default defineConfig({
  publicDir: false,
  plugins: [locales],
  build: {
    outDir: "dist",
    emptyOutDir: false,
    target: "es2022",
    sourcemap: false,
    minify: true,
    copyPublicDir: false,
    reportCompressedSize: true,
    lib: {
      entry: "widget/main.ts",
      formats: ["iife"],
      name: "ParleyWidget",
      fileName: () => "widget.js",
    },
  },
});
