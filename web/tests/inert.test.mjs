// Untrusted content is inert (issue 13): every string a user, a customer or
// an administrator can set carries script and markup payloads through the
// staff app and the widget, and nothing runs or is injected. window.__xss
// is exposed to every page, so a payload that runs is recorded (with its
// number, which names the field); the app's own CSP is bypassed, so it
// cannot hide a hole; and on every screen the DOM (shadow roots included)
// is searched for what the payloads' markup would create: elements with
// data-injected, on* attributes (the app and the widget set handlers as
// properties, never as attributes), <img src=x>, scripts, and links to
// javascript:, data: or vbscript: URLs. Each payload must show as text.
// Screens are visited at desktop and phone sizes; a 10,000-character
// message and 100-character names must not make the page scroll sideways.
//
// Screenshots go to $PARLEY_SCREENSHOTS as inert-*.png.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { png, skipReason, stack, startSite, until, Customer } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# inert browser tests skipped: " + skip);

// Payloads. n numbers the field, so a recorded call says which one broke.
const RTL = "\u202e"; // right-to-left override: "exe.png" shows as "gnp.exe"
const IMG = (n) => `<img src=x onerror=__xss(${n})>`;
/** At most 97 characters (labels up to 10), for fields of 100. */
const SHORT = (n, label) => `${label} ${IMG(n)}"><svg onload=__xss(${n})></title><b data-injected>{{7*7}}${RTL}`;
/** At most 50 characters, for tags and attribute names. */
const TINY = (n, label) => `${label}${IMG(n)}<b data-injected>`;
/** Every payload, for texts. */
const FULL = (n, label) =>
  `${label} <img src=x onerror="window.__xss(${n})"> <script>window.__xss(${n})</script> "><svg onload=window.__xss(${n})> ` +
  `</title><b data-injected>bold?</b> {{7*7}} javascript:window.__xss(${n}) [link](javascript:window.__xss(${n})) ${RTL}gnp.exe`;
/** The part of a payload that must show as text. */
const seen = (p) => p.slice(0, p.indexOf(">") + 1);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const MAL = { email: "mal@example.com", name: SHORT(1, "Mallory"), password: "mal-password", role: "agent" };
const T = {
  group: SHORT(2, "Group"),
  chat: SHORT(3, "Chat"),
  msg: FULL(4, "Message"),
  link:
    `Links https://example.com/"><img src=x onerror=__xss(5)> www.example.com/<svg/onload=__xss(5)> ` +
    `mailto:x@example.com"onmouseover="__xss(5) javascript:__xss(5) data:text/html,<script>__xss(5)</script>`,
  imgName: `${IMG(6)}${RTL}gnp.exe.png`,
  fileName: `"><svg onload=__xss(7)></title><b data-injected>.html`,
  tag: TINY(8, "T"),
  project: SHORT(9, "Project"),
  greeting: FULL(10, "Greeting"),
  offline: FULL(11, "Offline"),
  waiting: FULL(12, "Waiting"),
  shortcutText: FULL(13, "Shortcut"),
  customer: SHORT(14, "Customer"),
  email: `x"><img src=x onerror=__xss(15)>@example.com`,
  customerMsg: FULL(16, "Customer says"),
  attrName: TINY(17, "A"),
  attrValue: FULL(18, "Attribute"),
  quickShortcut: `<svg/onload=__xss(19)>`,
  quickText: FULL(20, "Quick"),
  comment: FULL(21, "Comment"),
  channel: SHORT(22, "Channel"),
  bot: SHORT(23, "Bot"),
  long: "Long " + FULL(24, "LongMsg").replace(RTL, "") + " " + "W".repeat(3000) + " " + "word ".repeat(1300),
  caseTitle: SHORT(25, "Case"),
  template: SHORT(26, "Template"),
  prechat: SHORT(27, "Field"),
  visitorMsg: FULL(28, "Visitor says"),
  staffReply: FULL(29, "Staff says"),
  visitorFile: `${IMG(30)}.txt`,
  quoteReply: FULL(31, "Reply"),
  phone: `+1 ${IMG(32)}`,
  reminder: FULL(33, "Reminder"),
};
T.long = T.long.slice(0, 10_000);

