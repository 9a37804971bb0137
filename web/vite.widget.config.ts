// Vite builds the website chat widget (widget/, docs/livechat.md) into
// dist/widget.js: one classic script (an IIFE, loaded with <script async>),
// no chunks, no CSS file (the styles are a string put in the shadow root).
// It runs after the app's build and must not empty dist/.
//
// Reproducible like the app's build: a fixed file name, no source maps.
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
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
