// Browser tests of issue 14's people features: the People page (My friends
// with presence; the organisation's contact tree, browsed and searched by
// keyboard; friends added and removed from the tree, search results and the
// user panel; a chat started from either), Send SMS to a colleague (phone
// number in Settings, the window's counter, the status going live from
// queued to delivered through the status callback), and "Scan a document"
// with Chromium's fake camera (two pages attached as one PDF, which the
// server stores: checked as a PDF of two JPEG pages), plus the file-picker
// fallback when the camera is refused. Desktop and phone width.
//
// The SMS provider is a small Twilio-compatible server in this file
// (Messages.json and signed status callbacks, as channel/sms/smsfake in Go).
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as people-*.png.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { freePort, png, skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# people browser tests skipped: " + skip);

const ALICE = { email: "alice@example.com", name: "Alice Admin", password: "alice-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Bob Builder", password: "bob-password", role: "member" };
const CAROL = { email: "carol@example.com", name: "Carol Seller", password: "carol-password", role: "agent" };
const DAN = { email: "dan@example.com", name: "Dan Export", password: "dan-password", role: "member" };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TOKEN = "twilio-test-token";
const SID = "AC00000000000000000000000000000001";
const FROM = "+15005550006";

/** fakeTwilio answers Messages.json as Twilio does and signs the status callbacks it makes. */
function fakeTwilio() {
  const sent = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const auth = Buffer.from((req.headers.authorization || "").replace(/^Basic /, ""), "base64").toString();
      if (auth !== SID + ":" + TOKEN) {
        res.writeHead(401, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ code: 20003, message: "Authenticate", status: 401 }));
      }
      if (req.method === "POST" && req.url === `/2010-04-01/Accounts/${SID}/Messages.json`) {
        const f = new URLSearchParams(body);
        const m = { sid: "SM" + String(sent.length + 1).padStart(32, "0"), to: f.get("To"), from: f.get("From"), body: f.get("Body"), callback: f.get("StatusCallback") };
        sent.push(m);
        res.writeHead(201, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ sid: m.sid, status: "queued", to: m.to, from: m.from, body: m.body }));
      }
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: 20404, message: "not found", status: 404 }));
    });
  });
  return {
    sent,
    server,
    async start() {
      await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
      return "http://127.0.0.1:" + server.address().port;
    },
    /** report makes Twilio's signed status callback for a sent message. */
    async report(m, status, errorCode = "") {
      const p = new URLSearchParams({ MessageSid: m.sid, MessageStatus: status, AccountSid: SID, From: FROM, To: m.to });
      if (errorCode) p.set("ErrorCode", errorCode);
      let data = m.callback;
      for (const k of [...p.keys()].sort()) data += k + p.get(k);
      const sig = createHmac("sha1", TOKEN).update(data).digest("base64");
      const r = await fetch(m.callback, { method: "POST", body: p.toString(), headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig } });
      assert.equal(r.status, 200, "status callback: " + (await r.text()));
    },
  };
}

/** checkPDF reads a PDF the way a strict reader starts to: header, trailer, cross-references, pages, images. */
function checkPDF(buf) {
  const text = buf.toString("latin1");
  assert.ok(text.startsWith("%PDF-1."), "the PDF header");
  assert.ok(/%%EOF\s*$/.test(text), "the %%EOF trailer");
  const startxref = Number(text.match(/startxref\s+(\d+)\s+%%EOF\s*$/)[1]);
  assert.equal(text.slice(startxref, startxref + 4), "xref", "startxref points at the xref table");
  const [, first, n] = text.slice(startxref).match(/^xref\s+(\d+) (\d+)\s/);
  const table = text.slice(startxref).split(/\r?\n/).slice(2, 2 + Number(n));
  for (let i = 1; i < table.length; i++) {
    const off = Number(table[i].slice(0, 10));
    assert.ok(text.startsWith(`${Number(first) + i} 0 obj`, off), `object ${i} is where the xref says`);
  }
  assert.match(text, /trailer\s*<<[^>]*\/Root 1 0 R/, "the trailer names the catalog");
  const pages = [...text.matchAll(/\/Type \/Page\b(?!s)/g)].length;
  const count = Number(text.match(/\/Type \/Pages .*?\/Count (\d+)/)[1]);
  const images = [...text.matchAll(/\/Filter \/DCTDecode \/Length (\d+) >>\nstream\n/g)];
  for (const m of images) {
    const at = m.index + m[0].length;
    assert.equal(buf.readUInt16BE(at), 0xffd8, "each image is a JPEG (SOI)");
    assert.equal(buf.readUInt16BE(at + Number(m[1]) - 2), 0xffd9, "each image ends where its Length says (EOI)");
  }
  return { pages, count, images: images.length };
}

