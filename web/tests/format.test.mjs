// Browser tests of formatting, link previews and cards (issue 14): Anna
// writes a formatted message with a link to a page served here on
// 127.0.0.1 (Parley runs with --preview-allow-cidrs 127.0.0.0/8) and a card
// of a customer's case she picked with the composer's database search.
// Her message renders bold, italic, code, a list and a quote as elements;
// the page's preview (title, site, Parley's thumbnail of its image)
// appears under it live, without a reload; the case card shows the case to
// Anna and Boris (the project's staff) and "A case you cannot open" to Mia,
// a member who may not see it. Anna removes the preview.
//
// Screenshots go to $PARLEY_SCREENSHOTS (default $TMPDIR/parley-screenshots)
// as fmt-*.png, outside the repository.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { png, skipReason, stack, until, Customer, SHOP_ORIGIN } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# format browser tests skipped: " + skip);

const ADMIN = { email: "ada@example.com", name: "Ada Admin", password: "ada-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Agent", password: "anna-password", role: "agent" };
const MIA = { email: "mia@example.com", name: "Mia Member", password: "mia-password", role: "member" };
const PHONE = { width: 390, height: 844 };

const composer = (p) => p.getByRole("textbox", { name: "Message" });

/** site serves an article with OpenGraph tags and its image on 127.0.0.1, counting fetches. */
function site() {
  const pic = png(600, 300);
  const s = { url: "", fetches: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === "/article") {
      s.fetches++;
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><title>fallback</title>
        <meta property="og:title" content="Autumn release notes">
        <meta property="og:description" content="Formatting, previews and cards: what is new this autumn.">
        <meta property="og:site_name" content="Parley Blog">
        <meta property="og:image" content="/pic.png"></head><body>article</body></html>`);
      return;
    }
    if (req.url === "/pic.png") {
      res.writeHead(200, { "Content-Type": "image/png" });
      res.end(pic);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      s.url = `http://127.0.0.1:${server.address().port}`;
      s.stop = () => new Promise((r) => (server.close(() => r()), server.closeAllConnections?.()));
      resolve(s);
    }),
  );
}

