// Measures the web app's budgets against a real server (`npm run perf`,
// after `npm run build`): initial JavaScript (gzipped), time to the first
// usable screen from a cold start, scrolling a list of 10,000
// conversations and a history of 100,000 messages (windowed lists), the
// latency of a new message to the other user's screen, and scrolling the
// support inbox's list of 10,000 dialogs as it pages in (a manager with no
// team chats, the other pages closed).
//
// PERF_CONVERSATIONS, PERF_MESSAGES and PERF_DIALOGS change the sizes
// (defaults 10000, 100000 and 10000). Seeding 100,000 messages takes about
// a minute.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { distDir, skipReason, stack } from "./harness.mjs";

const CONVS = Number(process.env.PERF_CONVERSATIONS || 10_000);
const MSGS = Number(process.env.PERF_MESSAGES || 100_000);
const DIALOGS = Number(process.env.PERF_DIALOGS || 10_000);

const skip = skipReason();
if (skip) {
  console.log("perf skipped: " + skip);
  process.exit(0);
}

const ms = (x) => `${x.toFixed(1)} ms`;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// 1. Initial JavaScript: what index.html loads before anything else.
const html = readFileSync(path.join(distDir, "index.html"), "utf8");
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const gz = (f) => gzipSync(readFileSync(path.join(distDir, f)), { level: 9 }).length;
const initialGz = initial.reduce((n, f) => n + gz(f), 0);
const lazy = readdirSync(path.join(distDir, "assets")).filter((f) => f.endsWith(".js") && !initial.includes("assets/" + f));
console.log(`initial JS: ${initial.join(", ")} = ${(initialGz / 1024).toFixed(1)} KB gzipped (budget 100 KB)`);
console.log(`loaded on demand: ${lazy.map((f) => `${f} ${(gz("assets/" + f) / 1024).toFixed(1)} KB`).join(", ")}`);

