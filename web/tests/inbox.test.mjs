// Browser tests of the support inbox (docs/inbox.md, seed 003, issue 9):
// customers write through the widget HTTP API (with the host page's
// Origin); managers work in the staff app in separate browser contexts.
// The list (paging, live updates, unread, notifications), its order and
// filters kept in the URL, tags (administration, the customer card, pinned
// chips), the dialog preview and Connect, the header's actions (reassign,
// close and reopen, mark as unread, block, attachments, unpin), quick
// replies, the attachment limits, deleting dialogs, and a phone's layout.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as ib-*.png, outside the repository.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# inbox browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Manager", password: "anna-password", role: "agent" };
const BORIS = { email: "boris@example.com", name: "Boris Manager", password: "boris-password", role: "agent" };
const ORIGIN = SHOP_ORIGIN;

const row = (p, name) => p.locator(".inbox-row", { hasText: name });
const composer = (p) => p.getByRole("textbox", { name: "Message" });
// A 1×1 PNG.
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2277d570000000049454e44ae426082", "hex");

describe("support inbox", { skip: skip || false, timeout: 900_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let adminT, annaT, borisT;
  let project;
  let admin, anna, boris;
  const customers = {};
  const ids = {};

  const dialogOf = async (name) => {
    const page = await s.api(adminT, "GET", "/dialogs?limit=200&sort=activity");
    return page.dialogs.find((d) => d.contact?.name === name);
  };

  before(async () => {
    s = await stack({ users: [ADMIN, ANNA, BORIS] });
    adminT = await s.login(ADMIN.email, ADMIN.password);
    annaT = await s.login(ANNA.email, ANNA.password);
    borisT = await s.login(BORIS.email, BORIS.password);
    project = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: [ORIGIN], chat_enabled: true });
    const users = (await s.api(adminT, "GET", "/users?limit=50")).users;
    const uid = (n) => users.find((u) => u.name === n).id;
    ids.anna = uid(ANNA.name);
    ids.boris = uid(BORIS.name);
    for (const u of [ids.anna, ids.boris]) await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: u, level: 1 });
    // Reply limits: a warning after 3 s, the limit after 6 s (the processing order's yellow and red).
    await s.api(adminT, "PATCH", `/projects/${project.id}`, { reply_limits: { warn_s: 3, limit_s: 6 } });
    // Boris is online (a level-1 specialist signed in), so customers' messages are chats, not offline cases.
    boris = await s.page({ path: "/inbox?sort=activity" });
    await s.signIn(boris, BORIS.email, BORIS.password);
    await until(async () => (await fetch(s.parley.url + `/api/v1/widget/projects/${project.key}`, { headers: { Origin: ORIGIN } }).then((r) => r.json())).online);
    // Customers write: the first four now, more later.
    for (const [name, text] of [
      ["Vera Visitor", "Hello, where is my order 1234?"],
      ["Walt Wholesale", "Do you sell by the pallet?"],
      ["Xena Xavier", "My parcel arrived broken"],
      ["Yuri Young", "Can I change my address?"],
    ]) {
      const c = new Customer(s.parley.url, project.key);
      await c.start({ name, email: name.split(" ")[0].toLowerCase() + "@example.com", page_url: "https://shop.example/cart", utm_source: "newsletter" });
      await c.send(text);
      customers[name] = c;
      ids[name] = (await dialogOf(name)).conversation.id;
    }
  });

  after(async () => {
    await s?.close();
  });

  test("Administration → Tags: create, rename, recolour, delete", async () => {
    admin = await s.page({ path: "/admin/tags" });
    await s.signIn(admin, ADMIN.email, ADMIN.password);
    await admin.getByRole("link", { name: "Tags" }).waitFor();
    const create = async (name, color) => {
      await admin.getByRole("button", { name: "Create a tag" }).click();
      const form = admin.getByRole("form", { name: "New tag" });
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Colour").evaluate((el, c) => {
        el.value = c;
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }, color);
      await form.getByRole("button", { name: "Save" }).click();
      await admin.locator(".tag-rows .tag-chip", { hasText: name }).waitFor();
    };
    await create("VIP", "#e5484d");
    await create("Wholesale", "#0090ff");
    await create("Spam", "#8d8d86");
    // A second "vip" is refused with the server's reason.
    await admin.getByRole("button", { name: "Create a tag" }).click();
    const dup = admin.getByRole("form", { name: "New tag" });
    await dup.getByLabel("Name").fill("vip");
    await dup.getByRole("button", { name: "Save" }).click();
    await dup.getByRole("alert").waitFor();
    await dup.getByRole("button", { name: "Cancel" }).click();
    // Rename and recolour.
    await admin.getByRole("button", { name: "Edit Tag Wholesale" }).click();
    const edit = admin.getByRole("form", { name: "Tag Wholesale" });
    await edit.getByLabel("Name").fill("Wholesaler");
    await edit.getByLabel("Colour").evaluate((el) => {
      el.value = "#30a46c";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await edit.getByRole("button", { name: "Save" }).click();
    const chip = admin.locator(".tag-rows .tag-chip", { hasText: "Wholesaler" });
    await chip.waitFor();
    assert.match(await chip.getAttribute("style"), /#30a46c/);
    // Delete, with a second click to be sure.
    await admin.getByRole("button", { name: "Delete Tag Spam" }).click();
    await admin.getByRole("listitem", { name: "Tag Spam" }).getByRole("button", { name: "Delete", exact: true }).click();
    await admin.locator(".tag-rows .tag-chip", { hasText: "Spam" }).waitFor({ state: "detached" });
    await s.shot(admin, "ib-01-tags-admin");
    const tags = (await s.api(adminT, "GET", "/tags")).tags;
    assert.deepEqual(tags.map((t) => t.name).sort(), ["VIP", "Wholesaler"]);
    ids.vip = tags.find((t) => t.name === "VIP").id;
    ids.wholesaler = tags.find((t) => t.name === "Wholesaler").id;
  });

  test("the list: every dialog with channel, unread, manager in charge, processing colours; live updates and a notification", async () => {
    anna = await s.page({ path: "/inbox" });
    await s.signIn(anna, ANNA.email, ANNA.password);
    for (const n of ["Vera Visitor", "Walt Wholesale", "Xena Xavier", "Yuri Young"]) await row(anna, n).waitFor();
    const vera = row(anna, "Vera Visitor");
    await vera.locator(".dlg-meta", { hasText: "Website chat" }).waitFor();
    await vera.getByRole("img", { name: "Website chat" }).waitFor();
    await vera.locator(".badge", { hasText: "1" }).waitFor();
    await vera.locator(".dlg-assignee", { hasText: "Unassigned" }).waitFor();
    await vera.locator(".conv-sub", { hasText: "order 1234" }).waitFor();
    // The header counts the unread dialogs.
    await anna.locator(".inbox-unread", { hasText: "4 unread" }).waitFor();
    await anna.locator(".side-tabs .badge", { hasText: "4" }).waitFor();
    // Processing order by default (the project has reply limits): the longest waiting first,
    // yellow after 3 s and red after 6 s.
    assert.equal(await anna.getByLabel("Order").inputValue(), "processing");
    const names = await anna.locator(".inbox-row .dlg-name").allTextContents();
    assert.deepEqual(names, ["Vera Visitor", "Walt Wholesale", "Xena Xavier", "Yuri Young"]);
    await anna.locator('.inbox-row[data-sla="due"]', { hasText: "Vera Visitor" }).waitFor({ timeout: 25_000 });
    await s.shot(anna, "ib-02-list-processing");

    // A new customer writes: the row appears live (no refresh), with a notification carrying the text.
    const zoe = new Customer(s.parley.url, project.key);
    await zoe.start({ name: "Zoe Zimmer", email: "zoe@example.com" });
    await zoe.send("Is the spring sale still on?");
    customers["Zoe Zimmer"] = zoe;
    await row(anna, "Zoe Zimmer").waitFor();
    await anna.locator(".toast.message", { hasText: "Zoe Zimmer: Is the spring sale still on?" }).waitFor();
    await anna.locator(".inbox-unread", { hasText: "5 unread" }).waitFor();
    ids["Zoe Zimmer"] = Number(await row(anna, "Zoe Zimmer").getAttribute("data-dialog"));
    // Last activity: the newest communication first, kept in the URL across a reload.
    await anna.getByLabel("Order").selectOption("activity");
    await anna.waitForURL(/\/inbox\?sort=activity$/);
    assert.equal(await anna.locator(".inbox-row .dlg-name").first().textContent(), "Zoe Zimmer");
    // Vera writes again: she moves to the top, her preview and unread count follow.
    await customers["Vera Visitor"].send("Any news about my order?");
    await anna.waitForFunction(() => document.querySelector(".inbox-row .dlg-name")?.textContent === "Vera Visitor");
    await row(anna, "Vera Visitor").locator(".conv-sub", { hasText: "Any news" }).waitFor();
    await row(anna, "Vera Visitor").locator(".badge", { hasText: "2" }).waitFor();
    await anna.reload();
    await row(anna, "Vera Visitor").waitFor();
    assert.equal(await anna.getByLabel("Order").inputValue(), "activity");
    assert.equal(await anna.locator(".inbox-row .dlg-name").first().textContent(), "Vera Visitor");
    await s.shot(anna, "ib-03-list-activity");
  });

  test("the dialog: a preview with Connect, the customer card's tags pinned into the list, quick replies", async () => {
    await row(anna, "Vera Visitor").click();
    await anna.waitForURL(new RegExp(`/inbox/${ids["Vera Visitor"]}\\?sort=activity$`));
    // A preview: not connected by the click.
    await anna.locator(".preview-banner", { hasText: "Preview" }).waitFor();
    const d0 = await s.api(annaT, "GET", `/dialogs/${ids["Vera Visitor"]}`);
    assert.equal((d0.consultants || []).length, 0, "opening a dialog does not connect");
    // Reading it clears its unread count.
    await row(anna, "Vera Visitor").locator(".badge").waitFor({ state: "detached" });
    await anna.getByRole("button", { name: "Connect" }).click();
    await anna.locator(".preview-banner").waitFor({ state: "detached" });
    await row(anna, "Vera Visitor").locator(".dlg-assignee", { hasText: "You" }).waitFor();

    // The customer card: contacts, source; a tag put on and pinned shows under the name in the list.
    const card = anna.getByRole("complementary", { name: "Customer card" });
    await card.getByText("vera@example.com").waitFor();
    await card.getByText("newsletter", { exact: true }).waitFor();
    await card.getByLabel("Add a tag").selectOption({ label: "VIP" });
    await card.locator(".tag-chip", { hasText: "VIP" }).waitFor();
    assert.equal(await row(anna, "Vera Visitor").locator(".dlg-tags .tag-chip").count(), 0, "not pinned yet");
    await card.getByRole("button", { name: "Pin VIP" }).click();
    await row(anna, "Vera Visitor").locator(".dlg-tags .tag-chip", { hasText: "VIP" }).waitFor();
    // Another manager's list follows (dialog.updated).
    await row(boris, "Vera Visitor").locator(".dlg-tags .tag-chip", { hasText: "VIP" }).waitFor();
    // An attribute edited on the card.
    await card.getByRole("button", { name: "Add an attribute" }).click();
    const attr = card.getByRole("form", { name: "New attribute" });
    await attr.getByLabel("Attribute").fill("Order");
    await attr.getByLabel("Value").fill("1234");
    await attr.getByRole("button", { name: "Save" }).click();
    await card.locator(".attr", { hasText: "1234" }).waitFor();
    await s.shot(anna, "ib-04-dialog-card");

    // Quick replies: the lightning panel, a new personal one, inserted; "/" suggests it.
    await anna.getByRole("button", { name: "Quick replies" }).click();
    const panel = anna.getByRole("dialog", { name: "Quick replies" });
    await panel.getByRole("button", { name: "New quick reply" }).click();
    const form = panel.getByRole("form", { name: "New quick reply" });
    await form.getByLabel("Shortcut").fill("thanks");
    await form.getByLabel("Text").fill("Thank you for your patience! I am checking it now.");
    await form.getByRole("button", { name: "Save" }).click();
    await panel.locator(".qr-pick", { hasText: "/thanks" }).waitFor();
    await s.shot(anna, "ib-05-quick-replies");
    await panel.locator(".qr-pick", { hasText: "/thanks" }).click();
    assert.equal(await composer(anna).inputValue(), "Thank you for your patience! I am checking it now.");
    await composer(anna).fill("/than");
    await anna.getByRole("listbox", { name: "Shortcuts" }).getByText("/thanks").waitFor();
    await composer(anna).press("Enter");
    // The first Enter inserts the quick reply; send once it is in.
    await until(async () => (await composer(anna).inputValue()).includes("checking it now"));
    await composer(anna).press("Enter");
    await anna.locator(".msg.mine", { hasText: "checking it now" }).waitFor();
    // The lightning icon on a message makes a new quick reply of it.
    const msg = anna.locator(".msg.visitor", { hasText: "Any news about my order?" });
    await msg.hover();
    await msg.getByRole("button", { name: "Save as a quick reply" }).click();
    const fromMsg = anna.getByRole("dialog", { name: "Quick replies" }).getByRole("form", { name: "New quick reply" });
    assert.equal(await fromMsg.getByLabel("Text").inputValue(), "Any news about my order?");
    await fromMsg.getByLabel("Shortcut").fill("news");
    await fromMsg.getByRole("button", { name: "Save" }).click();
    await until(async () => (await s.api(annaT, "GET", "/quick-replies")).quick_replies.some((q) => q.shortcut === "news"));
    await anna.getByRole("button", { name: "Close quick replies" }).click();
    // The answer cleared the wait: no longer red.
    assert.equal(await row(anna, "Vera Visitor").getAttribute("data-sla"), null);
    // More than 2,000 characters are refused in the composer.
    await composer(anna).fill("x".repeat(2001));
    await anna.getByText("1 character over the limit of 2000").waitFor();
    await composer(anna).fill("");
  });

  test("filters: managers in charge, status, latest message, tags with AND, no tags, pinned; kept in the URL", async () => {
    await s.api(annaT, "PUT", `/contacts/${(await dialogOf("Walt Wholesale")).contact.id}/tags/${ids.wholesaler}`, { pinned: false });
    await s.api(annaT, "PUT", `/contacts/${(await dialogOf("Walt Wholesale")).contact.id}/tags/${ids.vip}`, { pinned: false });
    await anna.goto(s.url + "/inbox?sort=activity");
    await row(anna, "Walt Wholesale").waitFor();
    await anna.getByRole("button", { name: /^Filters and sorting/ }).click();
    const panel = anna.getByRole("dialog", { name: "Filters and sorting" });
    // Tags: counts, most used first; VIP (2 dialogs) above Wholesaler (1).
    await panel.locator(".tag-list .pick-opt", { hasText: "VIP" }).locator(".pick-count", { hasText: "2" }).waitFor();
    assert.deepEqual(await panel.locator(".tag-list .tag-chip").allTextContents(), ["VIP", "Wholesaler"]);
    await s.shot(anna, "ib-06-filters");
    // Wholesaler selected: it moves to the top; only Walt has it.
    await panel.locator(".tag-list .pick-opt", { hasText: "Wholesaler" }).click();
    await anna.waitForURL(/tag=\d+/);
    assert.deepEqual(await panel.locator(".tag-list .tag-chip").allTextContents(), ["Wholesaler", "VIP"]);
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Walt Wholesale");
    // AND: VIP too — still Walt only (Vera has VIP but not Wholesaler).
    await panel.locator(".tag-list .pick-opt", { hasText: "VIP" }).click();
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Walt Wholesale");
    // Pinned: Walt's tags are not pinned: nobody.
    await panel.getByLabel("Pinned").check();
    await anna.getByText("No dialogs match these filters.").waitFor();
    await panel.getByLabel("Pinned").uncheck();
    // No tags set locks the list: Xena, Yuri, Zoe.
    await panel.getByRole("radio", { name: "No tags set" }).check();
    assert.equal(await panel.locator(".tag-list").evaluate((el) => el.classList.contains("disabled")), true);
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).sort().join() === "Xena Xavier,Yuri Young,Zoe Zimmer");
    await panel.getByRole("radio", { name: "All" }).check();
    // Managers in charge: Anna (Vera is hers), then Unassigned.
    await panel.getByRole("checkbox", { name: /Anna Manager/ }).check();
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Vera Visitor");
    await panel.getByRole("checkbox", { name: /Anna Manager/ }).uncheck();
    await panel.getByRole("checkbox", { name: /Unassigned/ }).check();
    await until(async () => !(await anna.locator(".inbox-row .dlg-name").allTextContents()).includes("Vera Visitor"));
    await panel.getByRole("checkbox", { name: /Unassigned/ }).uncheck();
    // Latest message from a manager: Vera (Anna answered last).
    await panel.getByRole("radio", { name: "From a manager" }).check();
    await until(async () => (await anna.locator(".inbox-row .dlg-name").allTextContents()).join() === "Vera Visitor");
    // Back in the browser restores the previous filters.
    await anna.goBack();
    await until(async () => (await anna.locator(".inbox-row").count()) === 5);
    // Status closed: none yet.
    await panel.getByRole("radio", { name: "Closed" }).check();
    await anna.waitForURL(/status=closed/);
    await anna.getByText("No dialogs match these filters.").waitFor();
    await anna.reload();
    await anna.getByText("No dialogs match these filters.").waitFor();
    await anna.getByRole("button", { name: "Clear the filters" }).click();
    await until(async () => (await anna.locator(".inbox-row").count()) === 5);
  });

  test("header actions: close and reopen, mark as unread, block, reassign", async () => {
    const id = ids["Vera Visitor"];
    await anna.goto(s.url + `/inbox/${id}?sort=activity`);
    await anna.getByRole("button", { name: "Close", exact: true }).click();
    await anna.getByRole("dialog", { name: "Close the dialog?" }).getByRole("button", { name: "Close the dialog" }).click();
    await anna.locator(".composer-note", { hasText: "Writing to the customer reopens it" }).waitFor();
    await row(anna, "Vera Visitor").locator(".dlg-closed").waitFor();
    // The customer writes: the dialog reopens by itself, with a system line.
    await customers["Vera Visitor"].send("Sorry, one more question");
    await until(async () => (await s.api(annaT, "GET", `/dialogs/${id}`)).support.status === "open");
    await row(anna, "Vera Visitor").locator(".dlg-closed").waitFor({ state: "detached" });
    await anna.locator(".sysline", { hasText: /reopened/ }).waitFor();
    // Mark as unread: for Anna only.
    await anna.getByRole("button", { name: "Dialog menu" }).click();
    await anna.getByRole("menuitem", { name: "Mark as unread" }).click();
    await row(anna, "Vera Visitor").locator(".badge").waitFor();
    assert.ok((await s.api(annaT, "GET", `/dialogs/${id}`)).unread >= 1);
    // Block: the composer says why; the customer's message is refused; unblock restores.
    await row(anna, "Vera Visitor").click();
    await anna.getByRole("button", { name: "Dialog menu" }).click();
    await anna.getByRole("menuitem", { name: "Block the customer" }).click();
    await anna.locator(".blocked-line", { hasText: "is blocked" }).waitFor();
    await s.shot(anna, "ib-07-blocked");
    await assert.rejects(customers["Vera Visitor"].send("Let me in"), (e) => e.status === 403);
    await anna.locator(".sysline", { hasText: "blocked the customer" }).waitFor();
    await anna.locator(".blocked-line").getByRole("button", { name: "Unblock" }).click();
    await composer(anna).waitFor();
    await customers["Vera Visitor"].send("Thanks for unblocking");
    // Reassign to Boris: the ribbon records it, Boris is connected and in charge.
    await anna.getByRole("button", { name: "Reassign" }).click();
    const dlg = anna.getByRole("dialog", { name: "Reassign the dialog" });
    await dlg.getByLabel(/Boris Manager/).check();
    await s.shot(anna, "ib-08-reassign");
    await dlg.getByRole("button", { name: "Reassign" }).click();
    await dlg.waitFor({ state: "detached" });
    await until(async () => (await s.api(borisT, "GET", `/dialogs/${id}`)).support.assignee_id === ids.boris);
    await row(boris, "Vera Visitor").locator(".dlg-assignee", { hasText: "You" }).waitFor();
    await boris.goto(s.url + `/inbox/${id}?sort=activity`);
    await boris.locator(".sysline", { hasText: /Anna Manager reassigned the dialog to Boris Manager/ }).waitFor();
    await composer(boris).waitFor();
  });

  test("attachments: the channel's limit before upload, Show attachments with download and send again", async (t) => {
    const id = ids["Vera Visitor"];
    // An administrator limits the widget's images to 1 MB (Administration →
    // the project → Inbox limits): a 2 MB image is refused before it uploads.
    admin = admin || (await s.page());
    await admin.goto(s.url + `/admin/projects/${project.id}/inbox`);
    await admin.getByLabel("Images (MB)").fill("1");
    await admin.getByLabel("Other files (MB)").fill("x");
    await admin.getByRole("button", { name: "Save" }).nth(1).click();
    assert.equal((await s.api(adminT, "GET", `/projects/${project.id}`)).attachment_limits?.widget, undefined, "an invalid size is not saved");
    await admin.getByLabel("Other files (MB)").fill("20");
    await admin.getByRole("button", { name: "Save" }).nth(1).click();
    await admin.getByText("Saved").waitFor();
    await s.shot(admin, "ib-09a-inbox-limits");
    const limits = (await s.api(adminT, "GET", `/projects/${project.id}`)).attachment_limits.widget;
    assert.deepEqual(limits, { image: 1 << 20, audio: 0, video: 0, other: 20 << 20 });
    await boris.reload();
    await composer(boris).waitFor();
    let uploads = 0;
    boris.on("request", (r) => r.url().includes("/api/v1/files") && r.method() === "POST" && uploads++);
    await boris.locator('input[type="file"]').setInputFiles({ name: "big.png", mimeType: "image/png", buffer: Buffer.alloc(2 << 20, 1) });
    await boris.locator(".upload.error", { hasText: "Images up to 1 MB in this channel" }).waitFor();
    assert.equal(uploads, 0, "nothing uploaded");
    await boris.getByRole("button", { name: "Remove big.png" }).click();
    // The customer sends an image; Show attachments lists it; Boris sends it again.
    const f = await customers["Vera Visitor"].upload(PNG, "receipt.png", "image/png");
    await customers["Vera Visitor"].send("Here is the receipt", [f.id]);
    await boris.locator(".msg.visitor", { hasText: "Here is the receipt" }).waitFor();
    await boris.getByRole("button", { name: "Dialog menu" }).click();
    await boris.getByRole("menuitem", { name: "Show attachments" }).click();
    const win = boris.getByRole("dialog", { name: "Attachments" });
    await win.locator(".att", { hasText: "receipt.png" }).waitFor();
    assert.equal(await win.getByRole("link", { name: "Download" }).first().getAttribute("href"), `/api/v1/files/${f.id}`);
    await s.shot(boris, "ib-09-attachments");
    await win.getByRole("tab", { name: "Files" }).click();
    await win.getByText("No files in this dialog.").waitFor();
    await win.getByRole("tab", { name: "Images" }).click();
    await win.getByRole("button", { name: "Send again" }).click();
    await win.waitFor({ state: "detached", timeout: 10000 });
    // Sent again as a copy: Boris's own file, with the same name and bytes.
    await until(async () => {
      const page = await s.api(borisT, "GET", `/conversations/${id}/messages?limit=5`);
      return page.messages.some((m) => m.sender_id === ids.boris && m.files?.some((x) => x.id !== f.id && x.name === f.name && x.size === f.size));
    });
  });

  test("unpin a customer and delete dialogs (the dialogs.delete right)", async () => {
    admin = admin || (await s.page());
    await admin.goto(s.url + "/inbox?sort=activity");
    await row(admin, "Yuri Young").waitFor();
    // Unpin, confirmed.
    await row(admin, "Yuri Young").click();
    await admin.getByRole("button", { name: "Dialog menu" }).click();
    await admin.getByRole("menuitem", { name: "Unpin the customer…" }).click();
    await admin.getByRole("dialog", { name: "Unpin the customer?" }).getByRole("button", { name: "Unpin" }).click();
    await admin.locator(".chat-head h1", { hasText: "Unpinned customer" }).waitFor();
    const un = await s.api(adminT, "GET", `/dialogs/${ids["Yuri Young"]}`);
    assert.equal(un.contact, null);
    // Anna may not delete: no checkboxes for her.
    assert.equal(await anna.locator(".dlg-pick").count(), 0);
    // Hover the avatar, tick two dialogs, Actions → Delete.
    for (const n of ["Xena Xavier", "Zoe Zimmer"]) {
      const item = admin.locator(".dlg-item", { hasText: n });
      await item.locator(".dlg-pick").hover();
      await item.getByRole("checkbox").check();
    }
    await admin.getByText("2 selected").waitFor();
    await s.shot(admin, "ib-10-select");
    await admin.getByRole("button", { name: "Actions ▾" }).click();
    await admin.getByRole("menuitem", { name: /Delete 2 dialogs/ }).click();
    await admin.getByRole("dialog", { name: "Delete 2 dialogs?" }).getByRole("button", { name: "Delete for good" }).click();
    for (const n of ["Xena Xavier", "Zoe Zimmer"]) await row(admin, n).waitFor({ state: "detached" });
    // Gone from Anna's list too, and for the API.
    const left = (await s.api(annaT, "GET", "/dialogs?limit=100")).dialogs.map((d) => d.conversation.id);
    assert.ok(!left.includes(ids["Xena Xavier"]) && !left.includes(ids["Zoe Zimmer"]));
  });

  test("a phone-sized screen: the list, then the dialog with a back button", async () => {
    const phone = await s.page({ viewport: { width: 390, height: 800 }, path: "/inbox?sort=activity" });
    await s.signIn(phone, ANNA.email, ANNA.password);
    // Vera was reassigned away from Anna: she is no longer in Anna's list.
    await row(phone, "Walt Wholesale").waitFor();
    assert.equal(await row(phone, "Vera Visitor").count(), 0);
    await s.shot(phone, "ib-11-phone-list");
    await phone.getByRole("button", { name: /^Filters and sorting/ }).click();
    await phone.getByRole("dialog", { name: "Filters and sorting" }).waitFor();
    await s.shot(phone, "ib-12-phone-filters");
    await phone.getByRole("button", { name: "Close the filters" }).click();
    await row(phone, "Walt Wholesale").click();
    await phone.locator(".chat-head h1", { hasText: "Walt Wholesale" }).waitFor();
    await s.shot(phone, "ib-13-phone-dialog");
    await phone.getByRole("button", { name: "Back to the list" }).click();
    await phone.waitForURL(/\/inbox\?sort=activity$/);
    await row(phone, "Walt Wholesale").waitFor();
    await phone.context().close();
  });
});