describe("people, SMS and scanning", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let twilio;
  let alice, bob; // pages
  let aliceToken;
  const ids = {};

  before(async () => {
    twilio = fakeTwilio();
    const twilioURL = await twilio.start();
    const port = await freePort();
    s = await stack({
      users: [ALICE, BOB, CAROL, DAN],
      addr: `127.0.0.1:${port}`,
      serverArgs: ["--public-url", `http://127.0.0.1:${port}`],
      browserArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    });
    aliceToken = await s.login(ALICE.email, ALICE.password);
    const users = (await s.api(aliceToken, "GET", "/users?limit=50")).users;
    for (const u of users) ids[u.email] = u.id;
    const sales = await s.api(aliceToken, "POST", "/groups", { name: "Sales", rights: [], member_ids: [ids[BOB.email], ids[CAROL.email]] });
    await s.api(aliceToken, "POST", "/groups", { name: "EMEA export", parent_id: sales.id, rights: [], member_ids: [ids[DAN.email]] });
    await s.api(aliceToken, "POST", "/groups", { name: "Support", rights: [], member_ids: [ids[CAROL.email]] });
    const project = await s.api(aliceToken, "POST", "/projects", { name: "Shop" });
    const ch = await s.api(aliceToken, "POST", "/channels", {
      project_id: project.id,
      kind: "sms",
      name: "Office number",
      settings: { base_url: twilioURL, account_sid: SID, from: FROM },
      secrets: { auth_token: TOKEN },
    });
    await s.api(aliceToken, "PUT", "/sms/settings", { channel_id: ch.id });
  });

  after(async () => {
    await s?.close();
    twilio?.server.close();
  });

  test("People: friends and the organisation's tree, by mouse and keyboard; a chat from the tree", async () => {
    bob = await s.page();
    await s.signIn(bob, BOB.email, BOB.password);
    alice = await s.page({ permissions: ["camera"] });
    await s.signIn(alice, ALICE.email, ALICE.password);

    await alice.getByRole("button", { name: "People", exact: true }).click();
    await alice.getByRole("heading", { name: "People" }).waitFor();
    await alice.getByText("You have no friends in your list yet.").waitFor();
    await s.shot(alice, "people-01-no-friends");

    await alice.getByRole("tab", { name: "Organisation" }).click();
    const tree = alice.getByRole("tree");
    await tree.getByRole("treeitem", { name: /^Sales/ }).waitFor();
    // Departments first, closed; Alice is in none.
    assert.deepEqual(await tree.locator(".tree-group .tree-name").allTextContents(), ["Sales", "Support", "Not in a department"]);
    // Keyboard: into the tree, open Sales, down to its sub-department and people.
    await tree.getByRole("treeitem", { name: /^Sales/ }).focus();
    await alice.keyboard.press("ArrowRight");
    await tree.getByRole("treeitem", { name: /^EMEA export/ }).waitFor();
    await alice.keyboard.press("ArrowRight"); // into Sales: its first child
    assert.match(await alice.evaluate(() => document.activeElement.textContent), /EMEA export/);
    await alice.keyboard.press("ArrowRight"); // open EMEA export
    await tree.getByRole("treeitem", { name: /Dan Export/ }).waitFor();
    await alice.keyboard.press("ArrowLeft"); // close it again
    await until(async () => (await tree.getByRole("treeitem", { name: /Dan Export/ }).count()) === 0);
    // Bob is online (his page is open), Carol offline.
    const bobRow = tree.getByRole("treeitem", { name: /Bob Builder/ });
    await until(async () => /online/.test(await bobRow.textContent()));
    assert.match(await tree.getByRole("treeitem", { name: /Carol Seller/ }).first().textContent(), /offline/);
    // Add Bob to friends from the tree.
    await bobRow.getByRole("button", { name: /Add friend/ }).click();
    await bobRow.getByRole("button", { name: /Friend/, pressed: true }).waitFor();
    await s.shot(alice, "people-02-tree");

    // Search filters the tree: only the path to Dan is left.
    const search = alice.getByRole("searchbox", { name: "Search people and departments" });
    await search.fill("dan");
    await tree.getByRole("treeitem", { name: /Dan Export/ }).waitFor();
    assert.deepEqual(await tree.locator(".tree-group .tree-name").allTextContents(), ["Sales", "EMEA export"]);
    assert.equal(await tree.getByRole("treeitem", { name: /Bob Builder/ }).count(), 0);
    await s.shot(alice, "people-03-tree-search");
    // A department's name matches too: all its people show.
    await search.fill("support");
    await tree.getByRole("treeitem", { name: /Carol Seller/ }).waitFor();
    // Down from the search box, then Enter on a person starts the chat.
    await search.fill("dan");
    await tree.getByRole("treeitem", { name: /Dan Export/ }).waitFor();
    await search.press("ArrowDown");
    await alice.keyboard.press("End");
    await alice.keyboard.press("Enter");
    await alice.waitForURL(/\/c\/\d+$/);
    await alice.locator(".chat-head", { hasText: "Dan Export" }).waitFor();

    // My friends: Bob, online; a double click opens the chat; removed by Delete.
    await alice.goto(s.url + "/people");
    const friends = alice.getByRole("list", { name: "My friends" });
    const bobFriend = friends.getByRole("listitem").filter({ hasText: "Bob Builder" });
    await bobFriend.waitFor();
    await until(async () => /online/.test(await bobFriend.textContent()));
    await s.shot(alice, "people-04-friends");
    await bobFriend.locator(".person").dblclick();
    await alice.locator(".chat-head", { hasText: "Bob Builder" }).waitFor();
    await alice.goto(s.url + "/people");
    await bobFriend.waitFor();
    await bobFriend.locator(".person").focus();
    await alice.keyboard.press("Delete");
    await alice.getByText("You have no friends in your list yet.").waitFor();
    const server = await s.api(aliceToken, "GET", "/friends");
    assert.equal(server.users.length, 0, "the removal reached the server");

    // The friend star in the sidebar's search results and in the user panel.
    await alice.goto(s.url + "/");
    await alice.getByRole("searchbox", { name: "Search conversations, people and messages" }).fill("Carol");
    await alice.getByRole("button", { name: "Add Carol Seller to your friends" }).click();
    await alice.getByRole("button", { name: "Remove Carol Seller from your friends" }).waitFor();
    assert.deepEqual((await s.api(aliceToken, "GET", "/friends")).users.map((u) => u.name), ["Carol Seller"]);

    // Phone width: the page and the tree fit and work.
    const phone = await s.page({ viewport: PHONE });
    await s.signIn(phone, ALICE.email, ALICE.password);
    await phone.goto(s.url + "/people/org");
    await phone.getByRole("treeitem", { name: /^Sales/ }).click();
    await phone.getByRole("treeitem", { name: /Bob Builder/ }).waitFor();
    await s.shot(phone, "people-05-tree-phone");
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling at phone width (${width}px)`);
    await phone.goto(s.url + "/people");
    await phone.getByRole("list", { name: "My friends" }).getByText("Carol Seller").waitFor();
    await s.shot(phone, "people-06-friends-phone");
    await phone.context().close();
  });

  test("Send SMS: Bob's number in Settings, the window's counter, queued then delivered live", async () => {
    // Bob adds his number: a wrong one is refused with the reason.
    await bob.goto(s.url + "/settings");
    await bob.getByRole("button", { name: "Add a phone number" }).click();
    const field = bob.getByRole("textbox", { name: "Phone number, in international form" });
    await field.fill("020 7946 0958");
    const save = bob.locator(".phone-editor").getByRole("button", { name: "Save" });
    await save.click();
    await bob.getByRole("alert").filter({ hasText: "international form" }).waitFor();
    await field.fill("+44 20 7946 0958");
    await save.click();
    await bob.getByText("+442079460958").waitFor();

    // Alice: the chat with Bob → menu → Send SMS.
    await alice.goto(s.url + "/");
    await alice.getByRole("searchbox", { name: "Search conversations, people and messages" }).fill("Bob");
    await alice.locator(".conv-row", { hasText: "Bob Builder" }).first().click();
    await alice.locator(".chat-head", { hasText: "Bob Builder" }).waitFor();
    await alice.getByRole("button", { name: "Conversation menu" }).click();
    await alice.getByRole("menuitem", { name: "Send SMS…" }).click();
    const win = alice.getByRole("dialog", { name: "Send SMS to Bob Builder" });
    await win.getByText("+442079460958").waitFor();
    const text = win.getByRole("textbox", { name: "Text" });
    await text.fill("x".repeat(161));
    await win.getByText("161 / 1600 characters · 2 SMS segments").waitFor();
    await text.fill("The printer on floor 2 is on fire — come now");
    await win.getByText(/^44 \/ 1600 characters · 1 SMS \(Unicode/).waitFor();
    await text.press("Control+Enter");
    const line = win.locator(".sms-history li", { hasText: "printer on floor 2" });
    await line.getByText("Queued").waitFor();
    await until(() => twilio.sent.length === 1);
    const m = twilio.sent[0];
    assert.equal(m.to, "+442079460958");
    assert.equal(m.from, FROM);
    assert.match(m.callback, /\/api\/v1\/sms\/status\/\d+$/);
    await twilio.report(m, "sent");
    await line.getByText("Sent", { exact: true }).waitFor();
    await twilio.report(m, "delivered");
    await line.getByText("Delivered").waitFor();
    await s.shot(alice, "people-07-sms-delivered");
    // A failure shows its reason, even when its report's event reaches the
    // window before the answer to the send does (held back here): the
    // answer's older "queued" does not overwrite it.
    let release;
    const held = new Promise((r) => (release = r));
    const sendURL = /\/api\/v1\/users\/\d+\/sms$/;
    await alice.route(sendURL, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      const answer = await route.fetch();
      await held;
      await route.fulfill({ response: answer });
    });
    await text.fill("Second try");
    await win.getByRole("button", { name: "Send SMS" }).click();
    await until(() => twilio.sent.length === 2);
    await twilio.report(twilio.sent[1], "undelivered", "30003");
    const failed = win.locator(".sms-history li", { hasText: "Second try" });
    await failed.getByText(/Not delivered: unreachable/).waitFor();
    release();
    await win.getByRole("button", { name: "Sending…" }).waitFor({ state: "detached" });
    await alice.unroute(sendURL);
    assert.equal(await failed.locator(".sms-status").textContent(), "Failed");
    assert.equal(await win.locator(".sms-history li").count(), 2, "one line per text");
    await s.shot(alice, "people-08-sms-failed");
    await win.getByRole("button", { name: "Close" }).first().click();

    // The user panel shows the number and offers Send SMS too.
    await alice.locator(".chat-who").click();
    const panel = alice.getByRole("complementary", { name: "User information" });
    await panel.getByText("+442079460958").waitFor();
    await panel.getByRole("button", { name: "Send SMS" }).waitFor();
    // Carol has no number: the window says so and does not offer sending.
    await alice.goto(s.url + "/people/org");
    await alice.getByRole("searchbox", { name: "Search people and departments" }).fill("carol");
    await alice.getByRole("treeitem", { name: /Carol Seller/ }).first().dblclick();
    await alice.locator(".chat-head", { hasText: "Carol Seller" }).waitFor();
    await alice.getByRole("button", { name: "Conversation menu" }).click();
    await alice.getByRole("menuitem", { name: "Send SMS…" }).click();
    const none = alice.getByRole("dialog", { name: "Send SMS to Carol Seller" });
    await none.getByRole("alert").filter({ hasText: "has no phone number" }).waitFor();
    assert.ok(await none.getByRole("button", { name: "Send SMS" }).isDisabled());
    await s.shot(alice, "people-09-sms-no-number");
    await none.getByRole("button", { name: "Close" }).first().click();
  });

  test("Scan a document: two pages from the fake camera, cropped, attached as one PDF the server stores", async () => {
    // Bob allows Alice's request, so she can write (and attach) in the chat.
    const bobToken = await s.login(BOB.email, BOB.password);
    const req = (await s.api(bobToken, "GET", "/conversations")).conversations.find((c) => c.kind === "direct" && c.members.some((m) => m.name === "Alice Admin"));
    await s.api(bobToken, "POST", `/conversations/${req.id}/allow`);
    await alice.goto(s.url + "/");
    await alice.locator(".conv-row", { hasText: "Bob Builder" }).first().click();
    await alice.locator(".chat-head", { hasText: "Bob Builder" }).waitFor();
    await alice.getByRole("button", { name: "Scan a document" }).click();
    const dlg = alice.getByRole("dialog", { name: "Scan a document" });
    for (let page = 1; page <= 2; page++) {
      await dlg.getByRole("heading", { name: `Scan a document: page ${page}` }).waitFor();
      await alice.waitForFunction(() => (document.querySelector(".scan-video video")?.videoWidth || 0) > 0);
      if (page === 1) await s.shot(alice, "people-10-scan-camera");
      await dlg.getByRole("button", { name: "Take the picture" }).click();
      await dlg.getByRole("heading", { name: "Crop the page" }).waitFor();
      // Drag the top-left corner inwards; move the bottom-right one by keyboard.
      const h = dlg.getByRole("button", { name: /^Top left corner/ });
      const box = await h.boundingBox();
      await alice.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await alice.mouse.down();
      await alice.mouse.move(box.x + 60, box.y + 40, { steps: 5 });
      await alice.mouse.up();
      await dlg.getByRole("button", { name: /^Bottom right corner/ }).press("Shift+ArrowLeft");
      if (page === 1) await s.shot(alice, "people-11-scan-crop");
      await dlg.getByRole("button", { name: "Use this page" }).click();
      await dlg.getByRole("heading", { name: "Scanned pages" }).waitFor();
      if (page === 1) await dlg.getByRole("button", { name: "Add a page" }).click();
    }
    await dlg.getByRole("img", { name: "Page 2" }).waitFor();
    await s.shot(alice, "people-12-scan-pages");
    await dlg.getByRole("button", { name: "Attach as PDF" }).click();
    const up = alice.locator(".upload.done", { hasText: /scan-.*\.pdf/ });
    await up.waitFor();
    await alice.getByRole("textbox", { name: "Message" }).fill("The signed contract");
    await alice.getByRole("textbox", { name: "Message" }).press("Enter");
    await alice.locator(".msg", { hasText: "The signed contract" }).waitFor();
    // The server stored a PDF of two JPEG pages.
    const convs = (await s.api(aliceToken, "GET", "/conversations")).conversations;
    const conv = convs.find((c) => c.kind === "direct" && c.members.some((m) => m.name === "Bob Builder"));
    const msgs = (await s.api(aliceToken, "GET", `/conversations/${conv.id}/messages`)).messages;
    const sent = msgs.find((m) => m.text === "The signed contract");
    assert.equal(sent.files.length, 1);
    assert.match(sent.files[0].name, /^scan-.*\.pdf$/);
    assert.equal(sent.files[0].content_type, "application/pdf");
    const res = await fetch(s.parley.url + "/api/v1/files/" + sent.files[0].id, { headers: { Authorization: "Bearer " + aliceToken } });
    assert.equal(res.status, 200);
    const pdf = checkPDF(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual(pdf, { pages: 2, count: 2, images: 2 });
    await s.shot(alice, "people-13-scan-sent");
  });

  test("Scan a document without a camera: the reason, and a photo chosen instead, at phone width", async () => {
    const phone = await s.page({ viewport: PHONE });
    await s.signIn(phone, ALICE.email, ALICE.password);
    // The camera is refused, as when the user says no to the browser's prompt.
    await phone.evaluate(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
    });
    await phone.locator(".conv-row", { hasText: "Bob Builder" }).first().click();
    await phone.getByRole("button", { name: "Scan a document" }).click();
    const dlg = phone.getByRole("dialog", { name: "Scan a document" });
    await dlg.getByRole("alert").filter({ hasText: "Camera access was denied" }).waitFor();
    await s.shot(phone, "people-14-scan-denied-phone");
    const chooser = phone.waitForEvent("filechooser");
    await dlg.getByRole("button", { name: "Choose a photo" }).click();
    await (await chooser).setFiles({ name: "photo.png", mimeType: "image/png", buffer: png(600, 800) });
    await dlg.getByRole("heading", { name: "Crop the page" }).waitFor();
    await s.shot(phone, "people-15-scan-crop-phone");
    await dlg.getByRole("button", { name: "Use this page" }).click();
    await dlg.getByRole("radio", { name: "Image (JPEG)" }).check();
    await s.shot(phone, "people-16-scan-pages-phone");
    await dlg.getByRole("button", { name: "Attach the image" }).click();
    await phone.locator(".upload.done", { hasText: /scan-.*\.jpg/ }).waitFor();
    await phone.context().close();
  });
});
