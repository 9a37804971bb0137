// Browser tests of bots and outgoing webhooks (docs/webhooks.md): an
// administrator adds a webhook for a project in Administration → Webhooks,
// against a receiver started here on 127.0.0.1 that checks every call's
// X-Parley-Signature; copies the secret shown once; a visitor writes
// through the widget API and the receiver gets the signed message.created.
// The receiver fails once: the log shows the failed attempt (500) and the
// retried one; Resend sends an event again, once however fast the clicks.
// Pause, Resume, edit, a failing webhook's last error, Remove. Then a bot
// is created in Administration → Bots (its token and secret shown once),
// made a specialist and put in charge of a dialog through the API, and the
// inbox's Bots filter (shown once a bot exists, seed 003) lists it.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as wh-*.png, outside the repository.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# webhooks browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Manager", password: "anna-password", role: "agent" };
const ORIGIN = SHOP_ORIGIN;
const PHONE = { width: 390, height: 844 };
const DANGER = "rgb(211, 48, 74)"; // --danger

/** verify checks X-Parley-Signature as a receiver must: HMAC-SHA256(secret, "<t>.<raw body>"), in constant time, within five minutes. */
function verify(secret, header, raw) {
  const parts = Object.fromEntries(
    String(header || "")
      .split(",")
      .map((p) => p.trim().split("=")),
  );
  const t = Number(parts.t);
  if (!t || Math.abs(Date.now() / 1000 - t) > 300 || !parts.v1) return false;
  const want = crypto.createHmac("sha256", secret).update(`${parts.t}.`).update(raw).digest();
  const got = Buffer.from(parts.v1, "hex");
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

/**
 * receiver takes webhook calls on 127.0.0.1: it records each (path,
 * headers, raw body, parsed body, the status it answered), answers 500 on
 * /down always and once for a call failOnce picked, and can hold its
 * answers until released.
 */
function receiver() {
  const r = {
    url: "",
    calls: [],
    /** Predicates of calls to refuse once with 500. */
    fails: [],
    gate: null,
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks);
      let body = null;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        /* recorded as it came */
      }
      const call = { path: req.url, method: req.method, headers: req.headers, raw, body, status: 200 };
      const i = r.fails.findIndex((f) => f(call));
      if (req.url === "/down") call.status = 500;
      else if (i >= 0) {
        r.fails.splice(i, 1);
        call.status = 500;
      }
      r.calls.push(call);
      if (r.gate) await r.gate;
      res.writeHead(call.status, { "Content-Type": "text/plain" });
      res.end(call.status === 200 ? "ok" : "down");
    });
  });
  r.failOnce = (pred) => r.fails.push(pred);
  r.hold = () => {
    let release;
    r.gate = new Promise((x) => (release = x));
    return () => {
      r.gate = null;
      release();
    };
  };
  /** text: the message.created calls carrying a message's text. */
  r.text = (path, text) => r.calls.filter((c) => c.path === path && c.body?.type === "message.created" && c.body?.data?.text === text);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      r.url = `http://127.0.0.1:${server.address().port}`;
      r.close = () =>
        new Promise((x) => {
          server.close(() => x());
          server.closeAllConnections?.();
        });
      resolve(r);
    });
  });
}

/**
 * calm dismisses the notifications of visitors' messages, which would cover what a screenshot is for.
 * A toast may go by itself meanwhile: its button is then not waited for (Playwright's default is 30 s).
 */
async function calm(page) {
  for (const b of await page.locator(".toasts .toast:has(.toast-main[title=Open]) button[aria-label=Dismiss]").all()) await b.click({ timeout: 1000 }).catch(() => {});
}

/** loopbackOnly fails a page's request to any host but 127.0.0.1 (and records it). */
async function loopbackOnly(page, strays) {
  await page.context().route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === "data:" || u.protocol === "blob:" || u.hostname === "127.0.0.1") return route.continue();
    strays.push(u.href);
    return route.abort();
  });
}

