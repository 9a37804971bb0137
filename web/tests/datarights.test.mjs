// Browser test of a customer's data rights (docs/inbox.md, issue 13): an
// administrator exports a customer from the customer card (a ZIP
// download), erases them after a confirmation that names what goes, sets
// a project's retention, and reads both actions in the audit log.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as dr-*.png, outside the repository.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# data rights browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };

describe("data rights", { skip: skip || false, timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let adminT, project, page;
  const dana = { customer: null, dialog: 0 };

  before(async () => {
    s = await stack({ users: [ADMIN] });
    adminT = await s.login(ADMIN.email, ADMIN.password);
    project = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: [SHOP_ORIGIN], chat_enabled: true });
    const me = (await s.api(adminT, "GET", "/me")).id;
    await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: me, level: 1 });
    page = await s.page({ path: "/inbox" });
    await s.signIn(page, ADMIN.email, ADMIN.password);
    await until(async () => (await fetch(s.parley.url + `/api/v1/widget/projects/${project.key}`, { headers: { Origin: SHOP_ORIGIN } }).then((r) => r.json())).online);
    const c = new Customer(s.parley.url, project.key);
    await c.start({ name: "Dana Data", email: "dana@private.example" });
    const f = await c.upload(Buffer.from("DANA-PASSPORT"), "passport.txt", "text/plain");
    await c.send("here is my passport", [f.id]);
    dana.customer = c;
    dana.dialog = (await c.messages()).conversation.id;
  });

  after(async () => {
    await s?.close();
  });

  test("export and erase a customer from the customer card, then read the audit log", async () => {
    const row = page.locator(".inbox-row", { hasText: "Dana Data" });
    await row.click();
    await page.waitForURL(new RegExp(`/inbox/${dana.dialog}`));
    // A wide screen shows the card beside the dialog (lazy: it may take a moment).
    const card = page.getByRole("complementary", { name: "Customer card" });
    await card.getByText("dana@private.example").waitFor();

    // Export: a ZIP download named after the customer.
    const [download] = await Promise.all([page.waitForEvent("download"), card.getByRole("link", { name: "Export data" }).click()]);
    assert.match(download.suggestedFilename(), /^customer-\d+\.zip$/);
    const zip = await readFile(await download.path());
    assert.equal(zip.subarray(0, 2).toString(), "PK", "the download is a ZIP");
    assert.ok(zip.includes(Buffer.from("DANA-PASSPORT")), "the ZIP holds the customer's file");

    // Erase: the confirmation names what goes; then the dialog leaves the list.
    await card.getByRole("button", { name: "Erase customer…" }).click();
    const confirm = page.getByRole("dialog", { name: "Erase Dana Data?" });
    await confirm.getByText("1 dialog with every message, file and rating").waitFor();
    await confirm.getByText("their name, e-mail, phone, custom attributes, tags, source and messenger address").waitFor();
    await s.shot(page, "dr-01-erase-confirm");
    await confirm.getByRole("button", { name: "Erase for good" }).click();
    await page.locator(".toast", { hasText: "The customer was erased: 1 dialog and 1 file deleted." }).waitFor();
    await row.waitFor({ state: "detached" });
    await assert.rejects(dana.customer.messages(), (e) => e.status === 401, "the erased visitor's token is refused");
    const gone = await fetch(s.parley.url + `/api/v1/dialogs/${dana.dialog}`, { headers: { Authorization: "Bearer " + adminT } });
    assert.equal(gone.status, 404);

    // The audit log: both actions, by the administrator.
    await page.goto(s.url + "/admin/audit");
    const log = page.getByRole("table", { name: "Audit log" });
    await log.locator('tr[data-action="contact.erased"]', { hasText: "Ada Admin" }).waitFor();
    await log.locator('tr[data-action="contact.exported"]', { hasText: "Ada Admin" }).waitFor();
    assert.equal(await log.getByText("Dana").count(), 0, "the audit log holds no erased data");
    await page.getByLabel("Action").selectOption("contact.erased");
    await until(async () => (await log.locator("tbody tr").count()) === 1);
    await s.shot(page, "dr-02-audit-log");
  });

  test("a project's retention in its settings", async () => {
    await page.goto(s.url + `/admin/projects/${project.id}/inbox`);
    const field = page.getByLabel("Delete closed dialogs after (days)");
    await field.fill("-3");
    await page.getByRole("heading", { name: "Data retention" }).waitFor();
    await field.fill("30");
    await field.press("Enter");
    await page.locator(".card", { hasText: "Data retention" }).getByText("Saved").waitFor();
    assert.equal((await s.api(adminT, "GET", `/projects/${project.id}`)).retention_days, 30);
    await s.shot(page, "dr-03-retention");
  });
});
