// Browser tests of the auto-distribution of dialogs (issue 11, seed 003's
// distribution bot): the project's Distribution settings (saved, and the
// server's refusal shown beside its field), a live assignment with its
// "routed" line and the "Why?" explanation, the manager's availability
// selector (live in a second tab), the supervisors' queue view (a waiting
// dialog with its note while the only manager is busy, emptied live when
// they become available), queue notes on the inbox's rows, and a take
// refused at capacity showing the server's message.
//
// Customers write through the widget HTTP API (with the host page's
// Origin); managers and the administrator use the staff app in their own
// browser contexts. Screenshots go to $PARLEY_SCREENSHOTS (default
// $TMPDIR/parley-screenshots) as routing-*.png.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# routing browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Manager", password: "anna-password", role: "agent" };
const BORIS = { email: "boris@example.com", name: "Boris Manager", password: "boris-password", role: "agent" };
const ORIGIN = SHOP_ORIGIN;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const row = (p, name) => p.locator(".inbox-row", { hasText: name });

/** signInPhone signs in on a phone-sized page opened at a pane (the sidebar is hidden there). */
async function signInPhone(page, u) {
  await page.getByLabel("E-mail").fill(u.email);
  await page.getByLabel("Password", { exact: true }).fill(u.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".layout .main").waitFor();
}
describe("auto-distribution", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let adminT;
  let acme, solo;
  let admin, anna, anna2;
  const ids = {};

  const write = async (project, name, text) => {
    const c = new Customer(s.parley.url, project.key);
    await c.start({ name, email: name.split(" ")[0].toLowerCase() + "@example.com" });
    await c.send(text);
    return c;
  };
  const dialogOf = async (name) =>
    until(async () => (await s.api(adminT, "GET", "/dialogs?limit=200&sort=activity")).dialogs.find((d) => d.contact?.name === name));
  const online = (project) =>
    until(async () => (await fetch(s.parley.url + `/api/v1/widget/projects/${project.key}`, { headers: { Origin: ORIGIN } }).then((r) => r.json())).online);

  before(async () => {
    s = await stack({ users: [ADMIN, ANNA, BORIS] });
    adminT = await s.login(ADMIN.email, ADMIN.password);
    acme = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: [ORIGIN], chat_enabled: true });
    solo = await s.api(adminT, "POST", "/projects", { name: "Solo Store", origins: [ORIGIN], chat_enabled: true });
    const users = (await s.api(adminT, "GET", "/users?limit=50")).users;
    ids.anna = users.find((u) => u.name === ANNA.name).id;
    ids.boris = users.find((u) => u.name === BORIS.name).id;
    for (const u of [ids.anna, ids.boris]) await s.api(adminT, "POST", `/projects/${acme.id}/specialists`, { user_id: u, level: 1 });
    // Solo Store has one manager: Anna.
    await s.api(adminT, "POST", `/projects/${solo.id}/specialists`, { user_id: ids.anna, level: 1 });
  });

  after(async () => {
    await s?.close();
  });

  test("Distribution settings: the server's refusal beside its field, then saved", async () => {
    admin = await s.page({ viewport: DESKTOP, path: `/admin/projects/${acme.id}/distribution` });
    await s.signIn(admin, ADMIN.email, ADMIN.password);
    const form = admin.getByRole("form", { name: "Distribution settings" });
    await form.waitFor();
    assert.equal(await form.getByRole("radio", { name: /^Off/ }).isChecked(), true);
    await form.getByRole("radio", { name: /^Fewest open/ }).check();
    // A negative capacity goes to the server, which refuses it: the message shows under the field.
    await form.getByLabel("Capacity per manager").fill("-1");
    await form.getByRole("button", { name: "Save" }).click();
    const fieldErr = admin.locator("#dist-capacity-err");
    await fieldErr.waitFor();
    assert.match(await fieldErr.textContent(), /capacity is from 0/);
    assert.equal(await form.getByLabel("Capacity per manager").getAttribute("aria-invalid"), "true");
    await admin.locator(".save-state .form-error", { hasText: "Not saved" }).waitFor();
    assert.equal((await s.api(adminT, "GET", `/projects/${acme.id}`)).distribution?.policy ?? "off", "off", "a refused save changes nothing");
    await s.shot(admin, "routing-settings-error-desktop");

    await form.getByLabel("Capacity per manager").fill("5");
    await form.getByLabel("Project capacity").fill("20");
    // Anna's own capacity, and WhatsApp only for Anna.
    await form.getByRole("button", { name: "Add a manager" }).click();
    await form.getByRole("combobox", { name: "Manager" }).selectOption({ label: ANNA.name });
    await form.getByLabel(`Capacity of ${ANNA.name}`).fill("3");
    await form.getByRole("button", { name: "Add a channel rule" }).click();
    await form.getByRole("combobox", { name: "Channel" }).selectOption("whatsapp");
    await form.getByRole("group", { name: "Managers of WhatsApp" }).getByRole("checkbox", { name: new RegExp(ANNA.name) }).check();
    await form.getByRole("checkbox", { name: /Reassign overdue dialogs/ }).check();
    await form.getByRole("button", { name: "Save" }).click();
    await admin.locator(".save-state .ok-text", { hasText: "Saved" }).waitFor();
    assert.equal(await fieldErr.count(), 0);
    const d = (await s.api(adminT, "GET", `/projects/${acme.id}`)).distribution;
    assert.equal(d.policy, "fewest_open");
    assert.equal(d.capacity, 5);
    assert.equal(d.project_capacity, 20);
    assert.equal(d.burst, 0);
    assert.deepEqual(d.managers, [{ user_id: ids.anna, capacity: 3 }]);
    assert.deepEqual(d.channels, { whatsapp: [ids.anna] });
    assert.equal(d.reassign_overdue, true);
    await s.shot(admin, "routing-settings-desktop");
    // Reloaded, the form shows what was saved.
    await admin.reload();
    await form.waitFor();
    assert.equal(await form.getByRole("radio", { name: /^Fewest open/ }).isChecked(), true);
    assert.equal(await form.getByLabel("Capacity per manager").inputValue(), "5");
    assert.equal(await form.getByLabel(`Capacity of ${ANNA.name}`).inputValue(), "3");

    const phone = await s.page({ viewport: PHONE, path: `/admin/projects/${acme.id}/distribution` });
    await signInPhone(phone, ADMIN);
    await phone.getByRole("form", { name: "Distribution settings" }).waitFor();
    await s.shot(phone, "routing-settings-phone");
    await phone.getByRole("form", { name: "Distribution settings" }).locator(".dist-channels").scrollIntoViewIfNeeded();
    await s.shot(phone, "routing-settings-phone-2");
    const overflow = await phone.evaluate(() => document.querySelector(".page-body").scrollWidth - document.querySelector(".page-body").clientWidth);
    assert.ok(overflow <= 1, `the settings fit a phone's width (overflow ${overflow}px)`);
    await phone.context().close();
  });

  test("a live assignment: the manager's list shows it theirs, the ribbon says why", async () => {
    anna = await s.page({ viewport: DESKTOP, path: "/inbox?sort=activity" });
    await s.signIn(anna, ANNA.email, ANNA.password);
    await anna.getByRole("button", { name: "Your availability: Available" }).waitFor();
    await online(acme);
    // Boris is not signed in (offline): Anna is the only eligible manager.
    await write(acme, "Carl Customer", "Hi, my order did not arrive");
    const carl = row(anna, "Carl Customer");
    await carl.locator(".dlg-assignee", { hasText: "You" }).waitFor();
    const dlg = await dialogOf("Carl Customer");
    ids.carl = dlg.conversation.id;
    assert.equal(dlg.support.assignee_id, ids.anna);
    await carl.click();
    const line = anna.locator(".sysline.routed");
    await line.waitFor();
    assert.match(await line.textContent(), /Assigned to Anna Manager by the distribution — Anna Manager, the only eligible manager/);
    await line.getByRole("button", { name: "Why?" }).click();
    const why = anna.getByRole("region", { name: "Why the distribution decided this" });
    await why.waitFor();
    assert.equal(await why.locator("dd[data-trigger]").textContent(), "a dialog waits");
    assert.match(await why.textContent(), /PolicyFewest open/);
    const chosen = why.locator(".why-cand.chosen");
    assert.match(await chosen.textContent(), /Anna Manager/);
    assert.match(await chosen.textContent(), /✓ chosen/);
    assert.match(await chosen.textContent(), /0\/3 open, no dialog from the distribution yet/);
    const boris = why.locator('.why-cand[data-verdict="offline"]');
    assert.match(await boris.textContent(), /Boris Manager/);
    assert.match(await boris.textContent(), /offline/);
    await s.shot(anna, "routing-why-desktop");

    // The administrator sees the same line; on a phone.
    const phone = await s.page({ viewport: PHONE, path: `/inbox/${ids.carl}` });
    await signInPhone(phone, ADMIN);
    await phone.locator(".sysline.routed").getByRole("button", { name: "Why?" }).click();
    await phone.getByRole("region", { name: "Why the distribution decided this" }).waitFor();
    await s.shot(phone, "routing-why-phone");
    const overflow = await phone.evaluate(() => {
      const w = document.querySelector(".why");
      return w.getBoundingClientRect().right - window.innerWidth;
    });
    assert.ok(overflow <= 0, `the explanation fits a phone's width (${overflow}px over)`);
    await phone.context().close();
  });

  test("the queue: a waiting dialog with its note while the only manager is busy, emptied live when they are available", async () => {
    await s.api(adminT, "PATCH", `/projects/${solo.id}`, {
      distribution: { policy: "fewest_open", capacity: 5, managers: [], project_capacity: 0, burst: 0, channels: {}, reassign_overdue: false },
    });
    // A second tab of Anna's follows her availability live.
    anna2 = await anna.context().newPage();
    await anna2.goto(s.url + "/inbox");
    await anna2.getByRole("button", { name: "Your availability: Available" }).waitFor();
    await anna.getByRole("button", { name: /^Your availability/ }).click();
    await anna.getByRole("menuitemcheckbox", { name: "Busy" }).click();
    await anna.getByRole("button", { name: "Your availability: Busy" }).waitFor();
    await anna2.getByRole("button", { name: "Your availability: Busy" }).waitFor();
    assert.equal((await s.api(await s.login(ANNA.email, ANNA.password), "GET", "/me/availability")).availability, "busy");
    await s.shot(anna2, "routing-availability-busy");
    // On a phone: in the inbox's header, and beside her name over the chats.
    await anna2.setViewportSize(PHONE);
    await s.shot(anna2, "routing-availability-inbox-phone");
    await anna2.goto(s.url + "/");
    await anna2.locator(".side-top").getByRole("button", { name: "Your availability: Busy" }).waitFor();
    await s.shot(anna2, "routing-availability-chats-phone");

    // The supervisor watches Solo Store's queue (from the inbox's Queue tab).
    await admin.goto(s.url + "/inbox");
    await admin.getByRole("link", { name: "Queue" }).click();
    await admin.getByRole("heading", { name: "Queue" }).waitFor();
    if (!admin.url().endsWith(`/queue/${solo.id}`)) await admin.getByRole("combobox", { name: "Project" }).selectOption({ label: "Solo Store" });
    await admin.waitForURL(new RegExp(`/queue/${solo.id}$`));
    await admin.locator(".queue-empty").waitFor();
    const annaRow = admin.locator(`.queue-manager[data-user="${ids.anna}"]`);
    await annaRow.locator(".qm-avail", { hasText: "Busy" }).waitFor();
    assert.match(await annaRow.textContent(), /Online/);
    assert.equal(await annaRow.locator(".qm-count").textContent(), "1/5");

    await online(solo);
    await write(solo, "Dana Waiting", "Anyone there?");
    const q = admin.locator(".queue-row", { hasText: "Dana Waiting" });
    await q.waitFor();
    await admin.locator(".queue-note", { hasText: "its only manager: busy" }).waitFor();
    await admin.locator('.queue-stat[data-waiting="1"]').waitFor();
    // The wait ticks.
    const t0 = await q.locator(".queue-wait").textContent();
    await until(async () => (await q.locator(".queue-wait").textContent()) !== t0, 5000);
    // Anna's inbox row says why it waits.
    await row(anna, "Dana Waiting").locator(".dlg-queue", { hasText: "its only manager: busy" }).waitFor();
    await s.shot(admin, "routing-queue-desktop");
    await s.shot(anna, "routing-inbox-queue-note");

    const phone = await s.page({ viewport: PHONE, path: `/queue/${solo.id}` });
    await signInPhone(phone, ADMIN);
    await phone.locator(".queue-row", { hasText: "Dana Waiting" }).waitFor();
    await s.shot(phone, "routing-queue-phone");
    const overflow = await phone.evaluate(() => document.querySelector(".page-body").scrollWidth - document.querySelector(".page-body").clientWidth);
    assert.ok(overflow <= 1, `the queue fits a phone's width (overflow ${overflow}px)`);

    // Anna becomes available in her second tab: the dialog is hers and the queue empties, live.
    await anna2.getByRole("button", { name: /^Your availability/ }).click();
    await anna2.getByRole("menuitemcheckbox", { name: "Available" }).click();
    await anna.getByRole("button", { name: "Your availability: Available" }).waitFor();
    await q.waitFor({ state: "detached" });
    await admin.locator(".queue-empty").waitFor();
    assert.equal(await admin.locator(".queue-note").count(), 0);
    await annaRow.locator(".qm-count", { hasText: "2/5" }).waitFor();
    await phone.locator(".queue-row", { hasText: "Dana Waiting" }).waitFor({ state: "detached" });
    await row(anna, "Dana Waiting").locator(".dlg-assignee", { hasText: "You" }).waitFor();
    assert.equal(await row(anna, "Dana Waiting").locator(".dlg-queue").count(), 0);
    await s.shot(admin, "routing-queue-emptied");
    await phone.context().close();

    // Clicking a waiting dialog opens it in the inbox.
    await s.api(adminT, "PATCH", `/projects/${solo.id}`, {
      distribution: { policy: "fewest_open", capacity: 1, managers: [], project_capacity: 0, burst: 0, channels: {}, reassign_overdue: false },
    });
    await write(solo, "Eve Overflow", "Hello again");
    const eve = admin.locator(".queue-row", { hasText: "Eve Overflow" });
    await eve.waitFor();
    await admin.locator(".queue-note", { hasText: "at capacity 2/1" }).waitFor();
    await row(anna, "Eve Overflow").locator(".dlg-queue", { hasText: "at capacity 2/1" }).waitFor();
    await eve.click();
    await admin.waitForURL(/\/inbox\/\d+/);
    await admin.locator(".chat-head h1", { hasText: "Eve Overflow" }).waitFor();
  });

  test("a take past capacity is refused with the server's message", async () => {
    // Anna (2 open, Solo Store's capacity 1) tries to connect to the waiting dialog.
    await row(anna, "Eve Overflow").click();
    await anna.getByRole("button", { name: "Connect" }).click();
    const toast = anna.locator(".toast.error", { hasText: "the manager is at capacity (2/1 open dialogs)" });
    await toast.waitFor();
    await s.shot(anna, "routing-capacity-refused");
    // A capacity raised frees a place: the distribution gives her the dialog.
    await s.api(adminT, "PATCH", `/projects/${solo.id}`, {
      distribution: { policy: "fewest_open", capacity: 5, managers: [], project_capacity: 0, burst: 0, channels: {}, reassign_overdue: false },
    });
    await row(anna, "Eve Overflow").locator(".dlg-assignee", { hasText: "You" }).waitFor();
    const line = anna.locator(".sysline.routed", { hasText: "Assigned to Anna Manager" });
    await line.waitFor();
    await line.getByRole("button", { name: "Why?" }).click();
    assert.equal(await anna.getByRole("region", { name: "Why the distribution decided this" }).locator("dd[data-trigger]").textContent(), "the distribution's settings changed");
  });
});