describe("bots and outgoing webhooks", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let rx;
  let adminT, annaT;
  let project;
  let admin, anna;
  let vera, walt;
  let annaId = 0;
  let hookId = 0;
  let secret = "";
  let bot = null;
  const strays = [];
  const log = () => admin.getByRole("table", { name: "Deliveries" });
  const logRow = (pred) => log().locator("tbody tr", pred);

  before(async () => {
    rx = await receiver();
    s = await stack({ users: [ADMIN, ANNA] });
    adminT = await s.login(ADMIN.email, ADMIN.password);
    annaT = await s.login(ANNA.email, ANNA.password);
    project = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: [ORIGIN], chat_enabled: true });
    await s.api(adminT, "POST", "/projects", { name: "Beta Store", origins: ["https://beta.example"], chat_enabled: true });
    const me = await s.api(annaT, "GET", "/me");
    annaId = (me.user || me).id;
    await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: annaId, level: 1 });
    // Anna is online (a specialist signed in), so visitors' messages are chats, not offline cases.
    anna = await s.page({ path: "/inbox?sort=activity" });
    await loopbackOnly(anna, strays);
    await s.signIn(anna, ANNA.email, ANNA.password);
    await until(async () => (await fetch(s.parley.url + `/api/v1/widget/projects/${project.key}`, { headers: { Origin: ORIGIN } }).then((r) => r.json())).online);
    admin = await s.page({ path: "/admin/webhooks" });
    await loopbackOnly(admin, strays);
    await admin.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await s.signIn(admin, ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await s?.close();
    await rx?.close();
  });

  test("only the chat settings right: an agent gets 403 and no Webhooks tab", async () => {
    await assert.rejects(s.api(annaT, "GET", "/webhooks"), /403/);
    await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Webhooks" }).waitFor();
    await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Bots" }).waitFor();
  });

  test("an administrator adds a webhook for a project; the secret once; a visitor's message arrives signed", async () => {
    await admin.getByRole("heading", { name: "Webhooks" }).waitFor();
    await admin.getByText("No webhooks yet.").waitFor();
    await admin.getByRole("button", { name: "Add a webhook" }).click();
    await admin.getByRole("heading", { name: "Add a webhook" }).waitFor();
    // One project by default, with a project picker; every event by default.
    assert.equal(await admin.getByRole("radio", { name: /One project/ }).isChecked(), true);
    await admin.getByRole("combobox", { name: "Project" }).selectOption({ label: "Acme Shop" });
    await admin.getByText("A bot's own events go to the bot's webhook").waitFor();
    assert.equal(await admin.getByRole("checkbox", { name: /All events/ }).isChecked(), true);
    await s.shot(admin, "wh-00-add-form");

    // Not http(s): the server's error beside the URL.
    await admin.getByLabel("URL").fill("ftp://example.com/x");
    await admin.getByRole("button", { name: "Add", exact: true }).click();
    const urlField = admin.locator(".field", { has: admin.getByLabel("URL") });
    await urlField.locator(".field-error").getByText("url must be an http(s) URL").waitFor();
    // Some events: none picked is refused here.
    await admin.getByLabel("URL").fill(rx.url + "/hook");
    await admin.getByRole("checkbox", { name: /All events/ }).uncheck();
    await admin.getByRole("button", { name: "Add", exact: true }).click();
    await admin.getByText("Choose at least one event, or All events.").waitFor();
    await admin.getByRole("checkbox", { name: /^message\.created/ }).check();
    assert.equal((await s.api(adminT, "GET", "/webhooks")).webhooks.length, 0);

    // A double click adds one webhook, and opens its page with the secret.
    await admin.getByRole("button", { name: "Add", exact: true }).dblclick();
    const fresh = admin.getByRole("region", { name: "New secret" });
    await fresh.getByText("It will not be shown again.").waitFor();
    await new Promise((r) => setTimeout(r, 500));
    const list = (await s.api(adminT, "GET", "/webhooks")).webhooks;
    assert.equal(list.length, 1, "one webhook for a double click");
    hookId = list[0].id;
    assert.equal(list[0].project_id, project.id);
    assert.deepEqual(list[0].events, ["message.created"]);
    assert.equal(list[0].secret, undefined, "the list never shows the secret");
    assert.match(admin.url(), new RegExp(`/admin/webhooks/${hookId}$`));
    secret = await fresh.getByLabel("Signing secret", { exact: true }).innerText();
    assert.match(secret, /^[0-9a-f]{48}$/);
    await fresh.getByRole("button", { name: "Copy Signing secret" }).click();
    await fresh.getByRole("button", { name: "Copy Signing secret" }).getByText("Copied").waitFor();
    assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), secret);
    await admin.locator(".wh-head").getByText("Project: Acme Shop · message.created").waitFor();
    await admin.getByText("No deliveries yet.").waitFor();
    await s.shot(admin, "wh-02-webhook-created");

    // A visitor writes: the receiver gets message.created, signed with that secret.
    vera = new Customer(s.parley.url, project.key);
    await vera.start({ name: "Vera Visitor", email: "vera@example.com" });
    await vera.send("Hello from the widget");
    const [call] = await until(() => rx.text("/hook", "Hello from the widget").length && rx.text("/hook", "Hello from the widget"));
    assert.equal(call.method, "POST");
    assert.equal(call.headers["content-type"], "application/json");
    assert.equal(call.headers["x-parley-event"], "message.created");
    assert.equal(call.headers["x-parley-delivery"], `${hookId}-${call.body.id}`);
    assert.equal(call.body.webhook_id, hookId);
    assert.ok(verify(secret, call.headers["x-parley-signature"], call.raw), "the signature verifies with the secret shown");
    assert.ok(!verify("not-the-secret", call.headers["x-parley-signature"], call.raw));
    assert.ok(!verify(secret, call.headers["x-parley-signature"], Buffer.concat([call.raw, Buffer.from(" ")])), "the raw body is signed");
    // Only the events chosen.
    assert.ok(rx.calls.filter((c) => c.path === "/hook").every((c) => c.body.type === "message.created"));

    // The log shows the attempt, by itself.
    const row = logRow({ has: admin.locator("td", { hasText: `#${call.body.id}` }) });
    await row.waitFor();
    assert.equal(await row.getAttribute("data-ok"), "true");
    await row.locator(".wh-status", { hasText: "200" }).waitFor();
    await row.getByText("OK", { exact: true }).waitFor();
    assert.match(await row.innerText(), /message\.created/);
    assert.match(await row.innerText(), /\d+ ms/);
  });

  test("the receiver fails once: the failed attempt (500) and the retried one in the log; Resend sends again, once", async () => {
    rx.failOnce((c) => c.body?.data?.text === "Is anyone there?");
    await vera.send("Is anyone there?");
    // Refused, then taken ~2 s later (the first retry).
    await until(() => rx.text("/hook", "Is anyone there?").length === 2);
    const [first, retry] = rx.text("/hook", "Is anyone there?");
    assert.equal(first.status, 500);
    assert.equal(retry.status, 200);
    assert.equal(first.headers["x-parley-delivery"], retry.headers["x-parley-delivery"], "a retry has the same delivery id");
    assert.ok(verify(secret, retry.headers["x-parley-signature"], retry.raw));
    const ev = first.body.id;

    const ofEvent = log().locator("tbody tr", { has: admin.locator("td", { hasText: `#${ev}` }) });
    await until(async () => (await ofEvent.count()) === 2);
    const failed = ofEvent.nth(1);
    const ok = ofEvent.nth(0);
    assert.equal(await failed.getAttribute("data-ok"), "false");
    await failed.getByText("Failed", { exact: true }).waitFor();
    await failed.locator(".wh-status", { hasText: "500" }).waitFor();
    await failed.getByText("the receiver answered 500 Internal Server Error").waitFor();
    assert.equal(await failed.locator(".wh-error").evaluate((el) => getComputedStyle(el).color), DANGER);
    assert.match(await failed.locator("td[data-label=Attempt]").innerText(), /^1$/);
    assert.equal(await ok.getAttribute("data-ok"), "true");
    assert.match(await ok.locator("td[data-label=Attempt]").innerText(), /^2$/);
    // Newest first.
    const ids = (await log().locator("tbody tr").evaluateAll((rs) => rs.map((r) => Number(r.dataset.delivery))));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    await calm(admin);
    await admin.getByRole("heading", { name: "Delivery log" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await s.shot(admin, "wh-03-delivery-log");

    // Resend the first message's delivery: held by the receiver, every Resend waits; a double click sends once.
    const hello = rx.text("/hook", "Hello from the widget")[0];
    const helloRow = log().locator("tbody tr", { has: admin.locator("td", { hasText: `#${hello.body.id}` }) });
    assert.equal(await helloRow.count(), 1);
    const release = rx.hold();
    const before = rx.text("/hook", "Hello from the widget").length;
    await helloRow.getByRole("button", { name: /^Resend/ }).dblclick();
    await until(() => rx.text("/hook", "Hello from the widget").length === before + 1);
    for (const b of await log().getByRole("button", { name: /^Resend/ }).all()) assert.equal(await b.isDisabled(), true, "no Resend while one is on its way");
    await calm(admin);
    await s.shot(admin, "wh-03b-resending");
    release();
    const again = log().locator("tbody tr").first();
    await until(async () => (await again.innerText()).includes(`#${hello.body.id}`));
    assert.match(await again.locator("td[data-label=Attempt]").innerText(), /^2$/);
    assert.equal(await again.getAttribute("data-ok"), "true");
    await admin.getByText("Sent again: the receiver answered 200.").waitFor();
    await new Promise((r) => setTimeout(r, 500));
    const sent = rx.text("/hook", "Hello from the widget");
    assert.equal(sent.length, before + 1, "one resend for a double click");
    assert.equal(sent[sent.length - 1].headers["x-parley-delivery"], hello.headers["x-parley-delivery"], "the same event, the same delivery id");
    assert.ok(verify(secret, sent[sent.length - 1].headers["x-parley-signature"], sent[sent.length - 1].raw));
    const deliveries = (await s.api(adminT, "GET", `/webhooks/${hookId}/deliveries`)).deliveries;
    assert.equal(deliveries.filter((d) => d.event_id === hello.body.id).length, 2);
    assert.equal(await log().getByRole("button", { name: /^Resend/ }).first().isDisabled(), false);
  });

  test("pause and resume (nothing is lost), change the events, a bad URL", async () => {
    await admin.getByRole("button", { name: "Pause" }).click();
    await admin.locator(".wh-head .pill", { hasText: "Paused" }).waitFor();
    await admin.getByText("Paused: events wait in the stream").waitFor();
    await vera.send("Written while paused");
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(rx.text("/hook", "Written while paused").length, 0, "a paused webhook sends nothing");
    await admin.getByRole("button", { name: "Resume" }).click();
    await admin.locator(".wh-head .pill", { hasText: "Active" }).waitFor();
    await until(() => rx.text("/hook", "Written while paused").length === 1);

    await admin.getByRole("checkbox", { name: /^dialog\.updated/ }).check();
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.locator(".ok-text", { hasText: "Saved" }).waitFor();
    await admin.locator(".wh-head").getByText("message.created, dialog.updated").waitFor();
    assert.deepEqual((await s.api(adminT, "GET", "/webhooks")).webhooks[0].events, ["message.created", "dialog.updated"]);
    await admin.getByLabel("URL").fill("not a url");
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.locator(".field", { has: admin.getByLabel("URL") }).locator(".field-error").getByText("url must be an http(s) URL").waitFor();
    assert.equal((await s.api(adminT, "GET", "/webhooks")).webhooks[0].url, rx.url + "/hook");
    await admin.getByLabel("URL").fill(rx.url + "/hook");
  });

  test("the list: scope, events, state; a failing webhook's last error in red with its time; remove with confirmation", async () => {
    // Every project's events to a receiver that is down.
    const down = await s.api(adminT, "POST", "/webhooks", { url: rx.url + "/down", events: [] });
    assert.ok(down.secret);
    walt = new Customer(s.parley.url, project.key);
    await walt.start({ name: "Walt Wholesale", email: "walt@example.com" });
    await walt.send("Do you sell by the pallet?");
    await until(async () => (await s.api(adminT, "GET", "/webhooks")).webhooks.find((w) => w.id === down.id).last_error);

    await admin.getByRole("link", { name: "‹ All webhooks" }).click();
    const mine = admin.locator(`.wh-row[data-webhook="${hookId}"]`);
    const bad = admin.locator(`.wh-row[data-webhook="${down.id}"]`);
    await mine.waitFor();
    assert.equal(await mine.locator(".wh-url").innerText(), rx.url + "/hook");
    assert.equal(await mine.locator(".wh-scope").innerText(), "Project: Acme Shop");
    assert.equal(await mine.locator(".wh-events").innerText(), "message.created, dialog.updated");
    await mine.locator(".pill", { hasText: "Active" }).waitFor();
    assert.match(await mine.innerText(), /delivered up to event \d+/);
    assert.equal(await bad.locator(".wh-scope").innerText(), "All projects");
    assert.equal(await bad.locator(".wh-events").innerText(), "All events");
    await bad.locator(".pill", { hasText: "Failing" }).waitFor();
    const err = bad.locator(".ch-error");
    await err.getByText("the receiver answered 500 Internal Server Error").waitFor();
    assert.match(await err.locator(".ch-error-at").innerText(), /\d/);
    assert.equal(await err.evaluate((el) => getComputedStyle(el).color), DANGER);
    await calm(admin);
    await s.shot(admin, "wh-01-webhooks-list");

    await bad.click();
    await admin.locator(".wh-head .ch-error", { hasText: "500 Internal Server Error" }).waitFor();
    await admin.getByRole("button", { name: "Remove" }).click();
    const confirm = admin.getByRole("dialog", { name: "Remove this webhook?" });
    await confirm.getByText("Its delivery log is removed with it.").waitFor();
    await s.shot(admin, "wh-06-remove");
    await confirm.getByRole("button", { name: "Remove" }).click();
    await admin.getByRole("heading", { name: "Webhooks" }).waitFor();
    await mine.waitFor();
    assert.equal(await bad.count(), 0);
    assert.deepEqual(
      (await s.api(adminT, "GET", "/webhooks")).webhooks.map((w) => w.id),
      [hookId],
    );
  });

  test("a bot: created in Bots with its token and secret shown once; a dialog in its charge; the inbox's Bots filter", async () => {
    // No bot yet: the inbox has no Bots filter (seed 003).
    await anna.getByRole("button", { name: /^Filters and sorting/ }).click();
    const panel = anna.getByRole("dialog", { name: "Filters and sorting" });
    await panel.getByText("Managers in charge").first().waitFor();
    await panel.getByRole("checkbox", { name: /Anna Manager/ }).waitFor();
    assert.equal(await panel.getByRole("group", { name: "Bots" }).count(), 0);
    await anna.getByRole("button", { name: "Close the filters" }).click();

    await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Bots" }).click();
    await admin.getByText("No bots yet.").waitFor();
    await admin.getByRole("button", { name: "Create a bot" }).click();
    await admin.getByLabel("Name").fill("Order helper");
    await admin.getByLabel("Webhook URL").fill(rx.url + "/bot");
    assert.equal(await admin.getByRole("checkbox", { name: /All events/ }).isChecked(), true);
    await s.shot(admin, "wh-04a-bot-form");
    await admin.getByRole("button", { name: "Create", exact: true }).dblclick();
    const made = admin.getByRole("region", { name: "New bot" });
    await made.getByText("will not be shown again").waitFor();
    const token = await made.getByLabel("API token", { exact: true }).innerText();
    const botSecret = await made.getByLabel("Webhook signing secret", { exact: true }).innerText();
    assert.ok(token.length >= 20);
    assert.match(botSecret, /^[0-9a-f]{48}$/);
    await admin.getByText("Authorization: Bearer <token>").waitFor();
    const link = admin.getByRole("link", { name: "Acme Shop → Associate specialists" });
    assert.equal(await link.getAttribute("href"), `/admin/projects/${project.id}/specialists`);
    await calm(admin);
    await s.shot(admin, "wh-04-bot-created");

    // One bot for a double click; the token is the bot's.
    const me = await s.api(token, "GET", "/me");
    bot = me.user || me;
    assert.equal(bot.bot, true);
    assert.equal(bot.name, "Order helper");
    const users = (await s.api(adminT, "GET", "/users?limit=100")).users;
    assert.equal(users.filter((u) => u.bot).length, 1, "one bot for a double click");
    const hook = (await s.api(adminT, "GET", "/webhooks")).webhooks.find((w) => w.user_id === bot.id);
    assert.equal(hook.url, rx.url + "/bot");

    // Done: the list, with its webhook; the token is gone from the page.
    await made.getByRole("button", { name: "Done" }).click();
    const row = admin.locator(`.wh-bot[data-bot="${bot.id}"]`);
    await row.getByText("Order helper").waitFor();
    await row.getByRole("link", { name: /Webhook: .*\/bot/ }).waitFor();
    assert.ok(!(await admin.content()).includes(token), "the token is not shown again");
    await calm(admin);
    await s.shot(admin, "wh-04b-bots");
    // The webhooks list names it.
    await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Webhooks" }).click();
    await admin.locator(`.wh-row[data-webhook="${hook.id}"] .wh-scope`, { hasText: "Bot: Order helper" }).waitFor();

    // An administrator makes it a specialist and puts Vera's dialog in its charge (the API).
    await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: bot.id, level: 1 });
    const dialogs = (await s.api(adminT, "GET", "/dialogs?limit=50&sort=activity")).dialogs;
    const veraDialog = dialogs.find((d) => d.contact?.name === "Vera Visitor");
    await s.api(adminT, "POST", `/dialogs/${veraDialog.conversation.id}/reassign`, { user_id: bot.id });
    // The bot's webhook gets its own events, signed with its secret.
    const botCall = await until(() => rx.calls.find((c) => c.path === "/bot" && c.body?.type === "dialog.updated"));
    assert.ok(verify(botSecret, botCall.headers["x-parley-signature"], botCall.raw));
    assert.equal(botCall.body.webhook_id, hook.id);
    // The bot sees the dialog with its token.
    assert.ok((await s.api(token, "GET", "/dialogs?bots=true")).dialogs.some((d) => d.conversation.id === veraDialog.conversation.id));

    // The Bots filter appears (the bot came as a live user.updated), and lists the dialogs bots are in charge of.
    await anna.getByRole("button", { name: /^Filters and sorting/ }).click();
    const bots = panel.getByRole("group", { name: "Bots" });
    await bots.waitFor();
    await bots.getByText("Order helper").waitFor();
    await bots.getByRole("radio", { name: /In a bot's charge/ }).check();
    await anna.waitForURL(/bots=true/);
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Vera Visitor");
    await anna.locator(".inbox-row .dlg-assignee", { hasText: "Order helper" }).waitFor();
    await anna.getByRole("button", { name: /Filters and sorting, 1 set/ }).waitFor();
    // The bot is in the managers list too (created after the list was read).
    await panel.getByRole("checkbox", { name: /Order helper/ }).waitFor();
    await calm(anna);
    await s.shot(anna, "wh-05b-inbox-bots-panel");
    // It combines with the others: open still lists Vera; closed, nobody.
    await panel.getByRole("radio", { name: "Open" }).check();
    await anna.waitForURL(/status=open&.*bots=true|bots=true.*status=open/);
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Vera Visitor");
    await panel.getByRole("radio", { name: "Closed" }).check();
    await anna.getByText("No dialogs match these filters.").waitFor();
    await panel.getByRole("group", { name: "Status" }).getByRole("radio", { name: "Any" }).check();
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Vera Visitor");
    // Live changes are matched too: Walt's dialog put in the bot's charge joins the list.
    const waltDialog = dialogs.find((d) => d.contact?.name === "Walt Wholesale");
    await s.api(adminT, "POST", `/dialogs/${waltDialog.conversation.id}/reassign`, { user_id: bot.id });
    const both = async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).sort().join() === "Vera Visitor,Walt Wholesale";
    await until(both);
    await anna.getByRole("button", { name: "Close the filters" }).click();
    await calm(anna);
    await s.shot(anna, "wh-05-inbox-bots");
    // A reload keeps the filter.
    await anna.reload();
    await until(both);
    await anna.getByRole("button", { name: /^Filters and sorting/ }).click();
    assert.equal(await panel.getByRole("radio", { name: /In a bot's charge/ }).isChecked(), true);
    await anna.getByRole("button", { name: "Close the filters" }).click();
  });

  test("phones: the webhooks list, a delivery log, a bot created, the inbox's Bots filter", async () => {
    const phone = await s.page({ viewport: PHONE });
    await loopbackOnly(phone, strays);
    await s.signIn(phone, ADMIN.email, ADMIN.password);
    await phone.goto(s.url + "/admin/webhooks");
    await phone.locator(`.wh-row[data-webhook="${hookId}"]`).waitFor();
    await calm(phone);
    await s.shot(phone, "wh-07-phone-list");
    await phone.locator(`.wh-row[data-webhook="${hookId}"]`).click();
    const rows = phone.getByRole("table", { name: "Deliveries" }).locator("tbody tr");
    await rows.first().waitFor();
    // Each attempt fits the screen.
    const box = await rows.first().boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 1, "a log row fits the screen");
    await phone.getByRole("heading", { name: "Delivery log" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await calm(phone);
    await s.shot(phone, "wh-08-phone-log");
    await phone.goto(s.url + "/admin/bots");
    await phone.getByRole("button", { name: "Create a bot" }).click();
    await phone.getByLabel("Name").fill("Night shift");
    await phone.getByRole("button", { name: "Create", exact: true }).click();
    await phone.getByRole("region", { name: "New bot" }).getByLabel("API token", { exact: true }).waitFor();
    await calm(phone);
    await s.shot(phone, "wh-09-phone-bot-created");
    await phone.context().close();

    const agent = await s.page({ viewport: PHONE, path: "/inbox?bots=true" });
    await loopbackOnly(agent, strays);
    await s.signIn(agent, ANNA.email, ANNA.password);
    await until(async () => (await agent.locator(".inbox-row .dlg-name").allTextContents()).sort().join() === "Vera Visitor,Walt Wholesale");
    await calm(agent);
    await s.shot(agent, "wh-10-phone-inbox-bots");
    await agent.getByRole("button", { name: /^Filters and sorting/ }).click();
    const panel = agent.getByRole("dialog", { name: "Filters and sorting" });
    await panel.getByRole("group", { name: "Bots" }).scrollIntoViewIfNeeded();
    await calm(agent);
    await s.shot(agent, "wh-11-phone-inbox-bots-panel");
    await agent.context().close();
  });

  test("nothing went to any host but 127.0.0.1", () => {
    assert.deepEqual(strays, []);
  });
});