// A 64×48 PNG, so an image gets a preview (its name is the preview's alt text).
const PNG = png(64, 48);

describe("untrusted content is inert", { skip: skip || false, timeout: 600_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let site, adminT, malT, project, mal, staff;
  const contexts = []; // every context opened, closed before the offline test
  const hits = []; // every call of window.__xss, with the page it came from
  const ids = {};

  /** context opens a browser context whose pages record payloads that run; the app's CSP is bypassed so it hides nothing. */
  const context = async (viewport = { width: 1280, height: 800 }, extra = {}) => {
    const ctx = await s.browser.newContext({ viewport, baseURL: s.url, bypassCSP: true, ...extra });
    contexts.push(ctx);
    await ctx.exposeBinding("__xss", ({ page }, n) => hits.push({ n, url: page.url() }));
    ctx.on("page", (p) => {
      p.on("dialog", (d) => (hits.push({ n: "dialog: " + d.message(), url: p.url() }), d.dismiss().catch(() => {})));
      p.on("pageerror", (e) => console.error("[page error]", e.message));
    });
    return ctx;
  };

  /** scrollTop scrolls a conversation's (virtual) history to its top and lets it render there. */
  const scrollTop = async (p) => {
    const history = p.locator(".vlist.history");
    await history.evaluate((el) => (el.scrollTop = 0));
    await until(() => history.evaluate((el) => el.scrollTop === 0 && !!el.querySelector(".history-start")), 10_000).catch(() => {});
  };
  /** answer evaluates fn in the page, failing (instead of waiting forever) when the page's main thread is stuck. */
  const answer = (page, fn, arg) => {
    let timer;
    const stuck = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`the page ${page.url()} does not answer: its main thread is stuck`)), 20_000)));
    return Promise.race([page.evaluate(fn, arg), stuck]).finally(() => clearTimeout(timer));
  };
  const problems = []; // what inspect found, asserted empty at the end of each test
  const clean = () => {
    const p = problems.splice(0);
    const h = hits.splice(0);
    assert.deepEqual({ problems: p, ran: h }, { problems: [], ran: [] });
  };

  /**
   * inspect checks a screen: no payload ran, no markup was injected
   * anywhere in the document or its shadow roots, each of texts shows as
   * text, no right-to-left override reaches past the string it came in,
   * and nothing scrolls sideways.
   */
  const inspect = async (page, where, texts = [], { sideways = true } = {}) => {
    for (const t of texts) {
      const shown = await until(
        () =>
          answer(page, (t) => {
            const all = [document.body.innerText];
            for (const el of document.querySelectorAll("*")) if (el.shadowRoot) all.push(el.shadowRoot.textContent);
            return all.some((x) => x.includes(t));
          }, t),
        10_000,
      ).catch(() => false);
      if (!shown) problems.push(`${where}: ${JSON.stringify(t)} is not shown as text`);
    }
    const found = await answer(page, () => {
      const bad = [];
      const isolating = (el) => {
        const cs = getComputedStyle(el);
        return /isolate|plaintext/.test(cs.unicodeBidi) || !cs.display.startsWith("inline") || el.tagName === "BDI";
      };
      const walk = (root) => {
        for (const el of root.querySelectorAll("*")) {
          const tag = el.tagName.toLowerCase();
          if (el.hasAttribute("data-injected")) bad.push(`<${tag} data-injected>`);
          for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(`<${tag} ${a.name}="${a.value}">`);
          if (tag === "img" && el.getAttribute("src") === "x") bad.push("<img src=x>");
          if (tag === "script" && el.textContent.includes("__xss")) bad.push("<script>" + el.textContent + "</script>");
          for (const attr of ["href", "src", "action", "formaction"]) {
            const v = (el.getAttribute(attr) || "").replace(/[\s\u0000-\u001f]/g, "");
            if (/^(javascript|vbscript|data:text):?/i.test(v)) bad.push(`<${tag} ${attr}="${v}">`);
          }
          if (el.shadowRoot) walk(el.shadowRoot);
        }
        // A right-to-left override reverses what follows it up to the end
        // of its paragraph or isolate: it must end with its own text.
        const tw = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = tw.nextNode(); n; n = tw.nextNode()) {
          const i = n.data.lastIndexOf("\u202e");
          if (i < 0 || /[\u202c\u2069]/.test(n.data.slice(i))) continue;
          let box = n.parentElement;
          while (box && !isolating(box)) box = box.parentElement;
          if (!box || box.closest("textarea, title, style, script")) continue;
          const after = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
          after.currentNode = n;
          // The payloads' own text after the override: "gnp.exe", "gnp.exe.png".
          let rest = n.data.slice(i + 1).replace(/^gnp\.exe(\.png)?/, "");
          for (let m = after.nextNode(); m && rest.trim().length < 40; m = after.nextNode()) rest += m.data;
          if (rest.trim()) bad.push(`right-to-left override reaches "${rest.trim().slice(0, 40)}" in <${box.tagName.toLowerCase()} class="${box.className}">`);
        }
      };
      walk(document);
      if (/[<>]/.test(document.title)) bad.push("title: " + document.title);
      return bad;
    });
    for (const f of new Set(found)) problems.push(`${where}: ${f}`);
    for (const h of hits.splice(0)) problems.push(`${where}: payload ${h.n} ran (${h.url})`);
    if (sideways) {
      const over = await answer(page, () => document.scrollingElement.scrollWidth - window.innerWidth);
      if (over > 0) problems.push(`${where}: the page scrolls sideways by ${over} px`);
    }
  };

  before(async () => {
    s = await stack({
      users: [ADMIN, MAL],
      serverArgs: ["--max-message-length", "10000", "--send-rate", "1000", "--send-burst", "1000"],
    });
    site = await startSite();
    adminT = await s.login(ADMIN.email, ADMIN.password);
    malT = await s.login(MAL.email, MAL.password);
    const users = (await s.api(adminT, "GET", "/users?limit=50")).users;
    ids.mal = users.find((u) => u.email === MAL.email).id;
    ids.admin = users.find((u) => u.email === ADMIN.email).id;

    // Team chat: an organisation group, a multi-chat, a direct chat, messages of every kind.
    await s.api(adminT, "POST", "/groups", { name: T.group, member_ids: [ids.mal, ids.admin] });
    const chat = await s.api(malT, "POST", "/conversations/group", { title: T.chat, user_ids: [ids.admin] });
    ids.chat = chat.id;
    const send = (token, conv, body) => s.api(token, "POST", `/conversations/${conv}/messages`, { client_id: randomUUID(), ...body });
    const upload = async (token, name, type, body) => {
      const r = await fetch(s.parley.url + "/api/v1/files?name=" + encodeURIComponent(name), {
        method: "POST",
        headers: { Authorization: "Bearer " + token, "Content-Type": type },
        body,
      });
      assert.equal(r.status, 201, await r.clone().text());
      return r.json();
    };
    const m = await send(malT, ids.chat, { text: T.msg });
    ids.msg = m.id;
    ids.long = (await send(malT, ids.chat, { text: T.long })).id;
    ids.link = (await send(malT, ids.chat, { text: T.link })).id;
    const img = await upload(malT, T.imgName, "image/png", PNG);
    assert.ok(img.has_thumbnail, "the PNG has a preview");
    // The server drops direction overrides from file names (no "exe.png" that is an .exe).
    assert.equal(img.name, T.imgName.replace(RTL, ""));
    T.imgName = img.name;
    const doc = await upload(malT, T.fileName, "text/html", Buffer.from("<script>parent.__xss(7)</script>"));
    // The server keeps a file name's last path element: "title><b data-injected>.html".
    T.storedFileName = doc.name;
    assert.equal(doc.name, "title><b data-injected>.html");
    ids.files = (await send(malT, ids.chat, { text: "", file_ids: [img.id, doc.id] })).id;
    await send(adminT, ids.chat, { text: T.quoteReply, quote_id: ids.msg });
    const dm = await s.api(malT, "POST", "/conversations/direct", { user_id: ids.admin });
    await s.api(adminT, "POST", `/conversations/${dm.id}/allow`);
    ids.dm = dm.id;
    await send(malT, ids.dm, { text: T.msg });
    const rem = await send(malT, ids.dm, { text: T.reminder });
    ids.reminderMsg = rem.id;

    // Live chat: a project with every text, its tag, channel, template, bot, quick reply.
    const tpl = await s.api(adminT, "POST", "/case-templates", { name: T.template, fields: [] });
    project = await s.api(adminT, "POST", "/projects", {
      name: T.project,
      origins: [site.url],
      chat_enabled: true,
      case_template_id: tpl.id,
      messages: { greeting: T.greeting, offline: T.offline, waiting: T.waiting, shortcuts: [{ name: "hello", text: T.shortcutText }] },
      prechat_fields: [{ name: "order", label: T.prechat, required: false }],
    });
    for (const u of [ids.mal, ids.admin]) await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: u, level: 1 });
    const tag = await s.api(adminT, "POST", "/tags", { name: T.tag, color: "#e5484d" });
    await s.api(adminT, "POST", "/channels", { project_id: project.id, kind: "api", name: T.channel, settings: { url: "http://127.0.0.1:9/reply" } });
    await s.api(adminT, "POST", "/bots", { name: T.bot });
    await s.api(adminT, "POST", "/quick-replies", { shortcut: T.quickShortcut, text: T.quickText });

    // Mallory is online, so the customer's message is a chat.
    staff = await s.staffOnline(MAL.email, MAL.password);
    await until(async () => (await fetch(`${s.parley.url}/api/v1/widget/projects/${project.key}`, { headers: { Origin: site.url } }).then((r) => r.json())).online);
    const c = new Customer(s.parley.url, project.key, site.url);
    await c.start({ name: T.customer, email: T.email, page_url: "https://shop.example/<script>__xss(34)</script>" });
    await c.send(T.customerMsg);
    const f = await c.upload(Buffer.from("hello"), T.visitorFile, "text/plain");
    await c.req("POST", "/messages", { client_id: randomUUID(), text: "", file_ids: [f.id] });
    const d = await until(async () => (await s.api(adminT, "GET", "/dialogs?limit=50")).dialogs.find((x) => x.contact?.name === T.customer));
    ids.dialog = d.conversation.id;
    ids.contact = d.contact.id;
    await s.api(adminT, "PATCH", `/contacts/${ids.contact}`, { phone: T.phone, attributes: { [T.attrName]: T.attrValue, site: 'javascript:__xss(35)' } });
    await s.api(adminT, "PUT", `/contacts/${ids.contact}/tags/${tag.id}`, { pinned: true });
    await s.api(malT, "POST", `/dialogs/${ids.dialog}/connect`);
    await send(malT, ids.dialog, { text: T.staffReply });
    const k = await s.api(malT, "POST", `/dialogs/${ids.dialog}/case`, { title: T.caseTitle });
    ids.case = k.id;
    await s.api(malT, "POST", `/cases/${ids.case}/comments`, { text: T.comment });
  });

  after(async () => {
    await site?.stop();
    await s?.close();
  });

  test("the staff app, on a desktop: chats, messages, search, a reminder, the user panel", async () => {
    const ctx = await context();
    const a = await ctx.newPage();
    await a.goto(s.url + "/");
    await s.signIn(a, ADMIN.email, ADMIN.password);
    // The chat list: a multi-chat and a direct chat named by payloads.
    await inspect(a, "chat list", [seen(T.chat), seen(MAL.name)]);
    // The multi-chat: every message, links, files, the quote, 10,000
    // characters. The history is virtual: the newest are checked at the
    // bottom, the older ones after scrolling to the top.
    await a.goto(s.url + `/c/${ids.chat}`);
    await inspect(a, "multi-chat", [seen(T.chat), seen(T.quoteReply), "Links https://example.com/", T.storedFileName]);
    // The link is cut before the quote; nothing else became a link.
    const hrefs = await a.locator(".msg a[href]").evaluateAll((l) => l.map((x) => x.getAttribute("href")));
    for (const h of hrefs) if (!/^(https:\/\/example\.com\/|https:\/\/www\.example\.com\/|mailto:x@example\.com|\/api\/v1\/files\/\d+)/.test(h)) problems.push("multi-chat: a link to " + h);
    if (!hrefs.includes("https://example.com/")) problems.push("multi-chat: the web link is missing: " + hrefs.join(" "));
    if ((await a.getByRole("img", { name: T.imgName }).count()) !== 1) problems.push("the image's name is not its alt text");
    await s.shot(a, "inert-01-multichat");
    await scrollTop(a);
    await inspect(a, "multi-chat, scrolled up", [seen(T.msg), "LongMsg", "W".repeat(100)]);
    await s.shot(a, "inert-01a-long");
    // The image's large view.
    await a.goto(s.url + `/c/${ids.chat}`);
    await a.locator(".img-btn").first().click();
    await inspect(a, "image view", [T.imgName]);
    await a.keyboard.press("Escape");
    // The group's members and title in the chat's panel.
    await a.locator(".chat-who").click();
    await inspect(a, "multi-chat panel", [seen(MAL.name)]);
    await a.keyboard.press("Escape");

    // The direct chat and the user panel.
    await a.goto(s.url + `/c/${ids.dm}`);
    await inspect(a, "direct chat", [seen(MAL.name), seen(T.reminder)]);
    await a.locator(".chat-who").click();
    await a.getByRole("complementary", { name: "User information" }).waitFor();
    await inspect(a, "user panel", [seen(MAL.name), seen(T.group)]);
    await s.shot(a, "inert-02-user-panel");

    // A reminder comes due: its toast.
    await s.api(adminT, "PUT", `/messages/${ids.reminderMsg}/reminder`, { remind_at: new Date(Date.now() + 2000).toISOString() });
    await a.goto(s.url + "/");
    await a.locator(".toast.reminder").waitFor({ timeout: 20_000 });
    await inspect(a, "reminder toast", [seen(T.reminder)]);
    await s.shot(a, "inert-03-reminder-toast");

    // A new message while elsewhere: the list's preview and the unread title.
    await s.api(malT, "POST", `/conversations/${ids.dm}/messages`, { client_id: randomUUID(), text: SHORT(36, "Live") });
    await inspect(a, "live message", [seen(SHORT(36, "Live"))]);

    // Search: the sidebar's results with their highlights, and in a conversation.
    await a.getByLabel("Search conversations, people and messages").fill("onerror");
    await a.locator(".sidebar .conv-row", { hasText: "onerror" }).first().waitFor();
    await inspect(a, "sidebar search", ["onerror"]);
    await s.shot(a, "inert-04-search");
    await a.getByLabel("Search conversations, people and messages").fill("Mallory");
    await inspect(a, "people search", [seen(MAL.name)]);
    await a.getByLabel("Search conversations, people and messages").press("Escape");
    await a.goto(s.url + `/c/${ids.chat}`);
    await a.getByLabel("Search in this conversation").fill("svg onload");
    await a.locator(".search-hit mark").first().waitFor();
    await inspect(a, "search in a conversation", ["svg onload"]);

    // Administration: users, groups, tags, bots, projects and their texts.
    for (const [path, texts] of [
      ["/admin/users", [seen(MAL.name)]],
      ["/admin/groups", [seen(T.group)]],
      ["/admin/tags", [seen(T.tag)]],
      ["/admin/bots", [seen(T.bot)]],
      ["/admin/projects", [seen(T.project)]],
      [`/admin/projects/${project.id}`, [seen(T.project)]],
      [`/admin/projects/${project.id}/messages`, []],
      [`/admin/projects/${project.id}/specialists`, [seen(MAL.name)]],
      [`/admin/projects/${project.id}/channels`, [seen(T.channel)]],
      [`/admin/projects/${project.id}/cases`, []],
      ["/settings", []],
    ]) {
      await a.goto(s.url + path);
      await a.locator(".layout").waitFor();
      await inspect(a, path, texts);
    }
    // Form fields hold the payloads as values.
    await a.goto(s.url + `/admin/projects/${project.id}/messages`);
    await until(() => a.evaluate((g) => [...document.querySelectorAll("textarea")].some((t) => t.value.startsWith(g)), T.greeting));
    await inspect(a, "project texts", []);
    await s.shot(a, "inert-05-project-texts");
    await ctx.close();
    clean();
  });

  test("the support inbox: the list, the dialog, the customer card, quick replies, cases", async () => {
    const ctx = await context();
    const a = await ctx.newPage();
    await a.goto(s.url + "/inbox");
    await s.signIn(a, ADMIN.email, ADMIN.password);
    await inspect(a, "inbox list", [seen(T.customer), seen(T.tag)]);
    await a.goto(s.url + `/inbox/${ids.dialog}`);
    const card = a.getByRole("complementary", { name: "Customer card" });
    await card.waitFor();
    await inspect(a, "inbox dialog", [seen(T.customerMsg), seen(T.staffReply), T.visitorFile, seen(T.attrName), seen(T.attrValue), T.email, seen(T.phone), seen(T.tag), seen(T.caseTitle)]);
    // The attribute that looks like a link is text, not a link.
    assert.equal(await card.locator("a", { hasText: "javascript:" }).count(), 0);
    await s.shot(a, "inert-06-inbox-dialog");
    // Quick replies: the lightning panel lists the user's own and the project's shortcuts.
    await s.api(adminT, "POST", `/dialogs/${ids.dialog}/connect`);
    await a.getByRole("button", { name: "Quick replies" }).click();
    await a.getByRole("dialog", { name: "Quick replies" }).waitFor();
    await inspect(a, "quick replies", [T.quickShortcut, seen(T.quickText), "/hello"]);
    await s.shot(a, "inert-06a-quick-replies");
    await a.keyboard.press("Escape");
    // The live-chat view of the same dialog.
    await a.goto(s.url + `/d/${ids.dialog}`);
    await inspect(a, "dialog", [seen(T.customerMsg), seen(T.staffReply)]);
    // Cases.
    await a.goto(s.url + "/cases?status=all");
    await inspect(a, "cases", [seen(T.caseTitle)]);
    await a.goto(s.url + `/cases/${ids.case}`);
    await inspect(a, "a case", [seen(T.caseTitle), seen(T.comment), seen(T.customer)]);
    await s.shot(a, "inert-07-case");
    // The queue and the project's figures.
    await a.goto(s.url + `/queue/${project.id}`);
    await inspect(a, "queue", []);
    await a.goto(s.url + `/admin/projects/${project.id}/metrics`);
    await inspect(a, "metrics", []);
    await ctx.close();
    clean();
  });

  test("a phone: the list, a conversation with the long message, a dialog", async () => {
    const ctx = await context({ width: 390, height: 844 }, { isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await p.goto(s.url + "/");
    await s.signIn(p, ADMIN.email, ADMIN.password);
    await inspect(p, "phone: chat list", [seen(T.chat)]);
    await p.goto(s.url + `/c/${ids.chat}`);
    await inspect(p, "phone: multi-chat", [seen(T.quoteReply)]);
    await s.shot(p, "inert-08a-phone-chat-bottom");
    await scrollTop(p);
    await inspect(p, "phone: multi-chat, scrolled up", [seen(T.msg), "LongMsg"]);
    await s.shot(p, "inert-08-phone-chat");
    await p.goto(s.url + `/inbox/${ids.dialog}`);
    await inspect(p, "phone: dialog", [seen(T.customerMsg)]);
    await p.goto(s.url + `/cases/${ids.case}`);
    await inspect(p, "phone: case", [seen(T.caseTitle)]);
    await ctx.close();
    clean();
  });

  test("the widget on a host page: project texts, pre-chat label, messages, names and files both ways", async () => {
    site.pages["/"] = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><h1>Shop</h1><script async src="${s.url}/widget.js" data-project="${project.key}"></script></body></html>`;
    for (const [label, viewport] of [
      ["desktop", { width: 1280, height: 800 }],
      ["phone", { width: 375, height: 700 }],
    ]) {
      const known = new Set((await s.api(adminT, "GET", "/dialogs?limit=100")).dialogs.map((x) => x.conversation.id));
      const ctx = await context(viewport, { baseURL: site.url });
      const v = await ctx.newPage();
      await v.goto(site.url + "/");
      await v.getByRole("button", { name: /^Open chat/ }).click();
      const panel = v.getByRole("dialog");
      await panel.getByRole("button", { name: "Start chat" }).waitFor();
      await inspect(v, `widget (${label}): pre-chat form`, [seen(T.greeting), seen(T.prechat)]);
      await panel.getByRole("button", { name: "Start chat" }).click();
      await panel.getByRole("textbox", { name: "Message" }).fill(T.visitorMsg);
      await panel.getByRole("textbox", { name: "Message" }).press("Enter");
      await inspect(v, `widget (${label}): waiting`, [seen(T.visitorMsg), seen(T.waiting)]);
      // A file with a payload name, from the visitor.
      await v.evaluate((name) => {
        const dt = new DataTransfer();
        dt.items.add(new File(["hello"], name, { type: "text/plain" }));
        const target = document.querySelector("#parley-chat").shadowRoot.querySelector(".pan");
        for (const t of ["dragenter", "dragover", "drop"]) target.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, T.visitorFile);
      await inspect(v, `widget (${label}): the visitor's file`, [T.visitorFile]);
      // Mallory (a payload name) connects and answers with text, a link, an image and a file.
      const d = await until(async () => (await s.api(adminT, "GET", "/dialogs?limit=100")).dialogs.find((x) => !known.has(x.conversation.id)));
      known.add(d.conversation.id);
      await s.api(malT, "POST", `/dialogs/${d.conversation.id}/connect`);
      const upload = async (name, type, body) => {
        const r = await fetch(s.parley.url + "/api/v1/files?name=" + encodeURIComponent(name), {
          method: "POST",
          headers: { Authorization: "Bearer " + malT, "Content-Type": type },
          body,
        });
        return r.json();
      };
      const img = await upload(T.imgName, "image/png", PNG);
      const doc = await upload(T.fileName, "text/html", Buffer.from("<script>parent.__xss(7)</script>"));
      for (const body of [{ text: T.staffReply }, { text: T.link }, { text: "", file_ids: [img.id, doc.id] }])
        await s.api(malT, "POST", `/conversations/${d.conversation.id}/messages`, { client_id: randomUUID(), ...body });
      await inspect(v, `widget (${label}): the answers`, [seen(T.staffReply), "Links https://example.com/", T.storedFileName, "Chatting with Mallory"]);
      const hrefs = await v.evaluate(() => [...document.querySelector("#parley-chat").shadowRoot.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")));
      // The widget links as the app does (markup.ts): http, https, www. and mailto only.
      for (const h of hrefs)
        assert.match(h, /^(https:\/\/(www\.)?example\.com\/|mailto:x@example\.com$|http:\/\/127\.0\.0\.1:\d+\/api\/v1\/widget\/files\/)/, "widget link " + h);
      await s.shot(v, `inert-09-widget-${label}`);
      await s.api(malT, "POST", `/dialogs/${d.conversation.id}/close`);
      await ctx.close();
    }
    clean();
  });

  test("the widget while nobody is online: the offline text", async () => {
    // Nobody stays signed in: a test that failed may have left its pages open.
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    await staff.evaluate(() => window.ws.close());
    await until(async () => !(await fetch(`${s.parley.url}/api/v1/widget/projects/${project.key}`, { headers: { Origin: site.url } }).then((r) => r.json())).online, 20_000);
    const ctx = await context({ width: 1280, height: 800 }, { baseURL: site.url });
    const v = await ctx.newPage();
    await v.goto(site.url + "/");
    await v.getByRole("button", { name: /^Open chat/ }).click();
    await inspect(v, "widget: offline", [seen(T.offline)]);
    await s.shot(v, "inert-10-widget-offline");
    await ctx.close();
    clean();
  });
});
