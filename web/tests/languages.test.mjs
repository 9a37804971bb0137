// Browser tests of the staff app's languages (issue 14, item 15;
// docs/decisions.md "Languages"): with no setting the app follows the
// browser's language; every screen in Russian and Spanish is read for words
// left in English (in Russian, with the data in Cyrillic, any Latin word that
// is not a product name; in Spanish, common English words); dates and
// plurals are the language's; the Language setting switches the app and a
// second device follows; nothing sticks out at phone width.
// Screenshots: languages-*.png in $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# language browser tests skipped: " + skip);

const ALICE = { email: "alice@example.com", name: "Алиса Админова", password: "alice-password", role: "admin" };
const BORIS = { email: "boris@example.com", name: "Борис Строев", password: "boris-password", role: "agent" };
const PHONE = { width: 390, height: 844 };

/**
 * Latin words that are allowed on a Russian or Spanish screen: product and
 * protocol names, and the test's own data (e-mail addresses).
 */
const ALLOWED = new Set(
  (
    "Parley SMS SLA PDF JPEG PNG URL API HTTP HTTPS CSV JSON Twilio Telegram WhatsApp Messenger Instagram Meta VAPID TURN STUN " +
    "SMTP IMAP OIDC OpenID Connect Web Push PWA Markdown WebSocket Enter Ctrl Shift Esc Tab Alt Cmd " +
    "Chrome Chromium Firefox Safari Edge Headless Linux Windows macOS Android iOS Node Keycloak Google Microsoft Entra Authentik Okta SSO web push amr " +
    // Technical terms given in parentheses after their translation, and code: flags, field names, example URLs.
    "issuer discovery smtp url https body name email phone shop realms staff parley " +
    "alice boris example com English Español Русский"
  ).split(" "),
);

/**
 * English words a Spanish screen would not have: Spanish is written in
 * Latin letters too, so there the check is for these instead.
 */
const ENGLISH = new Set(
  (
    "the you your and with this that for from not are is be have was will can cannot could please yet here there who what when " +
    "save delete cancel close open send search settings loading message messages add remove edit new create back role users " +
    "groups projects tags audit inbox queue cases tasks task people friends friend available busy break today yesterday " +
    "someone visitor members member replies reply call mute unmute unread direct assistance sign password week hour hours " +
    "minutes days day show hide more less all none yes done status assigned created due customer dialog dialogs case project " +
    "channel channels group department departments invite invitation reminder reminders thread threads mention reactions"
  ).split(" "),
);

/** english lists the texts on the screen (visible text, labels, titles, placeholders) that have English words left. */
function english(page, lang) {
  return page.evaluate(([allowed, words, lang]) => {
    const found = new Set();
    const latin = (s) =>
      (s.match(/[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f']{2,}/g) || []).filter((w) =>
        lang === "ru" ? /^[A-Za-z']+$/.test(w) && !allowed.includes(w) : words.includes(w.toLowerCase()),
      );
    const shown = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!shown(el) || el.closest("script, style, code, pre, .text.md")) continue;
      const w = latin(n.textContent);
      if (w.length) found.add(n.textContent.trim().slice(0, 90) + " [" + w.join(" ") + "]");
    }
    for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
      if (!shown(el) && el.tagName !== "INPUT") continue;
      for (const a of ["aria-label", "title", "placeholder", "alt"]) {
        const v = el.getAttribute(a);
        if (v && latin(v).length) found.add(`${a}="${v.slice(0, 90)}" [${latin(v).join(" ")}]`);
      }
    }
    return [...found];
  }, [[...ALLOWED], [...ENGLISH], lang]);
}

/** langOf is the page's language, or "" while it reloads. */
const langOf = (page) => page.evaluate(() => document.documentElement.lang).catch(() => "");

/** settle waits for a screen to be drawn: the app started, its data in (no spinner left). */
async function settle(page) {
  await until(async () => (await page.locator("#app .splash, .spinner").count()) === 0 && (await page.locator("#app > *").count()) > 0, 15_000).catch(() => {});
  await page.waitForTimeout(150);
}

/** overflow names the elements that stick out of the window sideways. */
function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > w) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + "px");
    // Inside a box that scrolls sideways (a wide table, a row of tabs) is not sticking out.
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
        if (/auto|scroll/.test(getComputedStyle(p).overflowX)) return true;
      return false;
    };
    for (const el of document.querySelectorAll("button, h1, h2, label, [role=tab], .btn")) {
      if (scrolls(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width && r.right > w + 1 && getComputedStyle(el).position !== "fixed") out.push(`${el.tagName} "${el.textContent.trim().slice(0, 40)}" ends at ${Math.round(r.right)}px`);
    }
    return out;
  });
}