const ALICE = { email: "alice@example.com", name: "Alice Admin", password: "alice-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Bob Builder", password: "bob-password", role: "member" };
// The inbox's manager: no team chats of her own, so the list is measured alone.
const CAROL = { email: "carol@example.com", name: "Carol Manager", password: "carol-password", role: "admin" };
const s = await stack({ users: [ALICE, BOB, CAROL], serverArgs: ["--send-rate", "1000000", "--send-burst", "1000000", "--sqlite-sync", "NORMAL"] });
try {
  const ta = await s.login(ALICE.email, ALICE.password);
  const tb = await s.login(BOB.email, BOB.password);
  const bob = (await s.api(ta, "GET", "/users?q=bob")).users[0];

  async function pool(n, total, fn) {
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < total) await fn(next++);
      }),
    );
  }

  // 2. Seed: one direct conversation with MSGS messages, and CONVS multi-chats.
  let t = performance.now();
  const direct = await s.api(ta, "POST", "/conversations/direct", { user_id: bob.id });
  await s.api(tb, "POST", `/conversations/${direct.id}/allow`);
  // Over the WebSocket from a page: sends are pipelined and share group commits.
  const seeder = await s.page();
  await s.signIn(seeder, ALICE.email, ALICE.password);
  await seeder.evaluate(
    async ({ conv, total }) => {
      const ws = new WebSocket(`ws://${location.host}/api/v1/ws?client=seed`);
      await new Promise((r) => (ws.onopen = r));
      let acked = 0;
      let done;
      const finished = new Promise((r) => (done = r));
      ws.onmessage = (e) => {
        for (const f of JSON.parse(e.data)) if (f.type === "ack" || f.type === "error") if (++acked === total) done();
      };
      for (let i = 0; i < total; i++) {
        ws.send(JSON.stringify({ type: "send", req: i + 1, conversation_id: conv, client_id: `seed-${i}`,
          text: `message ${String(i).padStart(6, "0")} ` + "lorem ipsum dolor sit amet ".repeat(1 + (i % 7)) }));
        // Keep at most 2,000 sends in flight.
        while (i - acked > 2000) await new Promise((r) => setTimeout(r, 5));
      }
      await finished;
      ws.close();
    },
    { conv: direct.id, total: MSGS },
  );
  await seeder.context().close();
  console.log(`seeded ${MSGS} messages in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await pool(16, CONVS - 1, (i) => s.api(ta, "POST", "/conversations/group", { title: `Project room ${i + 1}`, user_ids: [bob.id] }));
  console.log(`seeded ${CONVS - 1} multi-chats in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // The direct conversation on top of the list, with a recent message.
  await s.api(tb, "POST", `/conversations/${direct.id}/messages`, { text: "newest message", client_id: "seed-last" });
  // Let the server settle (SQLite checkpoints, delivery receipts) before timing anything.
  await new Promise((r) => setTimeout(r, 5000));

  // 3. Cold start: a new browser context (empty cache) with a session, until the list is usable.
  const cold = [];
  for (let i = 0; i < 3; i++) {
    const ctx = await s.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const res = await fetch(s.parley.url + "/api/v1/auth/login", { method: "POST", body: JSON.stringify({ email: ALICE.email, password: ALICE.password }) });
    const cookies = res.headers.getSetCookie().map((c) => {
      const [nv] = c.split(";");
      const [name, value] = nv.split("=");
      return { name, value, url: s.url };
    });
    await ctx.addCookies(cookies);
    const p = await ctx.newPage();
    p.on("pageerror", (e) => console.log("[page error]", e.message));
    await p.goto(s.url + "/");
    await p.locator(".conv-row").first().waitFor();
    const ready = await p.evaluate(() => performance.getEntriesByName("parley-list")[0]?.startTime || 0);
    if (process.env.PERF_VERBOSE)
      console.log(
        await p.evaluate(() =>
          performance
            .getEntries()
            .filter((e) => e.entryType === "resource" || e.entryType === "mark" || e.entryType === "navigation")
            .map((e) => `${e.entryType} ${e.name.replace(location.origin, "")} start ${e.startTime.toFixed(0)} end ${(e.startTime + e.duration).toFixed(0)}`)
            .join("\n"),
        ),
      );
    cold.push(ready);
    console.log(`cold start ${i + 1}: conversation list on screen ${ms(ready)} after navigation started`);
    if (i < 2) await ctx.close();
    else {
      // 4. Scroll the whole list of CONVS conversations.
      await p.waitForFunction((n) => window.__parley.convs.size >= n, CONVS, { timeout: 120_000 });
      const r = await p.evaluate(async () => {
        const el = document.querySelector(".conv-list");
        const frames = [];
        let rows = 0;
        let last = performance.now();
        for (let y = 0; y < el.scrollHeight; y += 700) {
          el.scrollTop = y;
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          frames.push(now - last);
          last = now;
          rows = Math.max(rows, el.querySelectorAll(".vrow").length);
        }
        return { frames, rows, height: el.scrollHeight };
      });
      console.log(
        `conversation list: ${CONVS} conversations, ${r.frames.length} scroll steps, frame p50 ${ms(pct(r.frames, 0.5))}, p95 ${ms(pct(r.frames, 0.95))}, max ${ms(Math.max(...r.frames))}; at most ${r.rows} rows in the DOM`,
      );

      // 5. The 100,000-message history: scroll back through pages, then jump to the first message.
      await p.goto(s.url + `/c/${direct.id}`);
      await p.locator(".msg", { hasText: "newest message" }).waitFor();
      const hist = await p.evaluate(async () => {
        // Scroll up continuously, 600 px a frame, for 20 s: older pages load as the top comes near.
        const el = document.querySelector(".history");
        const h = window.__parley.histories.get(Number(location.pathname.split("/").pop()));
        const newest = h.msgs[h.msgs.length - 1].seq;
        const frames = [];
        let rows = 0;
        let waits = 0;
        const t0 = performance.now();
        let last = t0;
        while (performance.now() - t0 < 20_000) {
          if (el.scrollTop === 0) waits++;
          el.scrollTop = Math.max(0, el.scrollTop - 600);
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          frames.push(now - last);
          last = now;
          rows = Math.max(rows, el.querySelectorAll(".vrow").length);
        }
        return { frames, rows, waits, passed: newest - h.msgs[0].seq, held: h.msgs.length, secs: (performance.now() - t0) / 1000 };
      });
      console.log(
        `history: scrolled back through ${hist.passed} of ${MSGS} messages in ${hist.secs.toFixed(0)} s (${Math.round(hist.passed / hist.secs)} messages/s, at the top waiting for a page in ${hist.waits} of ${hist.frames.length} frames); frame p50 ${ms(pct(hist.frames, 0.5))}, p95 ${ms(pct(hist.frames, 0.95))}; ${hist.held} messages held in memory, at most ${hist.rows} rows in the DOM`,
      );
      // Jump to the oldest message through the conversation's search.
      const t1 = Date.now();
      await p.getByLabel("Search in this conversation").fill("000000");
      await p.locator(".search-hit", { hasText: "message 000000" }).click();
      await p.locator(".msg.flash", { hasText: "message 000000" }).waitFor({ timeout: 30_000 });
      console.log(`history: found and opened the oldest of ${MSGS} messages through search in ${Date.now() - t1} ms`);
      await ctx.close();
    }
  }
  console.log(`first usable screen from a cold start: worst ${ms(Math.max(...cold))} (budget 1000 ms)`);

  // 6. Latency: Enter on Alice's screen to the text on Bob's.
  const a = await s.page({ path: `/c/${direct.id}` });
  await s.signIn(a, ALICE.email, ALICE.password);
  const b = await s.page({ path: `/c/${direct.id}` });
  await s.signIn(b, BOB.email, BOB.password);
  // Measure once both apps have all their conversations.
  for (const x of [a, b]) await x.waitForFunction((n) => window.__parley.convs.size >= n, CONVS, { timeout: 120_000 });
  const lat = [];
  for (let i = 0; i < 30; i++) {
    const text = `latency probe ${i}`;
    await b.evaluate((t) => {
      window.__seen = 0;
      const obs = new MutationObserver(() => {
        for (const el of document.querySelectorAll(".msg .text"))
          if (el.textContent === t) {
            window.__seen = performance.timeOrigin + performance.now();
            obs.disconnect();
          }
      });
      obs.observe(document.querySelector(".history"), { childList: true, subtree: true, characterData: true });
    }, text);
    await a.getByRole("textbox", { name: "Message" }).fill(text);
    await a.evaluate(() =>
      window.addEventListener("keydown", (e) => e.key === "Enter" && (window.__sent = performance.timeOrigin + performance.now()), { once: true, capture: true }),
    );
    await a.getByRole("textbox", { name: "Message" }).press("Enter");
    await b.waitForFunction(() => window.__seen > 0);
    lat.push((await b.evaluate(() => window.__seen)) - (await a.evaluate(() => window.__sent)));
  }
  if (process.env.PERF_VERBOSE) console.log("latencies: " + lat.map((x) => x.toFixed(0)).join(" "));
  console.log(`message latency (Enter → other screen), 30 messages: p50 ${ms(pct(lat, 0.5))}, p95 ${ms(pct(lat, 0.95))}, max ${ms(Math.max(...lat))} (budget 100 ms)`);

  // 7. The support inbox: DIALOGS customers write through the widget; the
  // list pages in (100 a page) while it is scrolled to its end.
  const origin = "https://perf.example";
  const project = await s.api(ta, "POST", "/projects", { name: "Perf shop", origins: [origin], chat_enabled: true });
  const widget = async (token, method, p, body) => {
    const res = await fetch(s.parley.url + "/api/v1/widget" + p, {
      method,
      headers: { Origin: origin, "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`widget ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  t = performance.now();
  await pool(16, DIALOGS, async (i) => {
    const v = await widget("", "POST", "/sessions", { project: project.key, name: `Customer ${i + 1}` });
    await widget(v.token, "POST", "/messages", { client_id: "perf-1", text: `Question number ${i + 1} about my order` });
  });
  console.log(`seeded ${DIALOGS} dialogs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // Alone in the browser: the chat pages above (Alice's 10,000 multi-chats) are closed.
  for (const x of [a, b]) await x.context().close();
  const ib = await s.page({ path: "/inbox?sort=activity" });
  await s.signIn(ib, CAROL.email, CAROL.password);
  await ib.locator(".inbox-row").first().waitFor();
  const inboxScroll = await ib.evaluate(async () => {
    const el = document.querySelector(".inbox-list");
    const list = window.__parley.inbox;
    const frames = [];
    let rows = 0;
    let waits = 0;
    const t0 = performance.now();
    let last = t0;
    while (performance.now() - t0 < 120_000) {
      const bottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
      if (bottom && list.done) break;
      if (bottom) waits++;
      el.scrollTop += 700;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      rows = Math.max(rows, el.querySelectorAll(".vrow").length);
    }
    return { frames, rows, waits, loaded: list.ids.length, done: list.done, secs: (performance.now() - t0) / 1000 };
  });
  console.log(
    `inbox: scrolled through ${inboxScroll.loaded} of ${DIALOGS} dialogs${inboxScroll.done ? "" : " (not to the end)"} in ${inboxScroll.secs.toFixed(1)} s, at the end waiting for a page in ${inboxScroll.waits} of ${inboxScroll.frames.length} frames; frame p50 ${ms(pct(inboxScroll.frames, 0.5))}, p95 ${ms(pct(inboxScroll.frames, 0.95))}; at most ${inboxScroll.rows} rows in the DOM`,
  );
} finally {
  await s.close();
}
process.exit(0);
