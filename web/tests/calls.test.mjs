// Browser tests of calls (docs/calls.md) against a real Parley server and
// its SFU, with Chromium's fake camera and microphone: a 1:1 video call
// (rings on both of the callee's devices, accepted on one, both sides see
// the other's video playing, mute and camera marks, the call survives a
// dropped WebSocket, hang up → a system line; a declined call), and a
// 3-person videoconference in a multi-chat. Screenshots of the incoming
// call dialog and the call window at desktop and phone width go to
// $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { shotsDir, skipReason, stack, until } from "./harness.mjs";

// The test cuts the WebSocket through the harness's proxy.
process.env.PARLEY_WEB = "proxy";

const skip = skipReason();
if (skip) console.log("# browser tests skipped: " + skip);

const ALICE = { email: "alice@example.com", name: "Alice Caller", password: "alice-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Bob Callee", password: "bob-password", role: "member" };
const CLEO = { email: "cleo@example.com", name: "Cleo Third", password: "cleo-password", role: "member" };

const PHONE = { width: 390, height: 844 };

/** playing reports whether the tile's video shows moving pictures: frames decoded, time advancing. */
async function playing(page, selector) {
  const first = await page.evaluate((sel) => {
    const v = document.querySelector(sel);
    return v ? { w: v.videoWidth, t: v.currentTime } : null;
  }, selector);
  if (!first || !first.w) return false;
  await page.waitForTimeout(400);
  const t = await page.evaluate((sel) => document.querySelector(sel)?.currentTime || 0, selector);
  return t > first.t;
}

const remoteVideo = (uid) => `.call-window .call-grid > .tile[data-user="${uid}"]:not([data-screen]) video`;
const remoteTiles = (p) => p.locator(".call-window .call-grid > .tile:not([data-screen])");
const tone = (p) => p.evaluate(() => window.__calls.tone());

/** The pages a test opened, closed after it whatever happens (video pages are heavy). */
let opened = [];
async function closeAll() {
  for (const p of opened) await p.context().close().catch(() => {});
  opened = [];
}