describe("the staff app in Russian and Spanish", { skip: skip || false, timeout: 900_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let token;
  const ids = {};
  /** the screens every language is read on */
  let screens;

  before(async () => {
    s = await stack({ users: [ALICE, BORIS] });
    token = await s.login(ALICE.email, ALICE.password);
    for (const u of (await s.api(token, "GET", "/users?limit=50")).users) ids[u.email] = u.id;
    const group = await s.api(token, "POST", "/conversations/group", { title: "План на неделю", user_ids: [ids[BORIS.email]] });
    for (const text of ["Доброе утро", "Созвон в 11:00", "Договорились"]) await s.api(token, "POST", `/conversations/${group.id}/messages`, { text, client_id: crypto.randomUUID() });
    const project = await s.api(token, "POST", "/projects", { name: "Магазин" });
    await s.api(token, "POST", "/tasks", { title: "Проверить отчёт", assignee_id: ids[BORIS.email], due_at: new Date(Date.now() + 3 * 86400_000).toISOString() });
    await s.api(token, "POST", "/groups", { name: "Продажи", rights: [], member_ids: [ids[BORIS.email]] });
    screens = [
      ["/", "the chat list"],
      [`/c/${group.id}`, "a multi-chat"],
      ["/settings", "settings"],
      ["/people", "my friends"],
      ["/people/org", "the organisation"],
      ["/tasks", "my tasks"],
      ["/cases", "cases"],
      ["/inbox", "the inbox"],
      ["/admin", "administration"],
      ["/admin/users", "users"],
      ["/admin/groups", "groups"],
      ["/admin/chat", "chat settings"],
      ["/admin/tags", "tags"],
      ["/admin/bots", "bots"],
      ["/admin/webhooks", "webhooks"],
      ["/admin/audit", "the audit log"],
      ["/admin/projects", "projects"],
      ...["general", "channels", "messages", "specialists", "cases", "inbox", "distribution", "embed", "metrics"].map((sec) => [
        `/admin/projects/${project.id}/${sec}`,
        "project: " + sec,
      ]),
    ];
  });

  after(async () => {
    await s?.close();
  });

  /** signIn fills the sign-in form whatever its language. */
  async function signIn(page, u) {
    await page.locator('input[type="email"]').fill(u.email);
    await page.locator('input[type="password"]').fill(u.password);
    await page.locator('button[type="submit"]').click();
    await page.locator(".sidebar").waitFor();
  }

  /** read visits every screen and returns what was left in English on each. */
  async function read(page, lang) {
    const left = [];
    for (const [path, what] of screens) {
      await page.goto(s.url + path);
      await page.locator(".sidebar").waitFor();
      await settle(page);
      for (const e of await english(page, lang)) left.push(`${lang} ${what} (${path}): ${e}`);
    }
    return left;
  }

  test("Russian from the browser's language: every screen, dates and plurals, no English left", async () => {
    const page = await s.page({ locale: "ru-RU" });
    await page.getByRole("button", { name: "Войти" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "ru");
    await s.shot(page, "languages-01-sign-in-ru");
    await signIn(page, ALICE);
    const left = await read(page, "ru");
    assert.deepEqual(left, [], "English on Russian screens");

    // A day in the history and an overdue task, in Russian.
    await page.goto(s.url + "/");
    await page.locator(".conv-row", { hasText: "План на неделю" }).click();
    await page.getByText("Сегодня").first().waitFor();
    await s.shot(page, "languages-02-chat-ru");
    await page.goto(s.url + "/tasks?role=created");
    await page.getByText("Проверить отчёт").waitFor();
    await s.shot(page, "languages-03-tasks-ru");
    await page.goto(s.url + "/settings");
    await settle(page);
    await s.shot(page, "languages-04-settings-ru");
    await page.context().close();
  });

  test("the Language setting switches the app to Spanish, and a second device follows", async () => {
    const one = await s.page({ locale: "ru-RU" });
    await signIn(one, ALICE);
    const two = await s.page({ locale: "ru-RU" });
    await signIn(two, ALICE);
    await one.goto(s.url + "/settings");
    const select = one.locator("select").filter({ has: one.locator('option[value="es"]') });
    await select.selectOption("es");
    // The page draws itself again in Spanish; so does the other device.
    await until(async () => (await langOf(one)) === "es");
    await until(async () => (await langOf(two)) === "es");
    const saved = await s.api(token, "GET", "/me/settings");
    assert.equal(saved.language, "es");
    await one.locator(".sidebar").waitFor();
    const left = await read(one, "es");
    assert.deepEqual(left, [], "English on Spanish screens");
    await one.goto(s.url + "/settings");
    await settle(one);
    await s.shot(one, "languages-05-settings-es");
    // Back to the browser's language: Russian again.
    await one.locator("select").filter({ has: one.locator('option[value="es"]') }).selectOption("");
    await until(async () => (await langOf(one)) === "ru");
    await one.context().close();
    await two.context().close();
  });

  test("a language chunk that does not load: English, and no reload loop", async () => {
    await s.api(token, "PUT", "/me/settings", { ...(await s.api(token, "GET", "/me/settings")), language: "ru" });
    const page = await s.page({ locale: "ru-RU", path: "/nothing-yet" });
    await page.route(/\/assets\/ru-[^/]*\.js$/, (r) => r.abort());
    let loads = 0;
    page.on("load", () => loads++);
    await page.goto(s.url + "/");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(await langOf(page), "en");
    await signIn(page, ALICE);
    // The setting (ru) is the language chosen: the page does not reload for it.
    await page.waitForTimeout(1500);
    assert.equal(loads, 1, "the page loaded once");
    assert.equal(await langOf(page), "en");
    await page.getByRole("searchbox", { name: "Search conversations, people and messages" }).waitFor();
    await page.context().close();
  });

  test("Russian at phone width: nothing sticks out", async () => {
    await s.api(token, "PUT", "/me/settings", { ...(await s.api(token, "GET", "/me/settings")), language: "ru" });
    const page = await s.page({ viewport: PHONE, locale: "en-US" });
    await signIn(page, ALICE);
    await until(async () => (await langOf(page)) === "ru");
    await page.locator(".sidebar").waitFor();
    const bad = [];
    for (const [path, what] of screens) {
      await page.goto(s.url + path);
      await settle(page);
      assert.equal(await page.locator("#app .splash").count(), 0, `${path} was drawn`);
      for (const o of await overflow(page)) bad.push(`${what} (${path}): ${o}`);
    }
    await page.goto(s.url + "/");
    await settle(page);
    await s.shot(page, "languages-06-list-phone-ru");
    await page.goto(s.url + "/settings");
    await settle(page);
    await s.shot(page, "languages-07-settings-phone-ru");
    assert.deepEqual(bad, []);
    await page.context().close();
  });
});
