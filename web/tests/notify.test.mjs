// Browser tests of the notifications that reach people with Parley closed:
// the service worker registers at the root scope, the manifest makes the
// app installable (Chromium's own installability check), and Settings'
// Notifications section saves the e-mail digest (unavailable without a
// mail server), do-not-disturb hours and the pause, and shows when they
// hold notifications back. Screenshots (desktop and phone) go to
// $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# browser tests skipped: " + skip);

const NORA = { email: "nora@example.com", name: "Nora Night", password: "nora-password", role: "member" };
const PHONE = { width: 390, height: 844 };

describe("notifications", { skip: skip || false, timeout: 300_000 }, () => {
  let s;
  before(async () => {
    s = await stack({ users: [NORA] });
  });
  after(async () => {
    await s?.close();
  });

  test("the service worker and the manifest make the app installable", async () => {
    const page = await s.page();
    await s.signIn(page, NORA.email, NORA.password);
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { scope: reg.scope, active: !!reg.active, script: reg.active?.scriptURL };
    });
    assert.equal(sw.scope, new URL("/", s.url).href);
    assert.ok(sw.active, "the worker is active");
    assert.equal(sw.script, new URL("/sw.js", s.url).href);

    const res = await fetch(new URL("/sw.js", s.url));
    assert.match(res.headers.get("content-type"), /javascript/);
    assert.match(await res.text(), /notificationclick/);

    const manifest = await page.evaluate(async () => {
      const link = document.querySelector("link[rel=manifest]");
      const r = await fetch(link.href);
      return { type: r.headers.get("content-type"), body: await r.json() };
    });
    assert.equal(manifest.type, "application/manifest+json");
    const m = manifest.body;
    assert.equal(m.name, "Parley");
    assert.equal(m.display, "standalone");
    assert.equal(m.start_url, "/");
    assert.match(m.theme_color, /^#[0-9a-f]{6}$/);
    for (const size of ["192x192", "512x512"]) {
      const icon = m.icons.find((i) => i.sizes === size && i.type === "image/png");
      assert.ok(icon, "an icon of " + size);
      const r = await fetch(new URL(icon.src, s.url));
      assert.equal(r.headers.get("content-type"), "image/png");
      const b = Buffer.from(await r.arrayBuffer());
      assert.equal(b.readUInt32BE(16) + "x" + b.readUInt32BE(20), size, "the PNG is the size it says");
    }

    // Chromium's own verdict on the manifest and the worker.
    const cdp = await page.context().newCDPSession(page);
    const { errors, data } = await cdp.send("Page.getAppManifest");
    assert.deepEqual(errors, [], "manifest errors");
    assert.ok(data.includes('"standalone"'));
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    // A test browser context is incognito-like: that one is the context's, not the app's.
    const real = installabilityErrors.filter((e) => e.errorId !== "in-incognito");
    assert.deepEqual(real, [], "installability errors");
    await page.context().close();
  });

  test("the Notifications settings save and show do-not-disturb", async () => {
    const page = await s.page();
    await s.signIn(page, NORA.email, NORA.password);
    await page.goto(s.url + "/settings");
    const section = page.locator("#notifications");
    await section.getByRole("heading", { name: "Notifications" }).waitFor();
    // Not asked on load: the browser's permission stays as it was.
    assert.equal(await page.evaluate(() => Notification.permission), "granted"); // the test context grants it up front
    await section.getByText("E-mail is not available: this server has no mail server configured.").waitFor();
    assert.equal(await section.locator("#set-email").isDisabled(), true);
    await section.getByText("Notifications are on.").waitFor();

    // Do-not-disturb hours, all day on every day: shown as holding back now.
    await section.locator("#set-dnd").click();
    await section.locator("#dnd-from").waitFor();
    const token0 = await s.login(NORA.email, NORA.password);
    // A time field saves on change; set it until the server has it.
    const setTime = async (sel, field, value) => {
      await until(async () => {
        await section.locator(sel).fill(value);
        await section.locator(sel).dispatchEvent("change");
        await new Promise((r) => setTimeout(r, 300));
        return (await s.api(token0, "GET", "/me/notifications"))[field] === value;
      });
    };
    await setTime("#dnd-from", "dnd_from", "00:00");
    await setTime("#dnd-to", "dnd_to", "00:00");
    for (const day of ["Sat", "Sun"]) {
      const box = section.locator("label.day", { hasText: day }).locator("input");
      if (!(await box.isChecked())) {
        await box.check();
        await until(async () => (await box.isChecked()) && (await section.getByText("Saved.").isVisible()));
      }
    }
    await section.getByText("Do-not-disturb hours: notifications and sounds are held back now.").waitFor();
    const token = await s.login(NORA.email, NORA.password);
    const saved = await s.api(token, "GET", "/me/notifications");
    assert.equal(saved.dnd_enabled, true);
    assert.equal(saved.dnd_from, "00:00");
    assert.equal(saved.dnd_to, "00:00");
    assert.deepEqual(saved.dnd_days, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(saved.time_zone, await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    await section.locator("#set-breakthrough").scrollIntoViewIfNeeded();
    await s.shot(page, "notify-settings-dnd");

    // Pause for an hour, then resume.
    await section.locator("#set-dnd").click();
    await section.getByRole("button", { name: "Pause for 1 hour" }).click();
    await section.getByText(/Notifications are paused until/).waitFor();
    const paused = await s.api(token, "GET", "/me/notifications");
    const left = new Date(paused.paused_until).getTime() - Date.now();
    assert.ok(left > 55 * 60e3 && left <= 60 * 60e3, "paused for an hour: " + left);
    await s.shot(page, "notify-settings-paused");
    await page.setViewportSize(PHONE);
    await section.scrollIntoViewIfNeeded();
    await s.shot(page, "notify-settings-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
    await section.getByRole("button", { name: "Resume notifications" }).click();
    await section.getByText("Notifications are on.").waitFor();
    assert.equal((await s.api(token, "GET", "/me/notifications")).paused_until, "0001-01-01T00:00:00Z");

    // Another device's change arrives live.
    const { email_available, email_choices, subscriptions, ...other } = await s.api(token, "GET", "/me/notifications");
    await s.api(token, "PUT", "/me/notifications", { ...other, email_after_minutes: -1, paused_until: new Date(Date.now() + 2 * 3600e3).toISOString() });
    await section.getByText(/Notifications are paused until/).waitFor();
    await page.context().close();
  });

  test("turning push on asks this browser to subscribe and says what happened", async () => {
    const page = await s.page();
    await s.signIn(page, NORA.email, NORA.password);
    await page.goto(s.url + "/settings");
    const section = page.locator("#notifications");
    const toggle = section.locator("#set-push");
    await toggle.waitFor();
    assert.equal(await toggle.isChecked(), false);
    await toggle.click();
    const token = await s.login(NORA.email, NORA.password);
    // Chromium subscribes through its vendor's push service; a test
    // browser without one fails, and the app must say so, not pretend.
    await until(async () => (await toggle.isChecked()) || (await section.getByRole("alert").isVisible()));
    const subs = await s.api(token, "GET", "/push/subscriptions");
    console.log("# push toggle: " + ((await toggle.isChecked()) ? "subscribed" : await section.getByRole("alert").innerText()));
    if (await toggle.isChecked()) {
      assert.equal(subs.length, 1, "the server knows the subscription");
      await section.getByRole("button", { name: "Send a test notification" }).waitFor();
    } else {
      assert.equal(subs.length, 0);
      assert.match(await section.getByRole("alert").innerText(), /could not subscribe/);
    }
    if (await section.getByRole("alert").isVisible()) await section.getByRole("alert").scrollIntoViewIfNeeded();
    await s.shot(page, "notify-settings-push");
    await page.context().close();
  });
});
