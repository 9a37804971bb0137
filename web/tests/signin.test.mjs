// Browser tests of sign-in hardening against a real Parley server: signing
// in with two-factor codes (computed here per RFC 6238 with node:crypto),
// the rate limit's wait, the set-up an administrator is held in when the
// organisation requires two-factor sign-in, changing the password,
// sessions signed out from another device, and a declined direct request.
// Screenshots (desktop and phone) go to $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { skipReason, stack } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# browser tests skipped: " + skip);

const ALICE = { email: "alice@example.com", name: "Alice Admin", password: "alice-password", role: "admin" };
const ADA = { email: "ada@example.com", name: "Ada Lovelace", password: "ada-password", role: "admin" };
const ADAM = { email: "adam@example.com", name: "Adam Smith", password: "adam-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Boris Becker", password: "bob-password", role: "member" };
const ANNA = { email: "anna@example.com", name: "Anna Karenina", password: "anna-password", role: "member" };
const RITA = { email: "rita@example.com", name: "Rita Retry", password: "rita-password", role: "member" };

const PHONE = { width: 390, height: 844 };
const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/** base32 decodes an RFC 4648 key as authenticator apps read it. */
function base32(s) {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0,
    value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, "").toUpperCase()) {
    const i = abc.indexOf(ch);
    if (i < 0) throw new Error("not base32: " + ch);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** hotp is RFC 4226's code for a counter (RFC 6238: the 30-second step). */
function hotp(secret, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac("sha1", base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, "0");
}

/**
 * Authenticator is the app on the user's phone. The server takes each step's
 * code once and accepts the next step's too (clock skew), so code() gives
 * the code of the first step not yet used, waiting for the clock when both
 * the current and the next are used.
 */
class Authenticator {
  constructor(secret) {
    this.secret = secret.replace(/\s/g, "");
    this.last = 0;
  }
  async code() {
    for (;;) {
      const now = Math.floor(Date.now() / 30_000);
      const step = Math.max(now, this.last + 1);
      if (step <= now + 1) {
        this.last = step;
        return hotp(this.secret, step);
      }
      await new Promise((r) => setTimeout(r, (step - 1) * 30_000 - Date.now() + 200));
    }
  }
  /** used notes a step the server saw (the one a set-up was confirmed in). */
  used() {
    this.last = Math.max(this.last, Math.floor(Date.now() / 30_000));
  }
}

describe("sign-in hardening", { skip: skip || false, timeout: 400_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let aliceApp; // Alice's authenticator
  let aliceToken = "";
  let aliceRecovery = [];

  /** open starts a fresh browser (own cookies) at the app; ua names another device. */
  async function open({ viewport = { width: 1280, height: 800 }, ua = DESKTOP_UA } = {}) {
    const ctx = await s.browser.newContext({ viewport, baseURL: s.url, userAgent: ua, acceptDownloads: true });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => console.error("[page error]", e.message));
    await page.goto(s.url + "/");
    await page.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
    return page;
  }

  async function password(page, who) {
    await page.getByLabel("E-mail").fill(who.email);
    await page.getByLabel("Password", { exact: true }).fill(who.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  before(async () => {
    s = await stack({ users: [ALICE, ADA, ADAM, BOB, ANNA, RITA], serverArgs: ["--login-rate", "3"] });
    console.log(`# testing ${s.url} (${s.direct ? "served by Parley" : "web/dist served by the test proxy"})`);
    // Alice turns two-factor sign-in on through the API, as another client would.
    const t = await s.login(ALICE.email, ALICE.password);
    const setup = await s.api(t, "POST", "/me/two-factor/setup");
    assert.match(setup.url, /^otpauth:\/\/totp\//);
    aliceApp = new Authenticator(setup.secret);
    const on = await s.api(t, "POST", "/me/two-factor/enable", { code: await aliceApp.code() });
    aliceApp.used();
    assert.equal(on.recovery_codes.length, 10);
    aliceRecovery = on.recovery_codes;
    aliceToken = on.token; // the session's token rotated
  });

  after(async () => {
    await s?.close();
  });

  test("two-factor sign-in: the code step, a wrong code, then the right one; a recovery code on a phone", async () => {
    const a = await open();
    await password(a, ALICE);
    await a.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();
    const code = a.getByLabel("Code");
    assert.equal(await code.getAttribute("autocomplete"), "one-time-code");
    assert.equal(await code.getAttribute("inputmode"), "numeric");
    assert.ok(await code.evaluate((el) => el === document.activeElement), "the code field has the focus");
    await s.shot(a, "signin-01-code-step");
    // A wrong code is refused and the step stays.
    const right = await aliceApp.code();
    await code.fill(right === "000000" ? "111111" : "000000");
    await a.getByRole("button", { name: "Verify" }).click();
    await a.getByRole("alert").filter({ hasText: "wrong or already used code" }).waitFor();
    await code.fill(right);
    await a.getByRole("button", { name: "Verify" }).click();
    await a.locator(".sidebar").waitFor();
    await a.context().close();

    // On a phone, with a recovery code instead of the app.
    const p = await open({ viewport: PHONE, ua: IPHONE_UA });
    await password(p, ALICE);
    await p.getByLabel("Code").waitFor();
    await s.shot(p, "signin-02-code-step-phone");
    await p.getByRole("button", { name: "No phone at hand? Use a recovery code" }).click();
    assert.equal(await p.getByLabel("Recovery code").getAttribute("inputmode"), "text", "recovery codes have letters");
    await p.getByLabel("Recovery code").fill(aliceRecovery[0].toUpperCase());
    await p.getByRole("button", { name: "Verify" }).click();
    await p.locator(".sidebar").waitFor();
    assert.equal((await s.api(aliceToken, "GET", "/me/two-factor")).recovery_codes_left, 9, "the recovery code is used up");
    await p.context().close();
  });

  test("too many failed sign-ins: the server's reason and the wait are shown", async () => {
    const r = await open();
    await r.getByLabel("E-mail").fill(RITA.email);
    // Three failures a minute are allowed (--login-rate 3): wrong passwords
    // until the server refuses (a slow machine may earn one more on the way).
    let refused = false;
    for (let i = 0; i < 6 && !refused; i++) {
      await r.getByLabel("Password", { exact: true }).fill("wrong-password-" + i);
      const [res] = await Promise.all([
        r.waitForResponse((x) => x.url().endsWith("/api/v1/auth/login")),
        r.getByRole("button", { name: "Sign in" }).click(),
      ]);
      if (res.status() === 429) {
        refused = true;
        assert.ok(Number(res.headers()["retry-after"]) > 0, "Retry-After says when");
      } else {
        assert.equal(res.status(), 401);
        await r.getByRole("alert").filter({ hasText: "wrong e-mail or password" }).waitFor();
        await r.getByRole("button", { name: "Sign in" }).and(r.locator(":enabled")).waitFor();
      }
    }
    assert.ok(refused, "refused after the failures");
    await r.getByRole("alert").filter({ hasText: /too many failed sign-ins to this account; try again in \d+ seconds/i }).waitFor();
    const button = r.getByRole("button", { name: /^Try again in \d+ s$/ });
    await button.waitFor();
    assert.ok(await button.isDisabled(), "no retry before the wait is over");
    await s.shot(r, "signin-03-rate-limited");
    await r.context().close();
  });

  test("an administrator without two-factor cannot require it; the requirement holds the others in the set-up", async () => {
    // Ada has no two-factor: the server refuses, and the page says why.
    const ada = await open();
    await password(ada, ADA);
    await ada.locator(".sidebar").waitFor();
    await ada.goto(s.url + "/admin");
    const toggle = ada.getByLabel("Require two-factor sign-in for administrators");
    await toggle.click();
    await ada.getByRole("alert").filter({ hasText: "turn on two-factor sign-in for your own account first" }).waitFor();
    await ada.getByRole("link", { name: "Set up two-factor sign-in in your Settings" }).waitFor();
    await toggle.and(ada.locator(":not(:checked)")).waitFor();
    assert.equal((await s.api(aliceToken, "GET", "/security")).require_admin_two_factor, false, "nothing changed");
    await s.shot(ada, "signin-04-admin-refused");

    // Alice has it, and requires it.
    const a = await open();
    await password(a, ALICE);
    await a.getByLabel("Code").fill(await aliceApp.code());
    await a.getByRole("button", { name: "Verify" }).click();
    await a.locator(".sidebar").waitFor();
    await a.goto(s.url + "/admin");
    const [put] = await Promise.all([
      a.waitForResponse((r) => r.url().endsWith("/api/v1/security") && r.request().method() === "PUT"),
      a.getByLabel("Require two-factor sign-in for administrators").click(),
    ]);
    assert.equal(put.status(), 200, await put.text());
    await a.getByLabel("Require two-factor sign-in for administrators").and(a.locator(":checked")).waitFor();
    assert.equal((await s.api(aliceToken, "GET", "/security")).require_admin_two_factor, true);
    await a.context().close();

    // Ada's open app gives way to the set-up at once.
    await ada.getByRole("heading", { name: "Set up two-factor sign-in" }).waitFor();
    await ada.locator(".sidebar").waitFor({ state: "detached" });
    await ada.getByRole("img", { name: "QR code to scan with the authenticator app" }).waitFor();
    await s.shot(ada, "signin-05-setup");
    await ada.context().close();

    // Adam signs in: the set-up comes first, and stays after a reload.
    const m = await open({ viewport: PHONE, ua: IPHONE_UA });
    await password(m, ADAM);
    await m.getByRole("heading", { name: "Set up two-factor sign-in" }).waitFor();
    await m.getByRole("img", { name: "QR code to scan with the authenticator app" }).waitFor();
    await s.shot(m, "signin-05-setup-phone");
    await m.reload();
    await m.getByRole("heading", { name: "Set up two-factor sign-in" }).waitFor();
    // The key by hand, as an app without a camera takes it.
    const secret = await m.getByLabel("Or enter this key by hand", { exact: true }).textContent();
    const adamApp = new Authenticator(secret);
    // A code from another key is refused.
    await m.getByLabel("Code from the app").fill(hotp("JBSWY3DPEHPK3PXP", Math.floor(Date.now() / 30_000)));
    await m.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await m.getByRole("alert").filter({ hasText: "that code does not match" }).waitFor();
    await m.getByLabel("Code from the app").fill(await adamApp.code());
    await m.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    const codes = m.getByRole("list", { name: "Recovery codes" }).locator("code");
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    await s.shot(m, "signin-06-recovery-codes-phone");
    const continueBtn = m.getByRole("button", { name: "Continue" });
    assert.ok(await continueBtn.isDisabled(), "the codes must be saved first");
    const [download] = await Promise.all([m.waitForEvent("download"), m.getByRole("button", { name: "Download" }).click()]);
    assert.equal(download.suggestedFilename(), "parley-recovery-codes.txt");
    const text = await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString());
    assert.ok(text.includes(await codes.first().textContent()), "the file holds the codes");
    await m.getByLabel("I saved my recovery codes").check();
    await continueBtn.click();
    await m.locator(".sidebar").waitFor();
    // The app works now: the session (its token rotated) reaches the rest of the API.
    await m.reload();
    await m.locator(".sidebar").waitFor();
    assert.equal(await m.getByRole("heading", { name: "Set up two-factor sign-in" }).count(), 0);
    await m.context().close();
  });

  test("security settings: change the password, see the sessions, sign another one out", async () => {
    const b1 = await open();
    await password(b1, BOB);
    await b1.locator(".sidebar").waitFor();
    const b2 = await open({ ua: IPHONE_UA });
    await password(b2, BOB);
    await b2.locator(".sidebar").waitFor();

    await b1.goto(s.url + "/settings");
    const sessions = b1.getByRole("list", { name: "Sessions" }).getByRole("listitem");
    await sessions.nth(1).waitFor();
    assert.equal(await sessions.count(), 2);
    const here = sessions.filter({ hasText: "This device" });
    assert.equal(await here.count(), 1);
    assert.match(await here.textContent(), /Chrome on Linux/);
    assert.match(await here.textContent(), /127\.0\.0\.1/);
    await sessions.filter({ hasText: "Safari on iPhone" }).waitFor();
    await b1.getByRole("heading", { name: "Security" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await s.shot(b1, "signin-07-security");

    // Sign the phone out: its app ends up at the sign-in screen.
    await sessions.filter({ hasText: "Safari on iPhone" }).getByRole("button", { name: /^Sign out Safari on iPhone/ }).click();
    await b2.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
    await b2.getByText("Your session has ended").waitFor();
    await sessions.nth(1).waitFor({ state: "detached" });

    // Change the password: the current one is asked for.
    await password(b2, BOB);
    await b2.locator(".sidebar").waitFor();
    await b1.getByLabel("Current password").fill("not-my-password");
    await b1.getByLabel("New password (at least 8 characters)").fill("bob-new-password");
    await b1.getByRole("button", { name: "Change password" }).click();
    await b1.getByRole("alert").filter({ hasText: "your current password is wrong" }).waitFor();
    await b1.getByLabel("Current password").fill(BOB.password);
    await b1.getByRole("button", { name: "Change password" }).click();
    await b1.getByText("Password changed. Your other browser sessions were signed out.").waitFor();
    await b2.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
    BOB.password = "bob-new-password";
    // This page goes on with the rotated session and its new CSRF token.
    await b1.getByRole("list", { name: "Sessions" }).getByRole("listitem").nth(1).waitFor({ state: "detached" });
    await password(b2, BOB);
    await b2.locator(".sidebar").waitFor();
    // Back to the list and to Settings again, without reloading the page.
    await b1.evaluate(() => {
      history.pushState(null, "", "/");
      dispatchEvent(new PopStateEvent("popstate"));
    });
    await b1.getByRole("button", { name: "Settings", exact: true }).click();
    await sessions.nth(1).waitFor();
    await b1.getByRole("button", { name: "Sign out all other sessions" }).click();
    await b2.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
    await sessions.nth(1).waitFor({ state: "detached" });
    await b2.context().close();

    // The security settings on a phone.
    const p = await open({ viewport: PHONE, ua: IPHONE_UA });
    await password(p, BOB);
    await p.locator(".sidebar").waitFor();
    await p.goto(s.url + "/settings");
    await p.getByRole("list", { name: "Sessions" }).getByRole("listitem").nth(1).waitFor();
    await p.getByRole("heading", { name: "Security" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await s.shot(p, "signin-08-security-phone");
    await p.context().close();

    // Two-factor from the settings, and off again with the password and a code.
    await b1.getByRole("button", { name: "Set up two-factor sign-in" }).click();
    const dlg = b1.getByRole("dialog", { name: "Set up two-factor sign-in" });
    await dlg.getByRole("img", { name: "QR code to scan with the authenticator app" }).waitFor();
    await s.shot(b1, "signin-09-setup-settings");
    const bobApp = new Authenticator(await dlg.getByLabel("Or enter this key by hand", { exact: true }).textContent());
    await dlg.getByLabel("Code from the app").fill(await bobApp.code());
    await dlg.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await dlg.getByLabel("I saved my recovery codes").check();
    await dlg.getByRole("button", { name: "Continue" }).click();
    await b1.getByText("10 recovery codes left.").waitFor();
    await b1.getByRole("button", { name: "Turn off…" }).click();
    const off = b1.getByRole("dialog", { name: "Turn off two-factor sign-in" });
    await off.getByLabel("Password").fill(BOB.password);
    await off.getByLabel("Code from the app, or a recovery code").fill(await bobApp.code());
    await off.getByRole("button", { name: "Turn off" }).click();
    await b1.getByRole("button", { name: "Set up two-factor sign-in" }).waitFor();
    await b1.context().close();
  });

  test("a declined direct request: the requester sees when they may ask again, the decliner can start", async () => {
    const bob = await open();
    await password(bob, BOB);
    await bob.locator(".sidebar").waitFor();
    const anna = await open();
    await password(anna, ANNA);
    await anna.locator(".sidebar").waitFor();

    await anna.getByRole("button", { name: "New message" }).click();
    await anna.getByPlaceholder("Search by full name or e-mail").fill("bob@exa");
    await anna.locator(".person", { hasText: BOB.name }).click();
    await anna.getByText("Request sent.").waitFor();

    await bob.locator(".conv-row", { hasText: ANNA.name }).click();
    await bob.getByText("wants to start a direct conversation with you").waitFor();
    await bob.getByRole("button", { name: "Decline" }).click();
    await bob.getByText("You declined Anna's request").waitFor();
    await bob.getByRole("button", { name: "Start a conversation with Anna" }).waitFor();
    await s.shot(bob, "signin-11-declined-by-me");

    const banner = anna.locator(".request-banner");
    await banner.filter({ hasText: `${BOB.name} declined your request. You can ask again on` }).waitFor();
    assert.ok(await anna.getByRole("button", { name: "Ask again" }).isDisabled(), "not before the date");
    await anna.locator(".conv-row", { hasText: BOB.name }).getByText("Declined your request").waitFor();
    await s.shot(anna, "signin-10-declined");
    // The server agrees: asking again now is refused.
    const t = await s.login(ANNA.email, ANNA.password);
    const c = (await s.api(t, "GET", "/conversations")).conversations.find((x) => x.kind === "direct");
    assert.equal(c.state, "declined");
    assert.ok(new Date(c.ask_again_at) > new Date(), "ask_again_at is ahead");

    // Bob starts it himself after all: Anna is asked now.
    await bob.getByRole("button", { name: "Start a conversation with Anna" }).click();
    await bob.getByText("Request sent.").waitFor();
    await anna.getByText("wants to start a direct conversation with you").waitFor();
    await bob.context().close();
    await anna.context().close();
  });
});