describe("calls", { skip: skip || false, timeout: 900_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  const ids = {};
  let direct = 0,
    group = 0;

  before(async () => {
    s = await stack({ users: [ALICE, BOB, CLEO], browserArgs: ["--allow-loopback-in-peer-connection", "--auto-accept-this-tab-capture", "--auto-select-desktop-capture-source=Entire screen"] });
    const tokens = {};
    for (const [k, u] of Object.entries({ alice: ALICE, bob: BOB, cleo: CLEO })) {
      tokens[k] = await s.login(u.email, u.password);
      ids[k] = (await s.api(tokens[k], "GET", "/me")).id;
    }
    direct = (await s.api(tokens.alice, "POST", "/conversations/direct", { user_id: ids.bob })).id;
    await s.api(tokens.bob, "POST", `/conversations/${direct}/allow`);
    group = (await s.api(tokens.alice, "POST", "/conversations/group", { title: "Design review", user_ids: [ids.bob, ids.cleo] })).id;
  });

  after(async () => {
    await closeAll();
    await s?.close();
  });

  /** shot takes a screenshot with room for a machine busy encoding video. */
  const shot = (p, name) => p.screenshot({ path: `${shotsDir}/${name}.png`, timeout: 120_000 });

  async function open(user, { viewport, path } = {}) {
    const p = await s.page({ viewport });
    // Three pages encoding and decoding video on a small machine are slow to answer.
    p.setDefaultTimeout(90_000);
    opened.push(p);
    await s.signIn(p, user.email, user.password);
    if (path) {
      await p.evaluate((u) => {
        history.pushState(null, "", u);
        dispatchEvent(new PopStateEvent("popstate"));
      }, path);
    }
    return p;
  }

  test("1:1 video call: rings on every device, accept, video both ways, mute, survive a reconnect, hang up", async () => {
    const a = await open(ALICE, { path: `/c/${direct}` });
    const b = await open(BOB, { path: `/c/${direct}` });
    const b2 = await open(BOB, { viewport: PHONE });
    await a.getByRole("button", { name: "Video call" }).waitFor();
    assert.equal(await a.getByRole("button", { name: "Call", exact: true }).count(), 1, "a voice Call button beside Video call");

    const started = Date.now();
    await a.getByRole("button", { name: "Video call" }).click();
    // Both of Bob's devices ring, with the sound.
    for (const p of [b, b2]) await p.getByRole("alertdialog", { name: `${ALICE.name} is calling` }).waitFor();
    console.log(`# click → ringing on both devices: ${Date.now() - started} ms`);
    assert.equal(await tone(b), "ring");
    assert.equal(await tone(b2), "ring");
    await until(async () => (await tone(a)) === "ringback");
    await a.locator(".call-window .tile-note", { hasText: "Ringing…" }).waitFor();
    // (On a busy machine a screenshot can take many seconds: the call rings 45 s.)
    await shot(b, "calls-01-incoming-desktop");

    const t0 = Date.now();
    await b.getByRole("button", { name: "Accept with video" }).click();
    // The other device stops ringing.
    await b2.getByRole("alertdialog").waitFor({ state: "detached" });
    assert.equal(await tone(b2), "");
    assert.equal(await tone(b), "");
    // Media both ways: each sees the other's camera playing.
    await until(() => playing(a, remoteVideo(ids.bob)), 60_000);
    await until(() => playing(b, remoteVideo(ids.alice)), 60_000);
    console.log(`# call set-up, accept → both videos playing: ${Date.now() - t0} ms`);
    assert.equal(await tone(a), "", "the ringback stops once answered");
    await until(async () => /^\d+:\d\d$/.test((await a.locator(".call-status").textContent()) || ""));

    // Mute: Bob sees Alice's microphone-off mark; unmute removes it.
    await a.getByRole("button", { name: "Mute", exact: true }).click();
    await b.locator(`.tile[data-user="${ids.alice}"] .tile-muted`).waitFor();
    await a.getByRole("button", { name: "Unmute" }).click();
    await b.locator(`.tile[data-user="${ids.alice}"] .tile-muted`).waitFor({ state: "detached" });

    // Camera off: Bob sees Alice's photo instead of her video; on again: video.
    await a.getByRole("button", { name: "Turn the camera off" }).click();
    await until(async () => !(await b.locator(`.tile[data-user="${ids.alice}"]`).getAttribute("class")).includes("has-video"));
    await a.getByRole("button", { name: "Turn the camera on" }).click();
    await until(() => playing(b, remoteVideo(ids.alice)), 60_000);

    await shot(a, "calls-04-window-desktop");
    await a.getByRole("button", { name: "Enlarge the call" }).click();
    await shot(a, "calls-05-window-large");
    await a.getByRole("button", { name: "Make the call smaller" }).click();
    await b.setViewportSize(PHONE);
    await shot(b, "calls-06-window-phone");

    // The call goes on while Alice moves around the app, minimised.
    await a.getByRole("button", { name: "Minimise the call" }).click();
    await a.locator(".call-mini").waitFor();
    await a.evaluate(() => {
      history.pushState(null, "", "/settings");
      dispatchEvent(new PopStateEvent("popstate"));
    });
    await shot(a, "calls-07-minimised");
    assert.ok(await until(() => playing(b, remoteVideo(ids.alice))), "Alice's video still reaches Bob");
    await a.locator(".call-mini-main").click();
    await a.evaluate(() => history.back());

    // The WebSocket drops: the peer connection stays, media keeps flowing,
    // and signalling goes on after the reconnect (a mute reaches Bob).
    const pcBefore = await a.evaluate(() => window.__calls.session.value.callId);
    s.web.cut();
    await a.locator(".conn-banner").waitFor({ timeout: 10_000 }).catch(() => {});
    await until(() => a.evaluate(() => window.__parley.rt.open), 30_000);
    assert.equal(await a.evaluate(() => window.__calls.session.value?.callId), pcBefore, "still in the same call");
    assert.ok(await until(() => playing(b, remoteVideo(ids.alice))), "media flows after the reconnect");
    assert.ok(await until(() => playing(a, remoteVideo(ids.bob))));
    await a.getByRole("button", { name: "Mute", exact: true }).click();
    await b.locator(`.tile[data-user="${ids.alice}"] .tile-muted`).waitFor();

    // Hang up: both windows close; the history says how long it lasted.
    await a.getByRole("button", { name: "Hang up" }).click();
    await a.locator(".call-window").waitFor({ state: "detached" });
    await b.locator(".call-window").waitFor({ state: "detached" });
    for (const p of [a, b]) {
      const line = p.locator('.sysline[data-action="call_ended"]');
      await line.waitFor();
      assert.match(await line.textContent(), /Video call ended · \d+:\d\d/);
    }
    await b.setViewportSize({ width: 1280, height: 800 });
    await shot(b, "calls-08-history-line");
    assert.equal(await b.evaluate(() => document.querySelectorAll("audio[data-call-voice]").length), 0, "voices gone");

    // A declined call: the caller is told, and the history says so.
    await a.getByRole("button", { name: "Call", exact: true }).click();
    await b2.getByRole("alertdialog").waitFor();
    await shot(b2, "calls-02-incoming-phone");
    await b.getByRole("button", { name: "Decline the call" }).click();
    await b2.getByRole("alertdialog").waitFor({ state: "detached" });
    await a.locator(".call-window").waitFor({ state: "detached" });
    await a.locator(".toast", { hasText: "declined" }).waitFor();
    await a.locator('.sysline[data-action="call_declined"]').waitFor();
    assert.equal(await tone(b), "");
    await closeAll();
  });

  test("3-person videoconference in a multi-chat: join, two remote tiles each, one leaves", async () => {
    await closeAll();
    const a = await open(ALICE, { path: `/c/${group}` });
    const b = await open(BOB, { path: `/c/${group}` });
    const c = await open(CLEO, { path: `/c/${group}` });
    await a.getByRole("button", { name: "Videoconference" }).click();
    await a.locator(".call-window").waitFor();
    // The others see the call under way and join it.
    for (const p of [b, c]) {
      await p.locator(".call-bar", { hasText: "Call in progress" }).waitFor();
      await p.locator(".call-bar").getByRole("button", { name: "Join", exact: true }).click();
    }
    await shot(b, "calls-09-conference-joining");
    const others = { alice: [ids.bob, ids.cleo], bob: [ids.alice, ids.cleo], cleo: [ids.alice, ids.bob] };
    const pages = { alice: a, bob: b, cleo: c };
    for (const [who, p] of Object.entries(pages)) {
      await until(async () => (await remoteTiles(p).count()) === 2, 90_000).catch(async (e) => {
        for (const [n, x] of Object.entries(pages))
          console.log(`# ${n}: ` + (await x.evaluate(() => JSON.stringify({ s: window.__calls.session.value?.phase, remotes: window.__calls.session.value?.remotes.length, calls: [...window.__calls.byConv.values()].map((c) => c.participants?.map((p) => p.user_id)), toasts: [...document.querySelectorAll(".toast")].map((t) => t.textContent) }))));
        throw e;
      });
      for (const uid of others[who]) assert.ok(await until(() => playing(p, remoteVideo(uid)), 60_000), `${who} sees ${uid}'s video`);
    }
    // Someone speaks (the fake microphone beeps): a tile is highlighted somewhere.
    await until(async () => {
      for (const p of [a, b, c]) if (await p.locator(".call-window .tile.speaking").count()) return true;
      return false;
    }, 60_000).catch(() => console.log("# no speaking highlight seen (the server sent no call.speaking)"));
    await shot(a, "calls-10-conference-desktop");
    await c.setViewportSize(PHONE);
    await shot(c, "calls-11-conference-phone");

    // Screen sharing: Alice's screen reaches Bob as an extra tile.
    await a.getByRole("button", { name: "Share the screen" }).click();
    const shared = await until(async () => (await b.locator(`.call-grid > .tile[data-screen][data-user="${ids.alice}"]`).count()) > 0, 15_000).catch(() => false);
    if (shared) {
      await shot(b, "calls-12-screen-share");
      await a.getByRole("button", { name: "Stop sharing the screen" }).click();
      await b.locator(`.call-grid > .tile[data-screen]`).waitFor({ state: "detached" });
    } else {
      console.log("# screen capture is not available in this Chromium: " + ((await a.locator(".call-notice").textContent().catch(() => "")) || "no notice"));
    }

    // Cleo leaves: the others see one remote tile.
    await c.getByRole("button", { name: "Hang up" }).click();
    for (const p of [a, b]) await until(async () => (await remoteTiles(p).count()) === 1, 60_000);
    await b.locator(".call-bar").waitFor({ state: "detached" }).catch(() => {});
    // Cleo can join again while it goes on.
    await c.locator(".call-bar", { hasText: "Call in progress · 2 people" }).waitFor();
    await a.getByRole("button", { name: "Hang up" }).click();
    await b.getByRole("button", { name: "Hang up" }).click();
    for (const p of [a, b, c]) await p.locator('.sysline[data-action="call_ended"]', { hasText: "Videoconference ended" }).waitFor();
    await closeAll();
  });
});
