// Browser tests of live chat (docs/livechat.md, seeds 002 and 004): an
// administrator sets a project up in Administration → Chat projects; a
// visitor writes through the real widget (web/dist/widget.js) embedded on a
// host page served from another origin than Parley; consultants answer in
// the staff app, in separate browser contexts. Without widget.js the
// visitor is driven through the widget HTTP API instead.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as lc-*.png, outside the repository.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Customer, distDir, png, skipReason, stack } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# live chat browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Consultant", password: "anna-password", role: "agent" };
const BORIS = { email: "boris@example.com", name: "Boris Consultant", password: "boris-password", role: "agent" };
const LENA = { email: "lena@example.com", name: "Lena Expert", password: "lena-password", role: "agent" };

const SHORTCUT = "Hello! I am happy to help you today. Could you give me your order number?";
const WHISPER = "Psst: VIP customer, be extra nice";

const dlgRow = (p, name) => p.locator(".dlg-row", { hasText: name });
const alertOf = (p) => p.evaluate(() => document.body.dataset.visitorAlert || "off");
const ringsOf = (p) => p.evaluate(() => window.__parley?.alert?.rings || 0);
const composer = (p) => p.getByRole("textbox", { name: "Message" });
const waitAlert = (p, state) => p.waitForFunction((s) => (document.body.dataset.visitorAlert || "off") === s, state, { timeout: 20_000 });

/** startHost serves the website that embeds the widget, on its own port (another origin than Parley). */
function startHost(html) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(html());
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => (server.closeAllConnections?.(), server.close(() => r()))) }),
    ),
  );
}

