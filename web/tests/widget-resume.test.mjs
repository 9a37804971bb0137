// Browser tests of how the website chat widget resumes (web/widget,
// docs/realtime.md "The visitor socket"): after a resync it shows exactly
// the server's state, so paging back shows every message once with no gap;
// and its token is renewed before it expires, the socket opened with the
// old one ends (4401) and resumes with the new one, nothing lost.
// Screenshots go to $PARLEY_SCREENSHOTS (wr*.png), outside the repository.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { distDir, skipReason, stack, startSite, until } from "./harness.mjs";

const skip = skipReason() || (existsSync(path.join(distDir, "widget.js")) ? "" : "web/dist/widget.js is not built (npm run build)");
if (skip) console.log("# widget resume tests skipped: " + skip);

const OLGA = { email: "olga@example.com", name: "Olga Owner", password: "olga-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Berg", password: "anna-password", role: "member" };

const hostPage = (parley, key) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Teapots</title>
<script>window.ParleySettings = { name: "Vera Visitor", email: "vera@example.com" };</script>
</head><body><h1>Hand-thrown teapots</h1>
<script async src="${parley}/widget.js" data-project="${key}"></script>
</body></html>`;

const panel = (p) => p.getByRole("dialog", { name: "Chat with Acme Teapots" });
const box = (p) => p.getByRole("textbox", { name: "Message" });
const bubble = (p) => p.getByRole("button", { name: /^Open chat/ });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** shown is the message whose text is exactly t. */
const shown = (p, t) => panel(p).locator(".m .b", { hasText: new RegExp("^" + t + "$") });

/**
 * chat starts a server with args, a project with Anna as its level-1
 * specialist and Anna online (a staff WebSocket), and a host page.
 */
async function chat(serverArgs) {
  const s = await stack({ users: [OLGA, ANNA], serverArgs: ["--send-rate", "10000", "--send-burst", "10000", ...serverArgs] });
  const [olga, anna] = await Promise.all([s.login(OLGA.email, OLGA.password), s.login(ANNA.email, ANNA.password)]);
  const site = await startSite();
  const me = await s.api(anna, "GET", "/me");
  const project = await s.api(olga, "POST", "/projects", { name: "Acme Teapots", origins: [site.url], chat_enabled: true });
  await s.api(olga, "POST", `/projects/${project.id}/specialists`, { user_id: me.id ?? me.user?.id, level: 1 });
  site.pages["/"] = hostPage(s.url, project.key);
  const online = async () => {
    const staff = await s.staffOnline(ANNA.email, ANNA.password);
    const url = `${s.parley.url}/api/v1/widget/projects/${project.key}`;
    await until(async () => (await fetch(url, { headers: { Origin: site.url } }).then((r) => r.json())).online);
    return staff;
  };
  let staff = await online();
  const ctx = await s.browser.newContext({ viewport: { width: 1100, height: 800 } });
  const v = await ctx.newPage();
  v.on("pageerror", (e) => console.error("[visitor page error]", e.message));
  // What the widget's sockets said: their URLs and hellos, and every HTTP answer 401.
  const sockets = [];
  const unauthorized = [];
  v.on("websocket", (ws) => {
    const rec = { url: ws.url(), hellos: [], closed: false };
    sockets.push(rec);
    ws.on("framereceived", (f) => {
      try {
        for (const x of [].concat(JSON.parse(f.payload))) if (x.type === "hello") rec.hellos.push(x);
      } catch {
        /* not ours */
      }
    });
    ws.on("close", () => (rec.closed = true));
  });
  v.on("response", (r) => r.status() === 401 && unauthorized.push(r.url()));
  return {
    s,
    anna,
    site,
    project,
    ctx,
    v,
    sockets,
    unauthorized,
    say: (conv, text) => s.api(anna, "POST", `/conversations/${conv}/messages`, { text, client_id: randomUUID() }),
    dialogs: async () => (await s.api(anna, "GET", `/dialogs?project=${project.id}`)).dialogs,
    /** restart restarts the server; Anna comes online again. */
    async restart() {
      await staff.context().close();
      await s.restart();
      staff = await online();
    },
    async close() {
      await site.stop();
      await s.close();
    },
  };
}

/** start opens the widget on the host page and writes the visitor's first message; Anna connects. */
async function start(c, first) {
  await c.v.goto(c.site.url + "/");
  await bubble(c.v).click();
  await box(c.v).fill(first);
  await box(c.v).press("Enter");
  await panel(c.v).locator('.m[data-status="sent"]', { hasText: first }).waitFor();
  const d = await until(async () => (await c.dialogs()).find((x) => x.contact?.name === "Vera Visitor"));
  await c.s.api(c.anna, "POST", `/dialogs/${d.conversation.id}/connect`);
  await panel(c.v).getByText("Anna joined the chat").waitFor();
  return d;
}

/** rows are the messages the widget shows, in order: [seq, text]. */
const rows = (p) =>
  panel(p)
    .getByRole("log")
    .evaluate((l) => [...l.querySelectorAll(".m")].filter((e) => Number(e.dataset.seq) > 0).map((e) => [Number(e.dataset.seq), e.querySelector(".b").textContent]));

describe("the widget after a resync", { skip: skip || false, timeout: 240_000 }, () => {
  let c;
  // Events are kept 2 s: after a restart (the server prunes as it starts) a
  // widget that was offline before it is past the retention, and resyncs.
  before(async () => (c = await chat(["--event-retention", "2s"])));
  after(async () => c?.close());

  test("shows exactly the server's state: paging back shows every message once, no gap; an unsent message is sent once", async () => {
    const { v, ctx, say, sockets } = c;
    const d = await start(c, "Hello from Vera");
    const conv = d.conversation.id;
    const early = Array.from({ length: 5 }, (_, i) => `early ${i + 1}`);
    for (const t of early) await say(conv, t);
    await panel(v).locator(".m", { hasText: "early 5" }).waitFor();

    // Offline; meanwhile more than a page is written, and the visitor writes too (kept in the outbox).
    await ctx.setOffline(true);
    await sleep(300);
    const missed = Array.from({ length: 250 }, (_, i) => `missed ${i + 1}`);
    for (const t of missed) await say(conv, t);
    await box(v).fill("Are you still there?");
    await box(v).press("Enter");
    await panel(v).locator('.m[data-status="pending"]', { hasText: "Are you still there?" }).waitFor();

    // Past the retention: the restart prunes every event the widget missed.
    await sleep(2500);
    await c.restart();
    await say(conv, "after the restart");
    const before = sockets.length;
    await ctx.setOffline(false);

    await panel(v).locator(".m", { hasText: "after the restart" }).waitFor();
    const hello = await until(() => sockets.slice(before).flatMap((x) => x.hellos)[0]);
    assert.equal(hello.resync, true, "the server said resync: " + JSON.stringify(hello));
    // What was shown before is gone (it would leave a gap): the newest page, and the unsent message, sent once.
    await shown(v, "early 1").waitFor({ state: "detached" });
    await panel(v).locator('.m[data-status="sent"]', { hasText: "Are you still there?" }).waitFor();
    await panel(v).getByRole("button", { name: "Show earlier messages" }).waitFor();
    const first = await rows(v);
    assert.ok(first.length <= 201, `at most the newest page and the sent message: ${first.length}`);
    await c.s.shot(v, "wr01-after-resync");

    // Back to the start, a page at a time (scrolled to the top, the widget fetches the page before).
    const log = panel(v).getByRole("log");
    const more = log.getByRole("button", { name: "Show earlier messages" });
    for (let i = 0; i < 10 && (await more.count()); i++) {
      const n = (await rows(v)).length;
      await log.evaluate((l) => (l.scrollTop = 0));
      await until(async () => (await rows(v)).length > n || !(await more.count()));
    }
    await more.waitFor({ state: "detached" });
    await panel(v).locator(".m", { hasText: "Hello from Vera" }).waitFor();
    await log.evaluate((l) => (l.scrollTop = 0));
    await c.s.shot(v, "wr02-paged-back");

    const all = await rows(v);
    const texts = all.map((r) => r[1]);
    const want = ["Hello from Vera", ...early, ...missed, "after the restart", "Are you still there?"];
    assert.deepEqual(texts, want, "every message once, in order");
    const seqs = all.map((r) => r[0]);
    assert.ok(
      seqs.every((q, i) => !i || q > seqs[i - 1]),
      "in the dialog's order",
    );

    // The server has the visitor's offline message once.
    const history = (await c.s.api(c.anna, "GET", `/conversations/${conv}/messages?limit=500`)).messages;
    assert.equal(history.filter((m) => m.text === "Are you still there?").length, 1, "sent once");
  });
});

describe("the widget when its token expires", { skip: skip || false, timeout: 240_000 }, () => {
  let c;
  // Tokens live 4 s: the widget renews each while a quarter is left, and
  // each socket ends when the token it was opened with expires.
  before(async () => (c = await chat(["--visitor-token-ttl", "4s"])));
  after(async () => c?.close());

  test("renews its token and resumes its socket with the new one: the same visitor, nothing lost, no 401", async () => {
    const { v, say, sockets, unauthorized } = c;
    const d = await start(c, "Hello, a long chat");
    const conv = d.conversation.id;
    const token = () => v.evaluate((k) => JSON.parse(localStorage.getItem("parley:" + k) || "{}").t, c.project.key);
    const t0 = await token();

    // Anna writes every half second for three token lifetimes.
    const ticks = [];
    for (let i = 1; i <= 24; i++) {
      ticks.push(`tick ${i}`);
      await say(conv, `tick ${i}`);
      await sleep(500);
    }
    await shown(v, "tick 24").waitFor();
    await c.s.shot(v, "wr03-after-expiries");

    const texts = (await rows(v)).map((r) => r[1]);
    assert.deepEqual(texts, ["Hello, a long chat", ...ticks], "every message once, in order");
    assert.notEqual(await token(), t0, "the token was renewed");
    const mine = (await c.dialogs()).filter((x) => x.contact?.name === "Vera Visitor");
    assert.deepEqual(
      mine.map((x) => [x.conversation.id, x.contact.id]),
      [[conv, d.contact.id]],
      "the same visitor, one dialog",
    );
    // Each socket ended with its token and the next resumed from the cursor, never a resync.
    assert.ok(sockets.length >= 3, `a socket per token: ${sockets.length}`);
    for (const x of sockets.slice(1)) assert.match(x.url, /[?&]cursor=[1-9]/, "resumed from a cursor");
    assert.ok(sockets.flatMap((x) => x.hellos).every((h) => !h.resync), "no resync");
    assert.deepEqual(unauthorized, [], "never an expired token");
  });
});
