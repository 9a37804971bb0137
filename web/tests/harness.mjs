// Test harness for the browser tests: builds and starts a real Parley
// server on a loopback port, serves web/dist (with /api and the WebSocket
// proxied to Parley) unless Parley serves the app itself, and drives
// Debian's Chromium with playwright-core.
//
// Environment:
//   PARLEY_BIN          a built parley binary (default: go build into a temp dir)
//   PARLEY_WEB          "proxy" (serve web/dist here), "direct" (Parley serves
//                       the app), or "auto" (default: direct if GET / on Parley
//                       returns this app's index.html)
//   PARLEY_SCREENSHOTS  where screenshots go (default: $TMPDIR/parley-screenshots)
//   CHROMIUM            the browser (default /usr/bin/chromium)

import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
export const webDir = path.resolve(here, "..");
export const repoDir = path.resolve(webDir, "..");
export const distDir = path.join(webDir, "dist");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const shotsDir = process.env.PARLEY_SCREENSHOTS || path.join(os.tmpdir(), "parley-screenshots");

/** Why the browser tests cannot run here, or "" when they can. */
export function skipReason() {
  if (!existsSync(chromiumPath)) return `Chromium is not installed at ${chromiumPath} (apt-get install chromium)`;
  if (!existsSync(path.join(distDir, "index.html"))) return "web/dist is not built (npm run build)";
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    if (!process.env.PARLEY_BIN) return "Go is not installed and PARLEY_BIN is not set";
  }
  return "";
}

/** freePort finds a loopback port nobody listens on, for a server that must know its URL before it starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let builtBin = "";
/** parleyBin builds the server once per test process. */
export function parleyBin() {
  if (process.env.PARLEY_BIN) return process.env.PARLEY_BIN;
  if (builtBin) return builtBin;
  const dir = mkdtempSync(path.join(os.tmpdir(), "parley-bin-"));
  builtBin = path.join(dir, "parley");
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  execFileSync("go", ["build", "-o", builtBin, "./cmd/parley"], { cwd: repoDir, stdio: ["ignore", "inherit", "inherit"] });
  return builtBin;
}

export function createUser(dataDir, { email, name, password, role = "member" }) {
  execFileSync(
    parleyBin(),
    ["user", "create", "--data", dataDir, "--password-memory", "64", "--email", email, "--name", name, "--password", password, "--role", role],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

/**
 * startParley runs `parley serve` on a loopback port and resolves with its
 * URL, read from the JSON log line "parley is serving".
 */
export function startParley(dataDir, { addr = "127.0.0.1:0", extra = [] } = {}) {
  const args = ["serve", "--addr", addr, "--data", dataDir, "--password-memory", "64", "--log-format", "json", ...extra];
  const proc = spawn(parleyBin(), args, { stdio: ["ignore", "ignore", "pipe"] });
  // Never leave a server behind, whatever way this process ends.
  const kill = () => proc.kill("SIGKILL");
  process.once("exit", kill);
  proc.once("exit", () => process.removeListener("exit", kill));
  const log = [];
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("parley did not start:\n" + log.join("\n"))), 30_000);
    proc.stderr.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        log.push(line);
        if (log.length > 200) log.shift();
        try {
          const j = JSON.parse(line);
          if (j.msg === "parley is serving") {
            clearTimeout(timer);
            resolve({
              url: j.url.replace("://[::]", "://127.0.0.1").replace("://0.0.0.0", "://127.0.0.1"),
              proc,
              log,
              stop: () => stopProc(proc),
            });
          }
        } catch {
          /* not JSON */
        }
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`parley exited (${code}):\n` + log.join("\n")));
    });
  });
}

function stopProc(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
    setTimeout(() => proc.kill("SIGKILL"), 10_000).unref();
  });
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

/**
 * startWeb serves web/dist on a loopback port: files by path, index.html
 * for every other path outside /api (as the Go server will), and /api —
 * HTTP and WebSocket upgrades — proxied to target (changeable, for restarts).
 */
