// Browser tests of the widget's languages (i18n/, docs/livechat.md
// "Language"): host pages in Russian and in Spanish show the widget in that
// language — the bubble, the panel, the forms, the messages' states, the
// errors, the rating — while what the project's admin wrote (the greeting)
// stays as written; the snippet's data-lang wins over the page; without a
// page language the browser's languages choose. Nothing may stick out of the
// panel (Russian and Spanish are longer than English), checked at desktop and
// phone width. Screenshots go to $PARLEY_SCREENSHOTS (i*.png).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { distDir, skipReason, stack, startSite, until } from "./harness.mjs";

const skip = skipReason() || (existsSync(path.join(distDir, "widget-ru.js")) ? "" : "web/dist/widget-ru.js is not built (npm run build)");
if (skip) console.log("# widget language tests skipped: " + skip);

const OLGA = { email: "olga@example.com", name: "Olga Owner", password: "olga-password", role: "admin" };
const ANNA = { email: "anna@example.com", name: "Anna Berg", password: "anna-password", role: "member" };
const GREETING = "Hi! How can we help you today?";

function hostPage(parley, key, { lang, dataLang, body }) {
  return `<!doctype html>
<html${lang ? ` lang="${lang}"` : ""}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme</title>
<style>body { margin: 0; font: 17px/1.6 Georgia, serif; background: #fbf7ef; } main { padding: 40px; max-width: 640px; }</style>
</head><body><main>${body}</main>
<script async src="${parley}/widget.js" data-project="${key}"${dataLang ? ` data-lang="${dataLang}"` : ""}></script>
</body></html>`;
}

const panel = (p) => p.getByRole("dialog", { name: /Acme Teapots/ });

/** overflow lists the widget's elements that stick out of the panel or cut their own text. */
const overflow = (p) =>
  p.evaluate(() => {
    const root = document.querySelector("#parley-chat").shadowRoot;
    const pan = root.querySelector(".pan").getBoundingClientRect();
    const bad = [];
    for (const el of root.querySelectorAll(".pan *")) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const name = el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className : "") + ` “${(el.textContent || "").slice(0, 30)}”`;
      if (r.left < pan.left - 0.5 || r.right > pan.right + 0.5) bad.push(name + ` sticks out (${Math.round(r.left)}–${Math.round(r.right)} of ${Math.round(pan.left)}–${Math.round(pan.right)})`);
      const s = getComputedStyle(el);
      if (el.children.length === 0 && s.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1 && s.textOverflow !== "ellipsis")
        bad.push(name + ` cuts its text (${el.scrollWidth} > ${el.clientWidth})`);
    }
    return bad;
  });

/** fits lists the texts that would not fit on the message box's one line (its placeholders). */
const fits = (p, texts) =>
  p.evaluate((texts) => {
    const ta = document.querySelector("#parley-chat").shadowRoot.querySelector(".cmp textarea");
    const v = ta.value;
    ta.value = "";
    const one = ta.scrollHeight;
    const bad = texts.filter((t) => ((ta.value = t), ta.scrollHeight > one));
    ta.value = v;
    return bad;
  }, texts);
const PLACEHOLDERS = {
  ru: ["Напишите сообщение…", "Начните новый чат…"],
  es: ["Escriba un mensaje…", "Escriba para iniciar otro chat…"],
};

