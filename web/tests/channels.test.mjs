// Browser tests of connected channels (docs/channels.md): an administrator
// connects a Telegram bot in a project's Channels settings, against a fake
// Bot API started here on 127.0.0.1; a customer writes through the fake's
// webhook call; a manager sees the dialog with the channel's icon and name,
// replies, and watches the reply's status follow what the fake answered:
// the clock while it waits, the tick once the fake took it, the red cross
// with the reason when it refuses. Then Pause, Resume and Remove.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as ch-*.png, outside the repository.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { freePort, skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# channels browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Manager", password: "anna-password", role: "agent" };
const TOKEN = "123456:TEST-token-value";
const PHONE = { width: 390, height: 844 };

/**
 * fakeTelegram is the Bot API's few methods a channel uses
 * (https://core.telegram.org/bots/api): every answer is {"ok":true,
 * "result":...} or {"ok":false,"error_code","description"}. It keeps the
 * webhook the bot set, can hold sendMessage until released, and can refuse.
 */
function fakeTelegram(token) {
  const f = {
    url: "",
    webhook: "",
    secret: "",
    calls: [],
    sent: [],
    /** A promise sendMessage waits for before answering (null: answer at once). */
    gate: null,
    /** {code, description}: sendMessage fails with it. */
    refuse: null,
    nextId: 1000,
    nextUpdate: 1,
  };
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", async () => {
      const answer = (code, body) => {
        res.writeHead(code, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const ok = (result) => answer(200, { ok: true, result });
      const m = new URL(req.url, "http://x").pathname.match(/^\/bot([^/]+)\/(\w+)$/);
      if (!m || m[1] !== token) return answer(401, { ok: false, error_code: 401, description: "Unauthorized" });
      let p = {};
      try {
        p = raw ? JSON.parse(raw) : {};
      } catch {
        return answer(400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
      }
      f.calls.push(m[2]);
      switch (m[2]) {
        case "getMe":
          return ok({ id: 4242, is_bot: true, first_name: "Parley Test", username: "parley_test_bot" });
        case "setWebhook":
          f.webhook = p.url || "";
          f.secret = p.secret_token || "";
          return ok(true);
        case "deleteWebhook":
          f.webhook = "";
          return ok(true);
        case "getWebhookInfo":
          return ok({ url: f.webhook, has_custom_certificate: false, pending_update_count: 0 });
        case "getUpdates":
          return ok([]);
        case "sendMessage": {
          if (f.gate) await f.gate;
          if (f.refuse) return answer(f.refuse.code, { ok: false, error_code: f.refuse.code, description: f.refuse.description });
          f.sent.push(p);
          return ok({ message_id: ++f.nextId, date: Math.floor(Date.now() / 1000), chat: { id: p.chat_id, type: "private" }, text: p.text });
        }
      }
      return answer(404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    });
  });
  /** hold makes sendMessage wait until the returned function is called. */
  f.hold = () => {
    let release;
    f.gate = new Promise((r) => (release = r));
    return () => {
      f.gate = null;
      release();
    };
  };
  /** deliver posts a customer's message to the webhook the bot set, with the secret it set. */
  f.deliver = async (chatId, firstName, text) => {
    assert.ok(f.webhook, "no webhook is set");
    const update = {
      update_id: f.nextUpdate++,
      message: {
        message_id: f.nextUpdate,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private", first_name: firstName },
        from: { id: chatId, is_bot: false, first_name: firstName },
        text,
      },
    };
    const res = await fetch(f.webhook, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": f.secret },
      body: JSON.stringify(update),
    });
    return res.status;
  };
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      f.url = `http://127.0.0.1:${server.address().port}`;
      f.close = () =>
        new Promise((r) => {
          server.close(() => r());
          server.closeAllConnections?.();
        });
      resolve(f);
    });
  });
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

