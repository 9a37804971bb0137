// Browser tests of tasks (seed 001, issue 14): "Create a task" from a
// colleague's user panel, the task arriving live in the assignee's "My
// tasks" with a notice, an overdue task in red, "Move to task" on a message
// (To task: into that task, the message marked; To table: into a
// customer's card, shown in the card's History), and the phone's layout.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as tk-*.png, outside the repository.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# tasks browser tests skipped: " + skip);

const ADA = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Alpha", password: "anna-password", role: "member" };
const BORIS = { email: "boris@example.com", name: "Boris Beta", password: "boris-password", role: "member" };

const composer = (p) => p.getByRole("textbox", { name: "Message" });
const msg = (p, text) => p.locator(".msg", { hasText: text });

describe("tasks", { skip: skip || false, timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let adaT, annaT, borisT;
  let anna, boris;
  const ids = {};

  before(async () => {
    s = await stack({ users: [ADA, ANNA, BORIS] });
    adaT = await s.login(ADA.email, ADA.password);
    annaT = await s.login(ANNA.email, ANNA.password);
    borisT = await s.login(BORIS.email, BORIS.password);
    const users = (await s.api(adaT, "GET", "/users?limit=50")).users;
    for (const u of users) ids[u.name] = u.id;
    // Anna and Boris have a direct chat; Ada and Anna a multi-chat.
    const d = await s.api(annaT, "POST", "/conversations/direct", { user_id: ids[BORIS.name] });
    await s.api(borisT, "POST", `/conversations/${d.id}/allow`);
    ids.direct = d.id;
    const g = await s.api(adaT, "POST", "/conversations/group", { title: "Ops", user_ids: [ids[ANNA.name]] });
    ids.group = g.id;
    // A customer of a project, for "To table".
    const project = await s.api(adaT, "POST", "/projects", { name: "Acme Shop", origins: [SHOP_ORIGIN], chat_enabled: true });
    const vera = new Customer(s.parley.url, project.key);
    await vera.start({ name: "Vera Visitor", email: "vera@example.com" });
    await vera.send("Hello, where is my order?");
    ids.dialog = (await s.api(adaT, "GET", "/dialogs?limit=10")).dialogs[0].conversation.id;
  });

  after(async () => {
    await s?.close();
  });

  test("Create a task from the user panel: the assignee sees it live, with a notice", async () => {
    boris = await s.page({ path: "/tasks" });
    await s.signIn(boris, BORIS.email, BORIS.password);
    await boris.getByRole("heading", { name: "My tasks" }).waitFor();
    await boris.getByText("No tasks for you here.").waitFor();

    anna = await s.page({ path: `/c/${ids.direct}` });
    await s.signIn(anna, ANNA.email, ANNA.password);
    await composer(anna).waitFor();
    await composer(anna).fill("The supplier wants the contract signed by Friday");
    await composer(anna).press("Enter");
    await anna.locator(".chat-who").click();
    const panel = anna.getByRole("complementary", { name: "User information" });
    await panel.getByText(BORIS.email).waitFor();
    await panel.getByRole("button", { name: "Create a task" }).click();
    const form = anna.getByRole("dialog", { name: `New task for ${BORIS.name}` });
    await form.getByLabel("Title").fill("Sign the supplier contract");
    await form.getByLabel("Description").fill("Two copies, one goes back by post.");
    await form.getByLabel("Due").fill("2031-05-20T17:30");
    await s.shot(anna, "tk-01-create-desktop");
    await form.getByRole("button", { name: "Create task" }).click();
    await form.waitFor({ state: "detached" });
    await anna.getByText(/Task #\d+ created for Boris Beta/).waitFor();

    // Live on Boris's list, with the notice.
    const row = boris.locator(".task-row", { hasText: "Sign the supplier contract" });
    await row.waitFor();
    await boris.getByText("Anna Alpha assigned you a task: Sign the supplier contract").waitFor();
    ids.task = Number(await row.getAttribute("data-task"));
    const t = await s.api(borisT, "GET", `/tasks/${ids.task}`);
    assert.equal(t.assignee_id, ids[BORIS.name]);
    assert.equal(t.created_by, ids[ANNA.name]);
    assert.equal(t.conversation_id, ids.direct);
    assert.equal(new Date(t.due_at).getTime(), new Date(2031, 4, 20, 17, 30).getTime());

    // An overdue task is red, and its due time brings a notice.
    const soon = new Date(Date.now() + 1500).toISOString();
    await s.api(annaT, "POST", "/tasks", { title: "Call the bank back", assignee_id: ids[BORIS.name], due_at: soon });
    await boris.getByText("Your task is due: Call the bank back").waitFor({ timeout: 20_000 });
    await boris.reload();
    const late = boris.locator(".task-row.overdue", { hasText: "Call the bank back" });
    await late.waitFor();
    await late.getByText("Overdue", { exact: true }).waitFor();
    assert.equal(await boris.locator(".task-row.overdue", { hasText: "Sign the supplier contract" }).count(), 0);
    await s.shot(boris, "tk-02-my-tasks-desktop");

    // Anna's "Created by me"; a colleague who is neither sees nothing.
    await anna.goto(s.url + "/tasks?role=created&status=all");
    await anna.locator(".task-row", { hasText: "Sign the supplier contract" }).waitFor();
    const res = await fetch(s.parley.url + `/api/v1/tasks/${ids.task}`, { headers: { Authorization: "Bearer " + adaT } });
    assert.equal(res.status, 404);
  });

  test("Move to task: the message becomes a comment and stays, marked", async () => {
    await boris.goto(s.url + `/c/${ids.direct}`);
    const m = msg(boris, "The supplier wants the contract signed by Friday");
    await m.click({ button: "right" });
    await boris.getByRole("menuitem", { name: "Move to task…" }).click();
    const dlg = boris.getByRole("dialog", { name: "Move to task" });
    await dlg.getByRole("tab", { name: "To task" }).waitFor();
    await dlg.locator(".pick-row", { hasText: "Sign the supplier contract" }).click();
    await s.shot(boris, "tk-03-move-to-task-desktop");
    await dlg.getByRole("button", { name: "Move", exact: true }).click();
    await dlg.waitFor({ state: "detached" });
    // Marked for both sides of the chat, live.
    await m.locator(".link-mark", { hasText: `Task #${ids.task}` }).waitFor();
    await anna.goto(s.url + `/c/${ids.direct}`);
    await msg(anna, "The supplier wants the contract signed by Friday").locator(".link-mark", { hasText: `Task #${ids.task}` }).waitFor();

    // The task shows it as a comment that links back.
    await m.locator(".link-mark").click();
    await boris.getByRole("heading", { name: `Task #${ids.task}` }).waitFor();
    const c = boris.locator(".comments li", { hasText: "The supplier wants the contract signed by Friday" });
    await c.waitFor();
    await c.getByRole("link", { name: "Original message" }).waitFor();
    await boris.getByLabel("Status").selectOption("in_progress");
    await boris.locator(".task-card[data-status=in_progress]").waitFor();
    await s.shot(boris, "tk-04-task-detail-desktop");
    await c.getByRole("link", { name: "Original message" }).click();
    await msg(boris, "The supplier wants the contract signed by Friday").waitFor();

    // From the chat's own menu: a task for yourself, made in this chat.
    await boris.getByRole("button", { name: "Conversation menu" }).click();
    await boris.getByRole("menuitem", { name: "Create a task…" }).click();
    const form = boris.getByRole("dialog", { name: "New task" });
    await form.getByLabel("Title").fill("Buy a pen");
    await form.locator(".user-select-value", { hasText: BORIS.name }).waitFor();
    await form.getByRole("button", { name: "Create task" }).click();
    await boris.getByText(/Task #\d+ created for you/).waitFor();
    const mine = (await s.api(borisT, "GET", "/tasks?role=created")).tasks.find((t) => t.title === "Buy a pen");
    assert.equal(mine.assignee_id, ids[BORIS.name]);
    assert.equal(mine.conversation_id, ids.direct);
  });

  test("Move to task → To table: into a customer's card", async () => {
    const ada = await s.page({ path: `/c/${ids.group}` });
    await s.signIn(ada, ADA.email, ADA.password);
    await s.api(annaT, "POST", `/conversations/${ids.group}/messages`, { text: "Vera prefers to be called after 6 pm" });
    const m = msg(ada, "Vera prefers to be called after 6 pm");
    await m.click({ button: "right" });
    await ada.getByRole("menuitem", { name: "Move to task…" }).click();
    const dlg = ada.getByRole("dialog", { name: "Move to task" });
    await dlg.getByRole("tab", { name: "To table" }).click();
    await dlg.locator(".pick-row", { hasText: "Customer card" }).filter({ hasText: "Vera Visitor" }).click();
    await s.shot(ada, "tk-05-move-to-table-desktop");
    await dlg.getByRole("button", { name: "Move", exact: true }).click();
    await dlg.waitFor({ state: "detached" });
    await m.locator(".link-mark", { hasText: "Customer card" }).waitFor();

    // The customer's card shows it under History.
    await ada.goto(s.url + `/d/${ids.dialog}`);
    // The card is open beside the dialog on a wide screen.
    const card = ada.getByRole("complementary", { name: "Customer card" });
    await card.locator(".contact-history li", { hasText: "Vera prefers to be called after 6 pm" }).waitFor();
    await card.getByRole("heading", { name: "History" }).scrollIntoViewIfNeeded();
    await s.shot(ada, "tk-06-customer-history-desktop");

    // Anna may not see the customer: refused, and nothing is added.
    const contact = (await s.api(adaT, "GET", `/dialogs/${ids.dialog}`)).contact.id;
    const mid = (await s.api(annaT, "POST", `/conversations/${ids.group}/messages`, { text: "one more" })).id;
    const res = await fetch(s.parley.url + `/api/v1/messages/${mid}/move`, {
      method: "POST",
      headers: { Authorization: "Bearer " + annaT, "Content-Type": "application/json" },
      body: JSON.stringify({ target: "contact", target_id: contact }),
    });
    assert.equal(res.status, 404);
    assert.equal((await s.api(adaT, "GET", `/contacts/${contact}/notes`)).notes.length, 1);
    await ada.context().close();
  });

  test("phone width: My tasks, a task, Move to task", async () => {
    const p = await s.page({ viewport: { width: 390, height: 844 } });
    await s.signIn(p, BORIS.email, BORIS.password);
    await p.goto(s.url + "/tasks");
    await p.locator(".task-row", { hasText: "Sign the supplier contract" }).waitFor();
    await s.shot(p, "tk-07-my-tasks-phone");
    await p.locator(".task-row", { hasText: "Sign the supplier contract" }).click();
    await p.getByRole("heading", { name: `Task #${ids.task}` }).waitFor();
    await p.locator(".comments li").first().waitFor();
    await s.shot(p, "tk-08-task-phone");
    await p.goto(s.url + `/c/${ids.direct}`);
    await s.api(annaT, "POST", `/conversations/${ids.direct}/messages`, { text: "Also bring the stamp" });
    const m = msg(p, "Also bring the stamp");
    await m.click({ button: "right" });
    await p.getByRole("menuitem", { name: "Move to task…" }).click();
    const dlg = p.getByRole("dialog", { name: "Move to task" });
    await dlg.getByText("A new task").click();
    await until(async () => (await dlg.getByLabel("Title").inputValue()) === "Also bring the stamp");
    await s.shot(p, "tk-09-move-phone");
    await dlg.getByRole("button", { name: "Move", exact: true }).click();
    await dlg.waitFor({ state: "detached" });
    await m.locator(".link-mark").waitFor();
    await p.context().close();
  });
});