export function startWeb(target) {
  const state = { target: new URL(target) };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (req.url.startsWith("/api/")) {
      const up = http.request(
        { host: state.target.hostname, port: state.target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => {
        if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
        res.end('{"error":{"code":"unavailable","message":"the server is not reachable"}}');
      });
      req.pipe(up);
      return;
    }
    let file = path.join(distDir, decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (!file.startsWith(distDir) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(distDir, "index.html");
    const body = readFileSync(file);
    const immutable = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
    res.end(body);
  });
  server.on("upgrade", (req, socket, head) => {
    const up = net.connect(Number(state.target.port), state.target.hostname, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(raw + "\r\n");
      if (head?.length) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    sockets.add(socket);
    sockets.add(up);
    const done = () => {
      socket.destroy();
      up.destroy();
      sockets.delete(socket);
      sockets.delete(up);
    };
    up.on("error", done);
    socket.on("error", done);
    up.on("close", done);
    socket.on("close", done);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        setTarget: (t) => (state.target = new URL(t)),
        /** cut drops every proxied WebSocket (a network failure, as the browser sees it). */
        cut: () => [...sockets].forEach((s) => s.destroy()),
        stop: () =>
          new Promise((r) => {
            [...sockets].forEach((s) => s.destroy());
            server.close(() => r());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

/** servesApp reports whether Parley itself serves this app's index.html at /. */
export async function servesApp(parleyURL) {
  try {
    const res = await fetch(parleyURL + "/");
    const text = await res.text();
    return res.ok && text.includes('name="generator" content="parley-web"');
  } catch {
    return false;
  }
}

/** launchBrowser starts Chromium with the harness's flags, and args after them (a test's own). */
export async function launchBrowser({ args = [] } = {}) {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      // A fake microphone for the voice message test.
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--autoplay-policy=no-user-gesture-required",
      ...args,
    ],
  });
}

/**
 * stack starts everything a test needs: a Parley server with users, the web
 * front (proxy or direct), and a browser. It returns helpers and a close().
 * addr fixes the server's address (a test that gives it --public-url);
 * browserArgs are more Chromium flags.
 */
export async function stack({ users = [], serverArgs = [], addr, browserArgs = [] } = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "parley-web-test-"));
  for (const u of users) createUser(dataDir, u);
  let parley = await startParley(dataDir, { addr, extra: serverArgs });
  const mode = process.env.PARLEY_WEB || "auto";
  const direct = mode === "direct" || (mode === "auto" && (await servesApp(parley.url)));
  const web = direct ? null : await startWeb(parley.url);
  const browser = await launchBrowser({ args: browserArgs });
  mkdirSync(shotsDir, { recursive: true });
  const base = () => (web ? web.url : parley.url);
  const s = {
    dataDir,
    direct,
    get parley() {
      return parley;
    },
    get url() {
      return base();
    },
    web,
    browser,
    /** page opens a fresh browser context (its own cookies) at the app. */
    /** The browser speaks English unless locale says otherwise (the app follows it for a user with no language set). */
    async page({ viewport = { width: 1280, height: 800 }, path: p = "/", permissions = [], locale = "en-US" } = {}) {
      const ctx = await browser.newContext({ viewport, locale, baseURL: base(), permissions: ["notifications", "microphone", ...permissions] });
      const page = await ctx.newPage();
      page.on("pageerror", (e) => console.error("[page error]", e.message));
      await page.goto(base() + p);
      return page;
    },
    async signIn(page, email, password) {
      await page.getByLabel("E-mail").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator(".sidebar").waitFor();
    },
    async shot(page, name) {
      const file = path.join(shotsDir, name + ".png");
      await page.screenshot({ path: file });
      return file;
    },
    /** restart stops Parley and starts it again on the same port and data. */
    async restart() {
      const addr = new URL(parley.url).host;
      await parley.stop();
      parley = await startParley(dataDir, { addr, extra: serverArgs });
      web?.setTarget(parley.url);
    },
    /** api calls Parley directly as a user (bearer token), for setting things up. */
    async api(token, method, p, body) {
      const res = await fetch(parley.url + "/api/v1" + p, {
        method,
        headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    /**
     * staffOnline signs a user in on a page of its own (a session cookie)
     * and keeps a staff WebSocket open there (window.ws), as the app does:
     * the user counts as online until the page's context is closed.
     */
    async staffOnline(email, password) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(parley.url + "/healthz");
      await page.evaluate(async ([email, password]) => {
        const r = await fetch("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ email, password }) });
        if (!r.ok) throw new Error("sign-in: " + (await r.text()));
        await new Promise((ok, fail) => {
          window.ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/v1/ws");
          window.ws.onmessage = ok;
          window.ws.onclose = (e) => fail(new Error("staff socket closed: " + e.code));
        });
      }, [email, password]);
      return page;
    },
    async login(email, password) {
      const res = await fetch(parley.url + "/api/v1/auth/login", { method: "POST", body: JSON.stringify({ email, password }) });
      if (!res.ok) throw new Error("login failed: " + (await res.text()));
      return (await res.json()).token;
    },
    async close() {
      await browser.close().catch(() => {});
      await web?.stop();
      await parley.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return s;
}

/**
 * startSite serves host pages for the widget tests on its own loopback
 * port, so they are a different origin from Parley's (and from each other).
 * pages maps a path to HTML, or to a function of the request URL returning
 * HTML; it may be changed while the server runs.
 */
export function startSite(pages = {}) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    let page = pages[u.pathname];
    if (typeof page === "function") page = page(u);
    if (page == null) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end(page);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        pages,
        stop: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

/** until polls fn until it returns something truthy, and returns that; it fails after ms. */
export async function until(fn, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + fn);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The host page of the widget in the browser tests: every customer's requests carry it as their Origin. */
export const SHOP_ORIGIN = "https://shop.example";

/** A customer writing from the website widget, through its HTTP API (with the host page's Origin). */
export class Customer {
  constructor(base, key, origin = SHOP_ORIGIN) {
    this.base = base;
    this.key = key;
    this.origin = origin;
    this.token = "";
  }
  async req(method, p, body, { raw, type } = {}) {
    const headers = { Origin: this.origin };
    if (this.token) headers.Authorization = "Bearer " + this.token;
    if (body !== undefined) headers["Content-Type"] = type || "application/json";
    const res = await fetch(this.base + "/api/v1/widget" + p, { method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) {
      const e = new Error(`customer ${method} ${p}: ${res.status} ${text}`);
      e.status = res.status;
      throw e;
    }
    return text && (res.headers.get("content-type") || "").includes("json") ? JSON.parse(text) : text;
  }
  async start(fields = {}) {
    const out = await this.req("POST", "/sessions", { project: this.key, ...fields });
    this.token = out.token;
    return out;
  }
  send(text, fileIds = []) {
    return this.req("POST", "/messages", { client_id: crypto.randomUUID(), text, file_ids: fileIds });
  }
  messages() {
    return this.req("GET", "/messages?limit=200");
  }
  transcript() {
    return this.req("GET", "/transcript");
  }
  upload(buf, name, type) {
    return this.req("POST", "/files?name=" + encodeURIComponent(name), buf, { raw: true, type });
  }
  rate(score, comment = "") {
    return this.req("POST", "/rating", { score, comment });
  }
}

/** png makes a real PNG (w×h, a gradient) so the server makes a thumbnail of it. */
export function png(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = Math.round((x / w) * 255);
      raw[o + 1] = 120;
      raw[o + 2] = Math.round((y / h) * 255);
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}