describe("formatting, link previews and cards", { skip: skip || false, timeout: 300_000 }, () => {
  let s, web, kase, group;

  before(async () => {
    web = await site();
    s = await stack({ users: [ADMIN, ANNA, MIA], serverArgs: ["--preview-allow-cidrs", "127.0.0.0/8"] });
    const adminT = await s.login(ADMIN.email, ADMIN.password);
    const annaT = await s.login(ANNA.email, ANNA.password);
    const anna = await s.api(annaT, "GET", "/me");
    const mia = await s.api(adminT, "GET", "/users?q=mia");
    const project = await s.api(adminT, "POST", "/projects", { name: "Acme Shop", origins: [SHOP_ORIGIN], chat_enabled: true });
    await s.api(adminT, "POST", `/projects/${project.id}/specialists`, { user_id: (anna.user || anna).id, level: 1 });
    // Nobody is online: the customer's question becomes a case.
    const c = new Customer(s.parley.url, project.key);
    await c.start({ name: "Olga Customer", email: "olga@shop.example" });
    await c.send("Where is my parcel?");
    kase = await until(async () => (await s.api(adminT, "GET", "/cases")).cases[0]);
    const miaId = (mia.users || mia)[0].id;
    group = await s.api(annaT, "POST", "/conversations/group", { title: "Orders", user_ids: [miaId] });
  });

  after(async () => {
    await s?.close();
    await web?.stop();
  });

  test("a formatted message with a live preview and a card each reader sees by their rights", async () => {
    const a = await s.page();
    await s.signIn(a, ANNA.email, ANNA.password);
    await a.locator(".conv-row", { hasText: "Orders" }).click();

    // A card from the database search.
    await a.getByRole("button", { name: "Insert information from the database" }).click();
    await a.getByRole("searchbox", { name: "Find a record" }).fill("olga");
    await a.locator(".card-result", { hasText: `#${kase.id}` }).waitFor();
    await s.shot(a, "fmt-desktop-picker");
    await a.locator(".card-result", { hasText: `#${kase.id}` }).click();
    await a.locator(".card-chip", { hasText: `#${kase.id}` }).waitFor();

    const text = [
      "**Release** is _out_, see `v2.1` and ~~old~~ notes:",
      `${web.url}/article`,
      "- one",
      "- two",
      "> quoted",
    ].join("\n");
    await composer(a).fill(text);
    await composer(a).press("Enter");

    const mine = a.locator(".msg.mine", { hasText: "Release" });
    await mine.waitFor();
    assert.equal(await mine.locator(".text strong").textContent(), "Release");
    assert.equal(await mine.locator(".text em").textContent(), "out");
    assert.equal(await mine.locator(".text code").textContent(), "v2.1");
    assert.equal(await mine.locator(".text del").textContent(), "old");
    assert.equal(await mine.locator(".text li").count(), 2);
    assert.equal(await mine.locator(".text blockquote").textContent(), "quoted");
    assert.equal(await mine.locator(".text a").getAttribute("href"), `${web.url}/article`);

    // The preview arrives live: the server fetched the page.
    const card = mine.locator(".link-card");
    await card.waitFor({ timeout: 15_000 });
    assert.match(await card.textContent(), /Parley Blog.*Autumn release notes.*what is new/);
    const img = await card.locator("img").getAttribute("src");
    assert.match(img, /^\/api\/v1\/link-images\/[0-9a-f]{32}$/, "the image is Parley's, not the site's");
    await until(() => card.locator("img").evaluate((i) => i.complete && i.naturalWidth > 0));
    assert.equal(web.fetches, 1);

    // Anna sees the case.
    await mine.locator(".db-card", { hasText: `#${kase.id}` }).waitFor();
    await s.shot(a, "fmt-desktop-anna");

    // Mia, who does not serve the project, is told only that it is a case
    // she cannot open.
    const m = await s.page({ viewport: PHONE });
    await s.signIn(m, MIA.email, MIA.password);
    await m.locator(".conv-row", { hasText: "Orders" }).click();
    const theirs = m.locator(".msg", { hasText: "Release" });
    await theirs.waitFor();
    await theirs.locator(".db-card.hidden", { hasText: "A case you cannot open" }).waitFor();
    assert.equal(await theirs.locator(".db-card", { hasText: kase.title || "parcel" }).count(), 0);
    assert.ok(!(await theirs.textContent()).includes("Olga"), "nothing of the case leaks to Mia");
    await theirs.locator(".link-card").waitFor();
    assert.equal(await theirs.locator(".link-card-x").count(), 0, "only the sender removes a preview");
    await s.shot(m, "fmt-phone-mia");

    // Anna removes the preview: it goes on both screens.
    await card.hover();
    await card.getByRole("button", { name: "Remove the preview" }).click();
    await card.waitFor({ state: "detached" });
    await theirs.locator(".link-card").waitFor({ state: "detached" });
    await a.context().close();
    await m.context().close();
  });

  test("Ctrl+B and Ctrl+I wrap the selection", async () => {
    const a = await s.page();
    await s.signIn(a, ANNA.email, ANNA.password);
    await a.locator(".conv-row", { hasText: "Orders" }).click();
    await composer(a).fill("make this strong");
    await composer(a).evaluate((t) => t.setSelectionRange(10, 16));
    await composer(a).press("Control+b");
    assert.equal(await composer(a).inputValue(), "make this **strong**");
    await composer(a).evaluate((t) => t.setSelectionRange(5, 9));
    await composer(a).press("Control+i");
    assert.equal(await composer(a).inputValue(), "make _this_ **strong**");
    await composer(a).press("Enter");
    const msg = a.locator(".msg.mine", { hasText: "make this strong" });
    await msg.waitFor();
    assert.equal(await msg.locator("strong").textContent(), "strong");
    assert.equal(await msg.locator("em").textContent(), "this");
    await a.context().close();
  });
});
