// Vite builds the staff web app from app/ into dist/, which the Go server
// embeds and serves at / (index.html for every path outside /api).
//
// The output must be reproducible byte for byte from a clean `npm ci`: file
// names carry content hashes only, no source maps, no timestamps.
//
// Catalogue keys ("app.chat.head.members") are written as short ids in every
// chunk, the code's and the catalogues' alike, as the widget's build does
// (vite.widget.config.ts): a key is only ever written whole, as a string
// literal (tests/i18n.test.mjs checks that the sources use no other).
import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";
import preact from "@preact/preset-vite";
import en from "./i18n/app/en.ts";

const ids = new Map(Object.keys(en).map((k, i) => [k, i.toString(36)]));
const shortKeys: Plugin = {
  name: "parley-app-keys",
  renderChunk(code) {
    return code.replace(/(["'`])(app\.[\w.]+)\1/g, (m, q, k) => (ids.has(k) ? q + ids.get(k) + q : m));
  },
};

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

export default defineConfig({
  root: "app",
  base: "/",
  // public/: the service worker, the manifest and icons, served at the root.
  publicDir: "public",
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: true }), shortKeys],
  define: {
    __APP_VERSION__: JSON.stringify(pkg.version),
  },
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    rollupOptions: {
      output: {
        entryFileNames: "assets/[name]-[hash].js",
        chunkFileNames: "assets/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      // The Go server; start it with `go run ./cmd/parley serve --addr 127.0.0.1:8080`.
      // A regular expression: a plain "/api" prefix would also catch app/api.ts.
      "^/api/": { target: process.env.PARLEY_URL || "http://127.0.0.1:8080", ws: true },
    },
  },
});