describe("connected channels", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let fake;
  let adminT;
  let project;
  let admin, anna;
  let channelId = 0;
  let dialogId = 0;
  const strays = [];

  before(async () => {
    fake = await fakeTelegram(TOKEN);
    // Telegram's webhook needs the server's public URL, so its port is chosen first.
    const port = await freePort();
    const pub = `http://127.0.0.1:${port}`;
    s = await stack({ users: [ADMIN, ANNA], addr: `127.0.0.1:${port}`, serverArgs: ["--public-url", pub] });
    adminT = await s.login(ADMIN.email, ADMIN.password);
    const annaT = await s.login(ANNA.email, ANNA.password);
    project = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: ["https://shop.example"], chat_enabled: true });
    const me = await s.api(annaT, "GET", "/me");
    await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: (me.user || me).id, level: 1 });
    admin = await s.page({ path: `/admin/projects/${project.id}/channels` });
    await loopbackOnly(admin, strays);
    await s.signIn(admin, ADMIN.email, ADMIN.password);
    anna = await s.page({ path: "/inbox?sort=activity" });
    await loopbackOnly(anna, strays);
    await s.signIn(anna, ANNA.email, ANNA.password);
  });

  after(async () => {
    await s?.close();
    await fake?.close();
  });

  test("an administrator connects a Telegram bot: field errors, one channel per double click, the secret once, Test connection", async () => {
    await admin.getByRole("heading", { name: "Channels" }).waitFor();
    await admin.getByText("No channels yet.").waitFor();
    await s.shot(admin, "ch-01-channels-empty");
    await admin.getByRole("button", { name: "Connect a channel" }).click();
    const telegram = admin.locator('.ch-kind[data-kind="telegram"]');
    await telegram.waitFor();
    // Each kind says its rate, the statuses it reports and its attachment limits.
    const card = await telegram.innerText();
    assert.match(card, /Telegram/);
    assert.match(card, /Up to 25 messages a second/);
    assert.match(card, /Statuses: sent, failed/);
    assert.match(card, /images 10 MB/);
    await s.shot(admin, "ch-02-kinds");
    await telegram.click();

    // The form comes from the kind's fields: defaults filled in, options as a select, secrets as password inputs.
    await admin.getByRole("heading", { name: "Connect Telegram" }).waitFor();
    assert.equal(await admin.getByLabel("Bot API URL").inputValue(), "https://api.telegram.org");
    assert.equal(await admin.getByLabel("How messages arrive").inputValue(), "webhook");
    assert.equal(await admin.getByLabel("Bot token").getAttribute("type"), "password");
    assert.equal(await admin.getByLabel("Webhook secret").getAttribute("placeholder"), "Made by Parley if left empty");
    await admin.getByText("from @BotFather").waitFor();
    await s.shot(admin, "ch-03-connect-form");

    // The server's error shows beside the field it names.
    await admin.getByLabel("Name").fill("Shop bot");
    await admin.getByLabel("Bot API URL").fill("not a url");
    await admin.getByLabel("Bot token").fill(TOKEN);
    await admin.getByRole("button", { name: "Connect", exact: true }).click();
    const urlField = admin.locator(".field", { has: admin.getByLabel("Bot API URL") });
    await urlField.locator(".field-error").getByText("Bot API URL must be an http(s) URL").waitFor();
    assert.equal(await admin.getByLabel("Bot API URL").getAttribute("aria-invalid"), "true");
    assert.equal(await admin.evaluate(() => document.activeElement?.getAttribute("aria-invalid")), "true", "the field in error has the focus");
    assert.equal((await s.api(adminT, "GET", `/channels?project_id=${project.id}`)).channels.length, 0);
    await s.shot(admin, "ch-04-field-error");

    // A double click connects one channel.
    await admin.getByLabel("Bot API URL").fill(fake.url);
    await admin.getByRole("button", { name: "Connect", exact: true }).dblclick();
    await admin.getByRole("heading", { name: "Shop bot" }).waitFor();
    await new Promise((r) => setTimeout(r, 500));
    const list = (await s.api(adminT, "GET", `/channels?project_id=${project.id}`)).channels;
    assert.equal(list.length, 1, "one channel for a double click");
    channelId = list[0].id;
    assert.match(admin.url(), new RegExp(`/admin/projects/${project.id}/channels/${channelId}$`));

    // Telegram was told the webhook, with the secret Parley made: shown here once.
    await until(() => fake.webhook);
    const webhookURL = `${s.parley.url}/api/v1/channels/${channelId}/webhook`;
    assert.equal(fake.webhook, webhookURL);
    const secrets = admin.getByRole("region", { name: "New secrets" });
    await secrets.getByText("It will not be shown again.").waitFor();
    assert.equal(await secrets.getByLabel("Webhook secret", { exact: true }).innerText(), fake.secret);
    assert.equal(await admin.getByLabel("Webhook URL", { exact: true }).innerText(), webhookURL);
    await admin.getByText("Nothing to paste").waitFor();
    // The token never comes back: the edit form says it is set, and its input is empty.
    const tokenField = admin.locator(".field", { has: admin.getByLabel("Bot token") });
    await tokenField.locator(".pill", { hasText: "set" }).waitFor();
    assert.equal(await admin.getByLabel("Bot token").inputValue(), "");
    assert.ok(!(await admin.content()).includes(TOKEN), "the token is nowhere on the page");

    await admin.getByRole("button", { name: "Test connection" }).click();
    await admin.getByText("Connected: bot @parley_test_bot (Parley Test)").waitFor();
    assert.ok(fake.calls.includes("getMe"));
    await s.shot(admin, "ch-05-channel");
    await admin.getByRole("heading", { name: "Settings" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await s.shot(admin, "ch-05b-channel-settings");
  });

  test("a customer writes through the webhook; the manager sees the channel's icon and name, replies, and sees the clock, the tick, the red cross", async () => {
    assert.equal(await fake.deliver(555001, "Tom", "Hi from Telegram"), 200);
    const row = anna.locator(".inbox-row", { hasText: "Tom" });
    await row.waitFor();
    await row.getByRole("img", { name: "Telegram" }).waitFor();
    await row.locator(".dlg-meta", { hasText: "Shop bot" }).waitFor();
    dialogId = Number(await row.getAttribute("data-dialog"));

    // The channel filter lists Telegram and keeps its dialogs.
    await anna.getByRole("button", { name: /^Filters and sorting/ }).click();
    const panel = anna.getByRole("dialog", { name: "Filters and sorting" });
    await panel.getByRole("checkbox", { name: /Telegram/ }).check();
    await until(() => anna.url().includes("channel=telegram"));
    await row.waitFor();
    await anna.getByRole("button", { name: "Close the filters" }).click();

    await row.click();
    await anna.getByRole("button", { name: "Connect", exact: true }).click();
    const composer = anna.getByRole("textbox", { name: "Message" });
    await composer.waitFor();
    await anna.locator(".chat-sub", { hasText: "Shop bot" }).waitFor();

    // Telegram holds the reply: the clock; it takes it: the tick.
    const release = fake.hold();
    await composer.fill("Hello Tom");
    await composer.press("Enter");
    const reply = anna.locator(".msg.mine", { hasText: "Hello Tom" });
    await reply.locator('.status.queued[aria-label="Waiting to be sent to Telegram"]').waitFor();
    await until(async () => (await reply.getAttribute("data-mid")) && (await reply.getAttribute("data-status")) === "queued");
    await s.shot(anna, "ch-06-dialog-queued");
    release();
    await reply.locator('.status.sent[aria-label="Sent to Telegram"]').waitFor();
    assert.equal(await reply.getAttribute("data-status"), "sent");
    assert.deepEqual(
      fake.sent.map((m) => [m.chat_id, m.text]),
      [[555001, "Hello Tom"]],
    );

    // The customer blocked the bot: the red cross, and the reason in sight.
    fake.refuse = { code: 403, description: "Forbidden: bot was blocked by the user" };
    await composer.fill("Are you there?");
    await composer.press("Enter");
    const failed = anna.locator(".msg.mine", { hasText: "Are you there?" });
    const cross = failed.locator(".status.failed");
    await cross.waitFor();
    const label = await cross.getAttribute("aria-label");
    assert.match(label, /^Not sent: .*bot was blocked by the user/);
    assert.equal(await cross.getAttribute("title"), label);
    await failed.locator(".fail-line", { hasText: "bot was blocked by the user" }).waitFor();
    await s.shot(anna, "ch-07-dialog-statuses");

    // A reload shows the same statuses, from the stored messages.
    await anna.reload();
    await anna.locator(".msg.mine", { hasText: "Hello Tom" }).locator(".status.sent").waitFor();
    await anna.locator(".msg.mine", { hasText: "Are you there?" }).locator(".fail-line", { hasText: "blocked" }).waitFor();
    fake.refuse = null;
  });

  test("phones: the channels screen, the connect form and the dialog with statuses", async () => {
    const phone = await s.page({ viewport: PHONE });
    await loopbackOnly(phone, strays);
    await s.signIn(phone, ADMIN.email, ADMIN.password);
    await phone.goto(s.url + `/admin/projects/${project.id}/channels`);
    await phone.locator(`.ch-row[data-channel="${channelId}"]`).waitFor();
    await s.shot(phone, "ch-08-phone-channels");
    await phone.getByRole("button", { name: "Connect a channel" }).click();
    await s.shot(phone, "ch-09-phone-kinds");
    await phone.locator('.ch-kind[data-kind="telegram"]').click();
    await phone.getByLabel("Bot token").waitFor();
    await s.shot(phone, "ch-10-phone-connect-form");
    await phone.goto(s.url + `/admin/projects/${project.id}/channels/${channelId}`);
    await phone.getByRole("button", { name: "Test connection" }).waitFor();
    await s.shot(phone, "ch-11-phone-channel");
    await phone.context().close();

    const agent = await s.page({ viewport: PHONE });
    await loopbackOnly(agent, strays);
    await s.signIn(agent, ANNA.email, ANNA.password);
    await agent.goto(s.url + `/inbox/${dialogId}`);
    const failed = agent.locator(".msg.mine", { hasText: "Are you there?" });
    await failed.locator(".fail-line", { hasText: "blocked" }).waitFor();
    // No hover on a phone: the reason is on the screen, within it.
    const box = await failed.locator(".fail-line").boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 1, "the reason fits the screen");
    await s.shot(agent, "ch-12-phone-dialog");
    await agent.context().close();
  });

  test("pause, resume, the last error, remove", async () => {
    await admin.goto(s.url + `/admin/projects/${project.id}/channels/${channelId}`);
    await admin.getByRole("button", { name: "Pause" }).click();
    await admin.locator(".ch-head .pill", { hasText: "Paused" }).waitFor();
    await until(() => fake.webhook === "");
    await admin.getByRole("button", { name: "Resume" }).click();
    await admin.locator(".ch-head .pill", { hasText: "Active" }).waitFor();
    await until(() => fake.webhook !== "");

    // Telegram forgets the bot: the test fails, and the list shows the error in red with its time.
    const real = fake.url;
    await admin.getByLabel("Bot token").fill("999:wrong");
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.locator(".ch-head .ch-error", { hasText: "does not know this bot token" }).waitFor();
    await admin.getByRole("button", { name: "Test connection" }).click();
    await admin.getByText(/The test failed: Telegram does not know this bot token/).waitFor();
    await admin.getByRole("link", { name: "‹ All channels" }).click();
    const row = admin.locator(`.ch-row[data-channel="${channelId}"]`);
    await row.locator(".ch-error", { hasText: "does not know this bot token" }).waitFor();
    await row.locator(".pill", { hasText: "Error" }).waitFor();
    await s.shot(admin, "ch-13-channels-error");
    assert.equal(real, fake.url);

    await row.click();
    await admin.getByLabel("Bot token").fill(TOKEN);
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.locator(".ok-text", { hasText: "Saved" }).waitFor();
    await admin.getByRole("button", { name: "Test connection" }).click();
    await admin.getByText("Connected: bot @parley_test_bot").waitFor();
    await until(async () => !(await admin.locator(".ch-head .ch-error").count()));

    // A secret made again is shown once, and Telegram is told it.
    const before = fake.secret;
    await admin.getByRole("button", { name: "Make a new one" }).click();
    await admin.getByRole("button", { name: "Save" }).click();
    const again = admin.getByRole("region", { name: "New secrets" });
    await again.getByText("It will not be shown again.").waitFor();
    const made = await again.getByLabel("Webhook secret", { exact: true }).innerText();
    assert.notEqual(made, before);
    await until(() => fake.secret === made);

    await admin.getByRole("button", { name: "Remove" }).click();
    const confirm = admin.getByRole("dialog", { name: "Remove Shop bot?" });
    await confirm.getByText("Its dialogs keep their history, but replies still waiting to be sent fail").waitFor();
    await s.shot(admin, "ch-14-remove");
    await confirm.getByRole("button", { name: "Remove" }).click();
    await admin.getByText("No channels yet.").waitFor();
    assert.equal((await s.api(adminT, "GET", `/channels?project_id=${project.id}`)).channels.length, 0);
    // The dialog keeps its history and its icon.
    const d = await s.api(adminT, "GET", `/dialogs/${dialogId}`);
    assert.equal(d.support.channel, "telegram");
  });

  test("nothing went to any host but 127.0.0.1", () => {
    assert.deepEqual(strays, []);
  });
});
