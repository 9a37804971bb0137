// Browser tests of the team-chat basics against a real Parley server:
// @mention autocomplete (keyboard), a mention that notifies in a muted chat
// while a plain message there stays quiet, a reaction seen live in a second
// browser context and toggled back, a thread reply live in the other
// context and kept out of the main timeline. Screenshots (desktop and
// phone) go to $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# browser tests skipped: " + skip);

const ALICE = { email: "alice@example.com", name: "Alice Admin", password: "alice-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Bob Builder", password: "bob-password", role: "member" };
const CARA = { email: "cara@example.com", name: "Cara Mia", password: "cara-password", role: "member" };
const PHONE = { width: 390, height: 844 };

describe("team-chat basics", { skip: skip || false, timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let a, b; // Alice's page (desktop), Bob's (desktop, notifications recorded)
  let group = 0;

  const main = (p, text) => p.locator(".chat-main .msg", { hasText: text });
  const inThread = (p, text) => p.locator(".thread-panel .msg", { hasText: text });
  const row = (p, title) => p.locator(".sidebar .conv-row", { hasText: title });
  const write = async (p, text) => {
    const box = p.locator(".chat-main").getByLabel("Message", { exact: true });
    await box.fill(text);
    await box.press("Enter");
  };

  before(async () => {
    s = await stack({ users: [ALICE, BOB, CARA] });
    const alice = await s.login(ALICE.email, ALICE.password);
    const ids = [];
    for (const u of [BOB, CARA]) ids.push((await s.api(await s.login(u.email, u.password), "GET", "/me")).id);
    group = (await s.api(alice, "POST", "/conversations/group", { title: "Launch", user_ids: ids })).id;
    await s.api(alice, "POST", `/conversations/${group}/messages`, { text: "Kick-off at ten" });

    a = await s.page();
    await s.signIn(a, ALICE.email, ALICE.password);
    const ctx = await s.browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: s.url });
    await ctx.addInitScript(() => {
      window.__notes = [];
      window.Notification = class {
        static permission = "granted";
        static requestPermission = async () => "granted";
        constructor(title, opts) {
          window.__notes.push({ title, body: opts?.body });
        }
        close() {}
      };
      Object.defineProperty(document, "hidden", { get: () => window.__hidden === true });
      Object.defineProperty(document, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
    });
    b = await ctx.newPage();
    b.on("pageerror", (e) => console.error("[page error]", e.message));
    await b.goto(s.url + "/");
    await s.signIn(b, BOB.email, BOB.password);
    await row(a, "Launch").click();
    await row(b, "Launch").click();
    await main(b, "Kick-off at ten").waitFor();
  });

  after(async () => {
    await s?.close();
  });

  test("a mention notifies in a muted chat; a plain message there does not", async () => {
    // Bob mutes the chat from its menu: the header and the list show it.
    await b.getByRole("button", { name: "Conversation menu" }).click();
    await b.getByRole("menuitem", { name: "Mute until I unmute" }).click();
    await b.locator(".chat-title h1 .muted-icon").waitFor();
    await row(b, "Launch").locator(".muted-icon").waitFor();
    // Bob leaves for another tab.
    await b.evaluate(() => {
      window.__hidden = true;
      document.dispatchEvent(new Event("visibilitychange"));
    });

    await write(a, "Plain news nobody needs to hear");
    await main(b, "Plain news nobody needs to hear").waitFor();
    await b.waitForTimeout(800);
    assert.equal(await b.evaluate(() => window.__notes.length), 0, "the muted chat stayed quiet");

    // Alice mentions Bob with the keyboard: "@bo", Down/Up, Enter.
    const box = a.locator(".chat-main").getByLabel("Message", { exact: true });
    await box.fill("");
    await box.pressSequentially("Please review, @bo");
    const list = a.getByRole("listbox", { name: "Mention someone" });
    await list.waitFor();
    assert.equal(await list.getByRole("option").count(), 1, "only Bob matches “bo”");
    await box.press("ArrowDown");
    await box.press("ArrowUp");
    await s.shot(a, "chat-1-mention-autocomplete");
    await box.press("Enter");
    assert.equal(await box.inputValue(), "Please review, @Bob Builder ");
    await box.pressSequentially("today");
    // Escape closes a list without sending.
    await box.pressSequentially(" @ca");
    await list.waitFor();
    await box.press("Escape");
    await list.waitFor({ state: "detached" });
    await box.press("Backspace");
    await box.press("Backspace");
    await box.press("Backspace");
    await box.press("Enter");

    const m = main(a, "Please review");
    await m.locator(".mention", { hasText: "@Bob Builder" }).waitFor();
    await b.waitForFunction(() => window.__notes.some((n) => /Please review/.test(n.body)));
    assert.equal(await b.evaluate(() => window.__notes.length), 1, "only the mention notified");
    await main(b, "Please review").locator(".mention.me", { hasText: "@Bob Builder" }).waitFor();
    await row(b, "Launch").locator(".mention-badge").waitFor();
    await s.shot(b, "chat-2-muted-with-mention");

    // Back on the tab, Bob reads: the mention badge goes.
    await b.evaluate(() => {
      window.__hidden = false;
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await row(b, "Launch").locator(".mention-badge").waitFor({ state: "detached" });
  });

  test("a reaction is seen live in the other context and toggles back", async () => {
    const m = main(b, "Kick-off at ten");
    await m.hover();
    await m.getByRole("button", { name: "React", exact: true }).click();
    await b.getByRole("button", { name: "React with 🎉" }).click();
    const chip = main(a, "Kick-off at ten").locator(".reaction", { hasText: "🎉" });
    await chip.waitFor();
    assert.match(await chip.getAttribute("title"), /Bob Builder reacted with 🎉/);
    assert.equal((await chip.locator(".r-count").textContent()).trim(), "1");
    // Alice adds hers by clicking the chip; Bob sees 2.
    await chip.click();
    await until(async () => (await main(b, "Kick-off at ten").locator(".reaction .r-count").textContent()).trim() === "2");
    assert.equal(await main(a, "Kick-off at ten").locator(".reaction").getAttribute("aria-pressed"), "true");
    await s.shot(a, "chat-3-reactions");
    // And takes it back.
    await chip.click();
    await until(async () => (await main(b, "Kick-off at ten").locator(".reaction .r-count").textContent()).trim() === "1");
  });

  test("a thread reply appears live in the other context, beside the chat", async () => {
    const root = main(a, "Kick-off at ten");
    await root.hover();
    await root.getByRole("button", { name: "Reply in thread" }).click();
    const panel = a.getByRole("complementary", { name: "Thread" });
    await panel.waitFor();
    const reply = panel.getByLabel("Reply in the thread");
    await reply.fill("Agenda: demo, then questions");
    await reply.press("Enter");
    await inThread(a, "Agenda: demo").waitFor();
    // Bob sees the summary live, not the reply in the timeline.
    const link = main(b, "Kick-off at ten").locator(".thread-link");
    await link.filter({ hasText: "1 reply" }).waitFor();
    assert.equal(await main(b, "Agenda: demo").count(), 0, "the reply stays in its thread");
    await link.click();
    await inThread(b, "Agenda: demo").waitFor();
    await b.getByRole("complementary", { name: "Thread" }).getByLabel("Reply in the thread").fill("I'll bring the slides");
    await b.getByRole("complementary", { name: "Thread" }).getByLabel("Reply in the thread").press("Enter");
    await inThread(a, "I'll bring the slides").waitFor();
    await main(a, "Kick-off at ten").locator(".thread-link", { hasText: "2 replies" }).waitFor();
    // Also sent to the chat: in both places.
    await reply.fill("See you all there");
    await panel.getByLabel("Also send to the chat").check();
    await reply.press("Enter");
    await main(b, "See you all there").locator(".thread-of").waitFor();
    await s.shot(a, "chat-4-thread-desktop");
  });

  test("phone width: the thread takes the screen; the autocomplete fits", async () => {
    const p = await s.page({ viewport: PHONE });
    await s.signIn(p, CARA.email, CARA.password);
    await row(p, "Launch").click();
    await main(p, "Kick-off at ten").locator(".thread-link").click();
    const panel = p.getByRole("complementary", { name: "Thread" });
    await inThread(p, "I'll bring the slides").waitFor();
    const box = await panel.boundingBox();
    assert.ok(box && box.width >= PHONE.width - 2, "the thread is full width on a phone");
    await s.shot(p, "chat-5-thread-phone");
    await panel.getByRole("button", { name: "Close the thread" }).click();
    const input = p.locator(".chat-main").getByLabel("Message", { exact: true });
    await input.pressSequentially("@");
    await p.getByRole("listbox", { name: "Mention someone" }).waitFor();
    await s.shot(p, "chat-6-mention-phone");
    await input.press("Escape");
    await p.context().close();
  });
});