describe("live chat", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let host;
  let adminToken, annaToken, borisToken;
  let project; // the project made through the UI
  let admin, anna, boris, lena, shop; // pages
  let dialogId = 0;
  let vera; // the widget visitor, seen through the API with the widget's own token
  const widget = existsSync(path.join(distDir, "widget.js"));

  before(async () => {
    s = await stack({ users: [ADMIN, ANNA, BORIS, LENA], serverArgs: ["--max-file-size", "2000000"] });
    host = await startHost(
      () => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Shop</title>
<style>body{font:16px system-ui;margin:0;background:#fafafa}header{background:#222;color:#fff;padding:14px 24px}main{padding:24px;max-width:720px}</style></head>
<body><header><strong>Acme Shop</strong></header><main><h1>Spring sale</h1><p>Everything must go. Questions? Use the chat.</p></main>
<script>window.ParleySettings = { name: "Vera Visitor", email: "vera@example.com" };</script>
<script async src="${s.url}/widget.js" data-project="${project?.key || ""}"></script></body></html>`,
    );
    adminToken = await s.login(ADMIN.email, ADMIN.password);
    annaToken = await s.login(ANNA.email, ANNA.password);
    borisToken = await s.login(BORIS.email, BORIS.password);
    console.log(`# testing ${s.url}; host page ${host.url}; visitor: ${widget ? "the widget (web/dist/widget.js)" : "the widget API (no widget.js)"}`);
  });

  after(async () => {
    await host?.stop();
    await s?.close();
  });

  test("Administration → Chat projects: create, settings, specialists, case template, embed snippet, secret", async () => {
    admin = await s.page();
    await s.signIn(admin, ADMIN.email, ADMIN.password);
    await admin.goto(s.url + "/admin/projects");
    await admin.getByRole("link", { name: "Chat projects" }).waitFor();
    await admin.getByText("No projects yet").waitFor();
    await admin.getByRole("button", { name: "Create project" }).click();
    const create = admin.getByRole("dialog", { name: "Create a chat project" });
    await create.getByLabel("Name").fill("Acme Shop");
    await create.getByLabel(/Allowed websites/).fill(host.url);
    await s.shot(admin, "lc-01-create-project");
    await create.getByRole("button", { name: "Create" }).click();
    await admin.waitForURL(/\/admin\/projects\/\d+$/);
    const pid = Number(new URL(admin.url()).pathname.split("/").pop());

    // General: chat on, working hours always (no days), saved.
    const enabled = admin.getByLabel("Chat enabled");
    if (!(await enabled.isChecked())) await enabled.check();
    await admin.getByRole("button", { name: "Monday to Friday, 9:00–18:00" }).click();
    assert.equal(await admin.locator(".hours li").count(), 5);
    await s.shot(admin, "lc-02-project-general");
    await admin.getByRole("button", { name: "Always open" }).click();
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.getByText("Saved").waitFor();

    // Messages and shortcuts.
    await admin.getByRole("link", { name: "Messages and shortcuts" }).click();
    await admin.getByLabel(/^Greeting/).fill("Hi! How can we help you today?");
    await admin.getByLabel(/^Offline message/).fill("We are offline right now; we will answer by e-mail.");
    await admin.getByLabel(/^Waiting message/).fill("A consultant will be with you shortly.");
    await admin.getByRole("button", { name: "Add a shortcut" }).click();
    await admin.getByLabel("Shortcut name").fill("hello");
    await admin.getByLabel("Shortcut text").fill(SHORTCUT);
    await admin.getByRole("button", { name: "Add a shortcut" }).click();
    await admin.getByLabel("Shortcut name").nth(1).fill("bye");
    await admin.getByLabel("Shortcut text").nth(1).fill("Thank you for contacting Acme. Have a nice day!");
    await s.shot(admin, "lc-03-project-messages");
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.getByText("Saved").waitFor();

    // Associate specialists: Anna and Boris at level 1, Lena at level 2; the
    // administrator added by mistake and erased.
    await admin.getByRole("link", { name: "Associate specialists" }).click();
    await admin.getByText("No specialists yet").waitFor();
    const addUsers = async (names, level) => {
      await admin.getByRole("button", { name: "Add users" }).click();
      const dlg = admin.getByRole("dialog", { name: "Add specialists" });
      await dlg.getByLabel(level === 1 ? /^Level 1/ : /^Level 2/).check();
      for (const n of names) {
        await dlg.getByPlaceholder("Search by full name or e-mail").fill(n.split(" ")[0]);
        await dlg.locator(".person", { hasText: n }).click();
      }
      await dlg.getByRole("button", { name: /^Add/ }).click();
      await dlg.waitFor({ state: "detached" });
    };
    await addUsers([ANNA.name, BORIS.name, ADMIN.name], 1);
    await addUsers([LENA.name], 2);
    const table = admin.locator("table.specialists");
    await table.locator("tr", { hasText: LENA.name }).getByText("Level 2").waitFor();
    assert.equal(await table.locator("tbody tr").count(), 4);
    // A group at level 2 with Boris in it: associated twice, he keeps the lower level (1).
    const borisId = (await s.api(borisToken, "GET", "/me")).id;
    await s.api(adminToken, "POST", "/groups", { name: "Order team", parent_id: 0, rights: [], member_ids: [borisId] });
    await admin.reload();
    await table.waitFor();
    await admin.getByRole("button", { name: "Add a group" }).click();
    const gdlg = admin.getByRole("dialog", { name: "Add a group of specialists" });
    await gdlg.locator("select[name=group_id]").selectOption({ label: "Order team (1 member)" });
    await gdlg.getByLabel(/^Level 2/).check();
    await gdlg.getByRole("button", { name: "Add" }).click();
    await table.locator("tr", { hasText: "Order team" }).getByText("Group").waitFor();
    const mine = await s.api(borisToken, "GET", "/me/projects");
    assert.equal(mine.projects[0].level, 1, "the lower level wins");
    await table.getByLabel(`Select ${ADMIN.name}`).check();
    await s.shot(admin, "lc-04-project-specialists");
    await admin.getByRole("button", { name: "Erase (1)" }).click();
    await table.locator("tr", { hasText: ADMIN.name }).waitFor({ state: "detached" });
    assert.equal(await table.locator("tbody tr").count(), 4);

    // Chat cases: a template with a mandatory field is refused with the server's reason.
    await admin.getByRole("link", { name: "Chat cases" }).click();
    const template = async (name, field, required, dflt) => {
      await admin.getByRole("button", { name: "New template" }).click();
      const dlg = admin.getByRole("dialog", { name: "New case template" });
      await dlg.getByLabel("Name", { exact: true }).fill(name);
      await dlg.getByRole("button", { name: "Add a field" }).click();
      await dlg.getByLabel("Field name").fill(field);
      await dlg.getByLabel("Field label").fill(field[0].toUpperCase() + field.slice(1));
      if (dflt) await dlg.getByLabel("Default value").fill(dflt);
      if (required) await dlg.getByText("required").click();
      await dlg.getByRole("button", { name: "Save" }).click();
      await dlg.waitFor({ state: "detached" });
    };
    await template("Order claim", "order", true, "");
    await template("Chat case", "priority", true, "normal");
    const select = admin.getByLabel("Case template");
    await select.selectOption({ label: "Order claim — has mandatory fields" });
    await admin.getByRole("button", { name: "Save" }).click();
    const refusal = admin.locator(".save-state .form-error");
    await refusal.waitFor();
    const why = await refusal.textContent();
    assert.ok(why.length > 10, "the server's reason is shown: " + why);
    console.log(`# template with mandatory fields refused: “${why}”`);
    await s.shot(admin, "lc-05-project-cases-refused");
    await select.selectOption({ label: "Chat case" });
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.getByText("Saved").waitFor();

    // Embed: the snippet names widget.js and the key; Copy; the secret rotates.
    await admin.getByRole("link", { name: "Embed" }).click();
    project = await s.api(adminToken, "GET", `/projects/${pid}`);
    const snippet = await admin.getByLabel("Embed snippet").textContent();
    assert.ok(snippet.includes("/widget.js") && snippet.includes(`data-project="${project.key}"`), snippet);
    await admin.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await admin.getByRole("button", { name: "Copy", exact: true }).first().click();
    await admin.getByText("Copied").waitFor();
    await admin.getByRole("button", { name: "Show" }).click();
    const before = (await admin.getByLabel("Secret").textContent()).trim();
    assert.equal(before, project.secret);
    await s.shot(admin, "lc-06-project-embed");
    await admin.getByRole("button", { name: "Rotate" }).click();
    await admin.getByRole("dialog", { name: "Rotate the secret?" }).getByRole("button", { name: "Rotate" }).click();
    await admin.waitForFunction((old) => document.querySelector(".secret")?.textContent.trim() !== old, before);
    project = await s.api(adminToken, "GET", `/projects/${pid}`);
    assert.notEqual(project.secret, before);
    assert.equal(project.chat_enabled, true);
    assert.equal(project.messages.shortcuts.length, 2);
  });

  test("a new visitor alerts every level-1 consultant (first, green, a repeating sound) until one connects", async () => {
    [anna, boris, lena] = [await s.page(), await s.page(), await s.page()];
    await s.signIn(anna, ANNA.email, ANNA.password);
    await s.signIn(boris, BORIS.email, BORIS.password);
    await s.signIn(lena, LENA.email, LENA.password);
    for (const p of [anna, boris, lena]) await p.locator(".side-head", { hasText: "Visitors" }).waitFor();
    await s.shot(anna, "lc-07-visitors-empty");

    // An earlier visitor, already served by Boris: blue for Anna.
    const olga = new Customer(s.parley.url, project.key, host.url);
    await olga.start({ name: "Olga Earlier", email: "olga@example.com", page_url: host.url + "/pricing" });
    await olga.send("Do you ship to Norway?");
    await dlgRow(anna, "Olga Earlier").and(anna.locator('[data-state="waiting"]')).waitFor();
    const olgaId = Number(await dlgRow(anna, "Olga Earlier").getAttribute("data-dialog"));
    await s.api(borisToken, "POST", `/dialogs/${olgaId}/connect`);
    await s.api(borisToken, "POST", `/conversations/${olgaId}/messages`, { text: "Yes, we do!", client_id: crypto.randomUUID() });
    await dlgRow(anna, "Olga Earlier").and(anna.locator('[data-state="taken"]')).waitFor();
    await dlgRow(boris, "Olga Earlier").and(boris.locator('[data-state="mine"]')).waitFor();
    for (const p of [anna, boris, lena]) await waitAlert(p, "off");

    // The visitor writes from the website (another origin).
    const text = "Hello, I need help with my order";
    if (widget) {
      shop = await s.page({ path: "/" });
      await shop.goto(host.url + "/spring-sale?utm_source=newsletter", { referer: "https://search.example/?q=acme+sale" });
      await shop.getByRole("button", { name: "Open chat" }).click();
      await shop.getByRole("dialog", { name: /Chat/ }).waitFor();
      await s.shot(shop, "lc-08-widget-open");
      await shop.getByRole("textbox", { name: "Message" }).fill(text);
      await shop.getByRole("textbox", { name: "Message" }).press("Enter");
      const token = await shop.waitForFunction((k) => JSON.parse(localStorage.getItem("parley:" + k) || "{}").t, project.key);
      vera = new Customer(s.parley.url, project.key, host.url);
      vera.token = await token.jsonValue();
    } else {
      vera = new Customer(s.parley.url, project.key, host.url);
      await vera.start({
        name: "Vera Visitor",
        email: "vera@example.com",
        page_url: host.url + "/spring-sale?utm_source=newsletter",
        referrer: "https://search.example/?q=acme+sale",
        utm_source: "newsletter",
      });
      await vera.send(text);
    }

    // Green and first for Anna and Boris, with the sound repeating; Lena (level 2) is not alerted.
    for (const p of [anna, boris]) {
      const row = dlgRow(p, "Vera Visitor");
      await row.and(p.locator('[data-state="waiting"]')).waitFor({ timeout: 20_000 });
      assert.equal(await p.locator(".dlg-row").first().textContent().then((t) => t.includes("Vera Visitor")), true, "the new dialog is first");
      const bg = await row.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(bg, "rgb(213, 245, 222)", "green");
      await waitAlert(p, "ringing");
    }
    dialogId = Number(await dlgRow(anna, "Vera Visitor").getAttribute("data-dialog"));
    await dlgRow(lena, "Vera Visitor").waitFor();
    assert.notEqual(await dlgRow(lena, "Vera Visitor").getAttribute("data-state"), "waiting");
    assert.equal(await alertOf(lena), "off");
    const r0 = await ringsOf(anna);
    await anna.waitForFunction((n) => window.__parley.alert.rings >= n + 1, r0, { timeout: 8000 });
    assert.ok((await ringsOf(boris)) >= 2, "the sound repeats for Boris too");
    await s.shot(anna, "lc-09-new-dialog-green");

    // Anna opens it and connects (light blue for her, blue for Boris), the sound stops for both.
    await dlgRow(anna, "Vera Visitor").click();
    await anna.waitForURL(new RegExp(`/d/${dialogId}$`));
    await anna.getByRole("button", { name: "Connect", exact: true }).click(); // a click previews; Connect joins
    await dlgRow(anna, "Vera Visitor").and(anna.locator('[data-state="mine"]')).waitFor();
    await dlgRow(boris, "Vera Visitor").and(boris.locator('[data-state="taken"]')).waitFor();
    await dlgRow(boris, "Vera Visitor").locator(".conv-sub", { hasText: ANNA.name }).waitFor();
    await dlgRow(anna, "Vera Visitor").locator(".conv-sub", { hasText: "You" }).waitFor();
    for (const p of [anna, boris]) await waitAlert(p, "off");
    const mineBg = await dlgRow(anna, "Vera Visitor").evaluate((el) => getComputedStyle(el).backgroundColor);
    const takenBg = await dlgRow(boris, "Vera Visitor").evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(mineBg, "rgb(233, 242, 255)", "light blue for me");
    assert.equal(takenBg, "rgb(207, 224, 255)", "blue for the others");
    const [ra, rb] = [await ringsOf(anna), await ringsOf(boris)];
    await anna.waitForTimeout(3500);
    assert.equal(await ringsOf(anna), ra, "Anna's sound stopped");
    assert.equal(await ringsOf(boris), rb, "Boris's sound stopped");
    await s.shot(boris, "lc-10-taken-blue");
    if (shop) await shop.getByText(/Anna/).first().waitFor();
  });

  test("the sound follows the user's setting", async () => {
    await s.api(borisToken, "PUT", "/me/settings", { desktop_notifications: true, typing_notifications: true, send_on_enter: true, sound: false, always_scroll_to_end: true });
    const mute = new Customer(s.parley.url, project.key, host.url);
    await mute.start({ name: "Max Muted" });
    await mute.send("Anyone there?");
    await dlgRow(boris, "Max Muted").and(boris.locator('[data-state="waiting"]')).waitFor();
    await waitAlert(boris, "muted");
    await waitAlert(anna, "ringing");
    const rb = await ringsOf(boris);
    await boris.waitForTimeout(3500);
    assert.equal(await ringsOf(boris), rb, "no sound with sounds off");
    await s.api(borisToken, "PUT", "/me/settings", { desktop_notifications: true, typing_notifications: true, send_on_enter: true, sound: true, always_scroll_to_end: true });
    const maxId = Number(await dlgRow(anna, "Max Muted").getAttribute("data-dialog"));
    await s.api(annaToken, "POST", `/dialogs/${maxId}/connect`);
    await s.api(annaToken, "POST", `/dialogs/${maxId}/close`);
    await s.api(annaToken, "POST", `/dialogs/${maxId}/disconnect`);
    await dlgRow(anna, "Max Muted").waitFor({ state: "detached" });
    for (const p of [anna, boris]) await waitAlert(p, "off");
  });

  test("the dialog: visitor's name, contact card, shortcuts, and a whisper the visitor never sees", async () => {
    // The visitor's message, with their name; the contact card.
    await anna.locator(".msg.visitor .sender", { hasText: "Vera Visitor" }).first().waitFor();
    const card = anna.getByRole("complementary", { name: "Customer card" });
    await card.getByText("vera@example.com").waitFor();
    await card.getByText("newsletter", { exact: true }).waitFor();
    await card.getByText(/search\.example/).waitFor();
    await card.getByText(new RegExp("spring-sale")).waitFor();
    await s.shot(anna, "lc-11-dialog");

    // "/" opens the project's shortcuts.
    await composer(anna).fill("/hel");
    await anna.getByRole("listbox", { name: "Shortcuts" }).waitFor();
    await s.shot(anna, "lc-12-shortcuts");
    await composer(anna).press("Enter");
    assert.equal(await composer(anna).inputValue(), SHORTCUT);
    await composer(anna).press("Enter");
    await anna.locator(".msg.mine", { hasText: "order number" }).waitFor();
    if (shop) await shop.getByText("Could you give me your order number?").waitFor();
    else await waitFor(async () => (await vera.messages()).messages.some((m) => m.text === SHORTCUT));

    // Boris connects too: both names under the visitor's.
    await dlgRow(boris, "Vera Visitor").click();
    await boris.getByRole("button", { name: "Connect", exact: true }).click(); // a click previews; Connect joins
    await dlgRow(boris, "Vera Visitor").and(boris.locator('[data-state="mine"]')).waitFor();
    await dlgRow(anna, "Vera Visitor").locator(".conv-sub", { hasText: BORIS.name }).waitFor();

    // A whisper: yellow, labelled, for consultants only.
    await anna.getByRole("button", { name: "Whisper" }).click();
    assert.equal(await anna.getByRole("button", { name: "Whisper" }).getAttribute("aria-pressed"), "true");
    assert.equal(await anna.getByRole("button", { name: "Attach files" }).count(), 0, "a whisper is text only");
    await composer(anna).fill(WHISPER);
    await s.shot(anna, "lc-13-whisper-compose");
    await composer(anna).press("Enter");
    const w = boris.locator(".msg.whisper", { hasText: WHISPER });
    await w.waitFor();
    await w.getByText("Whisper — only consultants see this").waitFor();
    const bg = await w.locator(".bubble").evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(bg, "rgb(255, 244, 194)", "whispers have their own background");
    await anna.locator(".msg.whisper", { hasText: WHISPER }).waitFor();
    await anna.getByRole("button", { name: "Whisper" }).click();
    await s.shot(boris, "lc-14-whisper-seen-by-colleague");

    // The visitor: never. A message after it arrives, the whisper does not.
    await composer(boris).fill("Boris here too, reading along.");
    await composer(boris).press("Enter");
    if (shop) {
      await shop.getByText("Boris here too").waitFor();
      assert.equal(await shop.getByText(WHISPER).count(), 0, "the widget does not show the whisper");
      await s.shot(shop, "lc-15-widget-no-whisper");
    }
    await waitFor(async () => (await vera.messages()).messages.some((m) => m.text?.includes("Boris here too")));
    const seen = await vera.messages();
    assert.ok(!JSON.stringify(seen).includes(WHISPER), "the widget API never returns the whisper");
    assert.ok(!(await vera.transcript()).includes(WHISPER), "nor the transcript");
  });

  test("files and images both ways; images open large", async () => {
    const picture = png(320, 200);
    if (shop) {
      await shop.locator("input[type=file]").setInputFiles({ name: "broken-box.png", mimeType: "image/png", buffer: picture });
    } else {
      const f = await vera.upload(picture, "broken-box.png", "image/png");
      await vera.send("", [f.id]);
    }
    const img = anna.locator(".msg.visitor .img-btn img");
    await img.waitFor({ timeout: 20_000 });
    await anna.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    await anna.locator(".msg.visitor .img-btn").click();
    const big = anna.getByRole("dialog", { name: "broken-box.png" }).locator("img");
    await anna.waitForFunction((el) => el.complete && el.naturalWidth === 320, await big.elementHandle());
    await s.shot(anna, "lc-16-visitor-image-large");
    await anna.keyboard.press("Escape");

    // A file from the consultant reaches the visitor, who may download it.
    await anna.locator(".composer input[type=file]").setInputFiles({ name: "invoice-1234.txt", mimeType: "text/plain", buffer: Buffer.from("Invoice 1234\nTotal: 42 EUR\n") });
    await anna.locator(".upload.done", { hasText: "invoice-1234.txt" }).waitFor();
    await composer(anna).fill("Here is your invoice");
    await composer(anna).press("Enter");
    await anna.locator(".msg.mine", { hasText: "Here is your invoice" }).locator(".file-card").waitFor();
    let file;
    await waitFor(async () => {
      file = (await vera.messages()).messages.flatMap((m) => m.files || []).find((f) => f.name === "invoice-1234.txt");
      return !!file;
    });
    const res = await fetch(`${s.parley.url}/api/v1/widget/files/${file.id}?token=${encodeURIComponent(vera.token)}`, { headers: { Origin: host.url } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Total: 42 EUR/);
    if (shop) {
      await shop.getByText("invoice-1234.txt").waitFor();
      await s.shot(shop, "lc-17-widget-file");
    }
  });

  test("the cross disconnects; a transfer to level 2 alerts only the level-2 specialist", async () => {
    // Boris leaves with the cross: Anna is still there, so it is blue for him.
    await boris.getByRole("button", { name: "Disconnect from Vera Visitor" }).click();
    await dlgRow(boris, "Vera Visitor").and(boris.locator('[data-state="taken"]')).waitFor();
    await dlgRow(anna, "Vera Visitor").locator(".conv-sub", { hasText: BORIS.name }).waitFor({ state: "detached" });

    // Anna transfers to Lena.
    await anna.getByRole("button", { name: "Transfer", exact: true }).click();
    const dlg = anna.getByRole("dialog", { name: "Transfer to level 2" });
    await dlg.getByText(LENA.name).waitFor();
    assert.equal(await dlg.getByText(BORIS.name).count(), 0, "Boris is level 1 (directly), though his group is level 2");
    await s.shot(anna, "lc-18-transfer");
    await dlg.getByLabel(new RegExp(LENA.name)).check();
    const NOTE = "Charged twice for order 1234; she needs a refund";
    await dlg.getByLabel(/Hand-over note/).fill(NOTE);
    await dlg.getByRole("button", { name: "Transfer" }).click();
    await dlg.waitFor({ state: "detached" });
    await dlgRow(anna, "Vera Visitor").and(anna.locator('[data-state="mine"]')).waitFor({ state: "detached" });

    // The transfer itself alerts Lena, at once: nobody writes to make it ring. (A missing alert fails here.)
    await waitAlert(lena, "ringing");
    await dlgRow(lena, "Vera Visitor").and(lena.locator('[data-state="waiting"]')).waitFor({ timeout: 5000 });
    // Her row names who handed it over and the note, never "Someone".
    await dlgRow(lena, "Vera Visitor").getByText(`Hand-over note from ${ANNA.name}: ${NOTE}`).waitFor({ timeout: 5000 });
    assert.equal(await dlgRow(lena, "Vera Visitor").getByText("Someone").count(), 0);
    // Only Lena is alerted; the level-1 consultants are not.
    for (const p of [anna, boris]) {
      assert.notEqual(await dlgRow(p, "Vera Visitor").getAttribute("data-state"), "waiting");
      assert.equal(await alertOf(p), "off");
    }
    await s.shot(lena, "lc-19-level2-alerted");
    if (shop) {
      // The visitor is told who is asked to join, and that the chat is online (Lena is), not "Offline"; never the note.
      await shop.getByText("Anna passed the chat to Lena, a specialist").waitFor();
      await shop.getByText("Lena has been asked to join").waitFor();
      await shop.getByText("Online now").waitFor();
      assert.equal(await shop.getByText("Offline").count(), 0);
      assert.equal(await shop.getByText(NOTE).count(), 0, "the hand-over note reached the visitor");
      await s.shot(shop, "lc-19b-widget-after-transfer");
    }

    await dlgRow(lena, "Vera Visitor").click();
    await lena.getByRole("button", { name: "Connect", exact: true }).click(); // a click previews; Connect joins
    await dlgRow(lena, "Vera Visitor").and(lena.locator('[data-state="mine"]')).waitFor();
    await waitAlert(lena, "off");
    await composer(lena).fill("Hi Vera, Lena from the order team here. Let me check.");
    await composer(lena).press("Enter");
    await waitFor(async () => (await vera.messages()).messages.some((m) => m.text?.startsWith("Hi Vera, Lena")));
  });

  test("convert to case and close; the rating shows in Metrics, the case in Cases", async () => {
    // Convert to case.
    await lena.getByRole("button", { name: "Convert to case" }).click();
    const dlg = lena.getByRole("dialog", { name: "Convert to case" });
    await dlg.getByLabel("Title").fill("Vera: damaged order");
    await dlg.getByRole("button", { name: "Create the case" }).click();
    await lena.getByText(/Case #\d+ created/).waitFor();
    if (shop) {
      // Mid-chat: the visitor is told Lena saved it, not "we will get back to you" as if nobody were there.
      await shop.getByText(/Lena saved this chat as request #\d+ to follow it up/).waitFor();
      assert.equal(await shop.getByText(/get back to you/).count(), 0);
    }

    // Close: the visitor rates it.
    await lena.getByRole("button", { name: "Close", exact: true }).click();
    await lena.getByRole("dialog", { name: "Close the dialog?" }).getByRole("button", { name: "Close the dialog" }).click();
    await lena.locator(".composer-off, .composer-note", { hasText: "This dialog is closed" }).first().waitFor();
    await s.shot(lena, "lc-20-dialog-closed");
    // Closed: out of everyone's list but Lena's (until her cross).
    await dlgRow(anna, "Vera Visitor").waitFor({ state: "detached" });
    await dlgRow(lena, "Vera Visitor").and(lena.locator('[data-state="closed"]')).waitFor();
    if (shop) {
      const rate = shop.getByRole("form", { name: "Rate this chat" });
      await rate.waitFor({ timeout: 20_000 });
      await rate.getByRole("radio", { name: "5 stars" }).click();
      await rate.getByRole("textbox", { name: "Comment" }).fill("Lena was great");
      await s.shot(shop, "lc-21-widget-rating");
      await rate.getByRole("button", { name: "Send rating" }).click();
      await waitFor(async () => (await vera.messages()).conversation?.rated === true);
    } else await vera.rate(5, "Lena was great");
    await lena.getByRole("button", { name: "Disconnect from Vera Visitor" }).click();
    await dlgRow(lena, "Vera Visitor").waitFor({ state: "detached" });

    // Metrics: per specialist, with View detail → the full record.
    await admin.goto(`${s.url}/admin/projects/${project.id}/metrics`);
    const rowOf = (n) => admin.locator("table.metrics tr", { hasText: n });
    await rowOf(LENA.name).waitFor();
    const cells = await rowOf(LENA.name).locator("td").allTextContents();
    console.log("# metrics for Lena: " + cells.join(" | "));
    assert.equal(cells[1].trim(), "1", "one conversation");
    assert.equal(cells[4].trim(), "1", "one rating");
    assert.match(cells[5], /5\.0/);
    await rowOf(ANNA.name).waitFor();
    await s.shot(admin, "lc-22-metrics");
    await rowOf(LENA.name).getByRole("link", { name: "View detail" }).click();
    await admin.locator(".record", { hasText: "Vera Visitor" }).waitFor();
    await s.shot(admin, "lc-23-metrics-detail");
    await admin.locator(".record", { hasText: "Vera Visitor" }).click();
    await admin.waitForURL(new RegExp(`/d/${dialogId}$`));
    await admin.locator(".msg.visitor", { hasText: "Hello, I need help with my order" }).waitFor();
    await admin.locator(".msg.whisper", { hasText: WHISPER }).waitFor();
    await admin.locator(".composer-off", { hasText: "rated 5/5" }).waitFor();
    assert.equal(await admin.getByRole("textbox", { name: "Message" }).count(), 0, "the record is read-only");
    await s.shot(admin, "lc-24-dialog-record");

    // Cases: the converted dialog, its transcript without the whisper; comment and close.
    await lena.goto(s.url + "/cases");
    const kase = lena.locator(".record", { hasText: "Vera: damaged order" });
    await kase.waitFor();
    await s.shot(lena, "lc-25-cases");
    await kase.click();
    await lena.locator(".case-desc", { hasText: "Hello, I need help with my order" }).waitFor();
    assert.ok(!(await lena.locator(".case-desc").textContent()).includes(WHISPER), "no whispers in the case");
    await lena.getByRole("textbox", { name: "Comment" }).fill("Replacement sent by courier.");
    await lena.getByRole("button", { name: "Add comment" }).click();
    await lena.locator(".comments li", { hasText: "Replacement sent by courier." }).waitFor();
    await s.shot(lena, "lc-26-case");
    await lena.getByRole("button", { name: "Close the case" }).click();
    await lena.locator('.case-card[data-status="closed"]').waitFor();
    await lena.getByRole("link", { name: "Open the conversation" }).click();
    await lena.waitForURL(new RegExp(`/d/${dialogId}$`));
    await lena.goto(s.url + "/cases?status=closed");
    await lena.locator(".record", { hasText: "Vera: damaged order" }).waitFor();
  });

  test("a message while nobody can answer becomes a case, visible in Cases", async () => {
    // A project whose working hours are never now.
    const now = new Date();
    const other = (now.getUTCDay() + 3) % 7;
    const night = await s.api(adminToken, "POST", "/projects", { name: "Night line", origins: [host.url] });
    await s.api(adminToken, "PATCH", `/projects/${night.id}`, {
      chat_enabled: true,
      hours: { time_zone: "UTC", days: [{ weekday: other, from: "00:00", to: "00:01" }] },
      messages: { greeting: "", offline: "We are closed; we will write back.", waiting: "", shortcuts: [] },
    });
    const annaId = (await s.api(annaToken, "GET", "/me")).id;
    await s.api(adminToken, "POST", `/projects/${night.id}/specialists`, { user_id: annaId, level: 1 });
    const night1 = new Customer(s.parley.url, night.key, host.url);
    await night1.start({ name: "Nick Nightowl", email: "nick@example.com" });
    await night1.send("Please call me back tomorrow about invoice 77");
    await night1.send("My number is 555-0100");

    await anna.goto(s.url + "/cases");
    const kase = anna.locator(".record", { hasText: "Offline message" }).first();
    await kase.waitFor({ timeout: 20_000 });
    await kase.click();
    await anna.locator(".case-desc", { hasText: "invoice 77" }).waitFor();
    await anna.locator(".comments li", { hasText: "555-0100" }).waitFor();
    await anna.locator(".case-card").getByText("Nick Nightowl").first().waitFor();
    await s.shot(anna, "lc-27-offline-case");
  });

  test("phone-sized screens", async () => {
    const phone = await s.page({ viewport: { width: 390, height: 844 } });
    await s.signIn(phone, BORIS.email, BORIS.password);
    const v = new Customer(s.parley.url, project.key, host.url);
    await v.start({ name: "Pia Phone", email: "pia@example.com", page_url: host.url + "/checkout" });
    await v.send("Can I pay by invoice?");
    await dlgRow(phone, "Pia Phone").and(phone.locator('[data-state="waiting"]')).waitFor();
    await waitAlert(phone, "ringing");
    await s.shot(phone, "lc-28-phone-visitors");
    await dlgRow(phone, "Pia Phone").click();
    await phone.getByRole("button", { name: "Connect", exact: true }).click(); // a click previews; Connect joins
    await phone.locator(".msg.visitor", { hasText: "Can I pay by invoice?" }).waitFor();
    await composer(phone).fill("Yes, you can.");
    await composer(phone).press("Enter");
    await s.shot(phone, "lc-29-phone-dialog");
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, "nothing wider than the phone");
    await phone.getByRole("button", { name: "Dialog menu" }).click();
    await phone.getByRole("menuitem", { name: "Show the customer card" }).click();
    await phone.getByRole("complementary", { name: "Customer card" }).getByText("pia@example.com").waitFor();
    await s.shot(phone, "lc-30-phone-contact-card");
    await phone.getByRole("button", { name: "Close the customer card" }).click();
    await phone.getByRole("button", { name: "Dialog menu" }).click();
    await phone.getByRole("menuitem", { name: "Transfer…" }).click();
    await phone.getByRole("dialog", { name: "Transfer to level 2" }).waitFor();
    await s.shot(phone, "lc-31-phone-transfer");
    await phone.keyboard.press("Escape");
    await phone.goto(s.url + "/cases?status=all");
    await phone.locator(".record").first().waitFor();
    await s.shot(phone, "lc-32-phone-cases");

    const aphone = await s.page({ viewport: { width: 390, height: 844 } });
    await s.signIn(aphone, ADMIN.email, ADMIN.password);
    await aphone.goto(`${s.url}/admin/projects/${project.id}/specialists`);
    await aphone.locator("table.specialists").waitFor();
    await s.shot(aphone, "lc-33-phone-specialists");
    await aphone.goto(`${s.url}/admin/projects/${project.id}/metrics`);
    await aphone.locator("table.metrics").waitFor();
    await s.shot(aphone, "lc-34-phone-metrics");
    await phone.context().close();
    await aphone.context().close();
  });
});

async function waitFor(fn, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error("timed out waiting for " + fn.toString().slice(0, 120));
    await new Promise((r) => setTimeout(r, 200));
  }
}
