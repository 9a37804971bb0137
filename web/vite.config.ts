// Vite builds the staff web app from app/ into dist/, which the Go server
// embeds and serves at / (index.html for every path outside /api).
//
// The output must be reproducible byte for byte from a clean `npm ci`: file
// names carry content hashes only, no source maps, no timestamps.
import { readFileSync } from "node:fs";
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

export default defineConfig({
  root: "app",
  base: "/",
  // public/: the service worker, the manifest and icons, served at the root.
  publicDir: "public",
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: true })],
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