describe("widget languages", { skip: skip || false, timeout: 240_000 }, () => {
  let s, site, olga, anna, project;

  const dialogs = async () => (await s.api(anna, "GET", `/dialogs?project=${project.id}&status=open`)).dialogs;

  before(async () => {
    s = await stack({ users: [OLGA, ANNA] });
    [olga, anna] = await Promise.all([s.login(OLGA.email, OLGA.password), s.login(ANNA.email, ANNA.password)]);
    site = await startSite();
    const me = await s.api(anna, "GET", "/me");
    project = await s.api(olga, "POST", "/projects", { name: "Acme Teapots", origins: [site.url], chat_enabled: true, messages: { greeting: GREETING } });
    await s.api(olga, "POST", `/projects/${project.id}/specialists`, { user_id: me.id ?? me.user?.id, level: 1 });
    const page = (o) => hostPage(s.url, project.key, o);
    site.pages["/ru"] = page({ lang: "ru", body: "<h1>Чайники ручной работы</h1><p>Вопросы о заказе? Спросите нас в чате.</p>" });
    site.pages["/es"] = page({ lang: "es-419", body: "<h1>Teteras hechas a mano</h1><p>¿Preguntas sobre su pedido? Escríbanos en el chat.</p>" });
    site.pages["/explicit"] = page({ lang: "ru", dataLang: "es", body: "<h1>Страница на русском, виджет на испанском</h1>" });
    site.pages["/nolang"] = page({ body: "<h1>No language</h1>" });
  });

  after(async () => {
    await site?.stop();
    await s?.close();
  });

  test("a Russian page, nobody online: the widget speaks Russian", async () => {
    const ctx = await s.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
    const v = await ctx.newPage();
    v.on("pageerror", (e) => console.error("[visitor page error]", e.message));
    await v.goto(site.url + "/ru");
    await v.getByRole("button", { name: "Открыть чат" }).click();
    await panel(v).waitFor();
    assert.equal(await panel(v).getAttribute("aria-label"), "Чат с Acme Teapots");
    assert.equal(await v.locator("#parley-chat").getAttribute("lang"), "ru");
    await panel(v).getByText("Не в сети · оставьте сообщение").waitFor();
    await panel(v).getByText("Сейчас мы не в сети. Оставьте сообщение, и мы Вам ответим.").waitFor();
    await panel(v).getByText(GREETING).waitFor(); // the admin's text, as written
    await panel(v).getByRole("heading", { name: "Куда Вам ответить?" }).waitFor();
    await panel(v).getByRole("button", { name: "Продолжить без e-mail" }).waitFor();
    await s.shot(v, "i01-ru-offline-email");
    assert.deepEqual(await overflow(v), []);

    await panel(v).getByRole("button", { name: "Продолжить без e-mail" }).click();
    const box = panel(v).getByRole("textbox", { name: "Сообщение" });
    assert.equal(await box.getAttribute("placeholder"), "Напишите сообщение…");
    await panel(v).getByRole("button", { name: "Прикрепить файл" }).waitFor();
    // An error the widget says itself, with numbers in the Russian way and the right plural.
    await box.fill("я".repeat(2001));
    await box.press("Enter");
    await panel(v).getByRole("alert").filter({ hasText: /не больше 2\s000 символов, а в этом 2\s001 символ\./ }).waitFor();
    await panel(v).getByRole("button", { name: "Скрыть" }).click();
    await box.fill("Здравствуйте! Где мой заказ 1234?");
    await box.press("Enter");
    const mine = panel(v).locator('.m[data-status="sent"]', { hasText: "Где мой заказ" });
    await mine.waitFor();
    await mine.getByRole("img", { name: "Отправлено" }).waitFor();
    // The server's line with the case number: no text of the admin's, so the widget's own, in Russian.
    await panel(v).locator('[data-event="offline"]', { hasText: /^Сейчас никого нет на месте\. Мы ответим Вам, как только сможем\. \(обращение #\d+\)$/ }).waitFor();
    assert.match(await mine.locator(".meta").textContent(), /^\d\d:\d\d/, "the time in 24 hours");
    await s.shot(v, "i02-ru-sent");
    assert.deepEqual(await overflow(v), []);
    assert.deepEqual(await fits(v, PLACEHOLDERS.ru), []);
    await ctx.close();

    // A phone: the panel fills the screen; nothing longer than it.
    const phone = await s.browser.newContext({ viewport: { width: 375, height: 700 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await p.goto(site.url + "/ru");
    await p.getByRole("button", { name: "Открыть чат" }).click();
    await panel(p).getByRole("heading", { name: "Куда Вам ответить?" }).waitFor();
    await s.shot(p, "i03-ru-phone");
    assert.deepEqual(await overflow(p), []);
    await panel(p).getByRole("button", { name: "Продолжить без e-mail" }).click();
    assert.deepEqual(await fits(p, PLACEHOLDERS.ru), []);
    await phone.close();
  });

  test("a Spanish page (es-419), a consultant online: the whole dialog in Spanish", async () => {
    const staff = await s.staffOnline(ANNA.email, ANNA.password);
    await until(async () => (await fetch(`${s.parley.url}/api/v1/widget/projects/${project.key}`, { headers: { Origin: site.url } }).then((r) => r.json())).online);
    const ctx = await s.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "ru-RU" });
    const v = await ctx.newPage();
    v.on("pageerror", (e) => console.error("[visitor page error]", e.message));
    await v.goto(site.url + "/es");
    await v.getByRole("button", { name: "Abrir chat" }).click();
    await panel(v).getByText("En línea").waitFor();
    const box = panel(v).getByRole("textbox", { name: "Mensaje" });
    assert.equal(await box.getAttribute("placeholder"), "Escriba un mensaje…");
    await box.fill("Hola, ¿dónde está mi pedido 1234?");
    await box.press("Enter");
    await panel(v).locator('.m[data-status="sent"]', { hasText: "dónde está mi pedido" }).waitFor();

    const d = await until(async () => (await dialogs()).find((x) => x.contact?.page_url?.endsWith("/es")));
    const conv = d.conversation.id;
    await s.api(anna, "POST", `/dialogs/${conv}/connect`);
    await panel(v).getByText("Anna se unió al chat").waitFor();
    await panel(v).getByText("Conversando con Anna").waitFor();
    await s.api(anna, "POST", `/conversations/${conv}/typing`);
    await panel(v).getByText("Anna está escribiendo…").waitFor();
    await s.shot(v, "i04-es-typing");
    assert.deepEqual(await overflow(v), []);

    await s.api(anna, "POST", `/dialogs/${conv}/close`);
    await panel(v).getByText("El chat ha finalizado").waitFor();
    await panel(v).getByRole("heading", { name: "¿Qué tal fue su chat?" }).waitFor();
    await panel(v).getByRole("radio", { name: "1 estrella" }).waitFor();
    await panel(v).getByRole("radio", { name: "4 estrellas" }).click();
    assert.equal(await box.getAttribute("placeholder"), "Escriba para iniciar otro chat…");
    await s.shot(v, "i05-es-rating");
    assert.deepEqual(await overflow(v), []);
    assert.deepEqual(await fits(v, PLACEHOLDERS.es), []);
    await panel(v).getByRole("button", { name: "Enviar valoración" }).click();
    await panel(v).getByText("¡Gracias por su opinión!").waitFor();

    const phone = await s.browser.newContext({ viewport: { width: 375, height: 700 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await p.goto(site.url + "/es");
    await p.getByRole("button", { name: "Abrir chat" }).click();
    await panel(p).getByText("En línea").waitFor();
    await s.shot(p, "i06-es-phone");
    assert.deepEqual(await overflow(p), []);
    assert.deepEqual(await fits(p, PLACEHOLDERS.es), []);
    await phone.close();
    await ctx.close();
    await staff?.close?.();
  });

  test("the snippet's data-lang wins; a page without lang follows the browser; else English", async () => {
    for (const [locale, url, want] of [
      ["ru-RU", "/explicit", "Abrir chat"],
      ["ru-RU", "/nolang", "Открыть чат"],
      ["es-ES", "/nolang", "Abrir chat"],
      ["de-DE", "/nolang", "Open chat"],
    ]) {
      const ctx = await s.browser.newContext({ locale });
      const v = await ctx.newPage();
      await v.goto(site.url + url);
      await v.getByRole("button", { name: want, exact: true }).waitFor();
      await ctx.close();
    }
    // The language files are served like widget.js (cached for minutes, revalidated).
    const r = await fetch(s.url + "/widget-ru.js");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /javascript/);
    assert.equal(r.headers.get("cache-control"), "public, max-age=300");
    assert.match(await r.text(), /^window\.ParleyWidgetLocale&&ParleyWidgetLocale\("ru",\{/);
  });
});
