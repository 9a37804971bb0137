// Browser tests of accounts by e-mail link and sign-in with a provider,
// against a real Parley server: an administrator invites a colleague, the
// invitation arrives at a local SMTP server, the colleague opens the link,
// chooses a name and password and is in; "Forgot password?" mails a reset
// link that sets a new password once; an OpenID Connect provider (a small
// one written here with node:crypto: discovery, RS256 keys, an
// authorization endpoint that approves at once, a token endpoint that
// checks the code, PKCE verifier and client secret) signs a user in from
// the sign-in page's button; the audit log exports as CSV.
// Screenshots (desktop and phone) go to $PARLEY_SCREENSHOTS.

import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { freePort, skipReason, stack, until } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log("# browser tests skipped: " + skip);

const ADMIN = { email: "alice@example.com", name: "Alice Admin", password: "alice-password", role: "admin" };
const BOB = { email: "bob@example.com", name: "Bob Member", password: "bob-password", role: "member" };
const PHONE = { width: 390, height: 844 };

/** smtpSink is a submission server on 127.0.0.1 that keeps what it is sent (RFC 5321, the few commands a client needs). */
function smtpSink() {
  const mails = [];
  const server = net.createServer((sock) => {
    let buf = "";
    let data = false;
    let mail = null;
    sock.write("220 sink ESMTP\r\n");
    sock.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      for (;;) {
        if (data) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          mail.data = buf.slice(0, end).replace(/\r\n\.\./g, "\r\n.");
          mails.push(mail);
          buf = buf.slice(end + 5);
          data = false;
          sock.write("250 2.0.0 queued\r\n");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === "EHLO") sock.write("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
        else if (cmd === "HELO") sock.write("250 sink\r\n");
        else if (cmd === "MAIL") {
          mail = { from: line, to: [], data: "" };
          sock.write("250 2.1.0 ok\r\n");
        } else if (cmd === "RCPT") {
          mail.to.push(line.replace(/^RCPT TO:<([^>]*)>.*$/i, "$1"));
          sock.write("250 2.1.5 ok\r\n");
        } else if (cmd === "DATA") {
          data = true;
          sock.write("354 go ahead\r\n");
        } else if (cmd === "QUIT") {
          sock.end("221 bye\r\n");
          return;
        } else if (cmd === "RSET" || cmd === "NOOP") sock.write("250 ok\r\n");
        else sock.write("502 5.5.1 not here\r\n");
      }
    });
    sock.on("error", () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `smtp://127.0.0.1:${server.address().port}`,
        mails,
        stop: () => new Promise((r) => server.close(() => r())),
      }),
    );
  });
}

/** linkIn finds the link of a kind in a mail (quoted-printable soft breaks undone). */
function linkIn(mail, kind) {
  const text = mail.data.replace(/=\r\n/g, "").replace(/=3D/g, "=");
  const m = text.match(new RegExp(`http://[0-9.:]+/${kind}/[A-Za-z0-9_-]+`));
  assert.ok(m, `no ${kind} link in:\n${text}`);
  return m[0];
}

const b64url = (b) => Buffer.from(b).toString("base64url");

/** oidcProvider is an OpenID provider on 127.0.0.1 that signs in `person` without asking. */
function oidcProvider({ clientId, clientSecret, person }) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const codes = new Map();
  let issuer = "";
  const json = (res, status, v) => {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(JSON.stringify(v));
  };
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, issuer);
    if (u.pathname === "/.well-known/openid-configuration")
      return json(res, 200, {
        issuer,
        authorization_endpoint: issuer + "/authorize",
        token_endpoint: issuer + "/token",
        jwks_uri: issuer + "/jwks",
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
      });
    if (u.pathname === "/jwks") return json(res, 200, { keys: [jwk] });
    if (u.pathname === "/authorize") {
      const q = u.searchParams;
      if (q.get("client_id") !== clientId || q.get("code_challenge_method") !== "S256") return json(res, 400, { error: "invalid_request" });
      const code = b64url(randomBytes(16));
      codes.set(code, { nonce: q.get("nonce"), challenge: q.get("code_challenge"), redirect: q.get("redirect_uri") });
      res.writeHead(302, { Location: `${q.get("redirect_uri")}?code=${code}&state=${encodeURIComponent(q.get("state"))}` });
      return res.end();
    }
    if (u.pathname === "/token" && req.method === "POST") {
      let body = "";
      for await (const c of req) body += c;
      const f = new URLSearchParams(body);
      const [id, secret] = Buffer.from((req.headers.authorization || "").replace(/^Basic /, ""), "base64").toString().split(":").map(decodeURIComponent);
      const g = codes.get(f.get("code"));
      codes.delete(f.get("code"));
      if (id !== clientId || secret !== clientSecret) return json(res, 401, { error: "invalid_client" });
      if (!g || g.redirect !== f.get("redirect_uri")) return json(res, 400, { error: "invalid_grant" });
      if (b64url(createHash("sha256").update(f.get("code_verifier") || "").digest()) !== g.challenge) return json(res, 400, { error: "invalid_grant" });
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ alg: "RS256", kid: "k1", typ: "JWT" }));
      const claims = b64url(JSON.stringify({ iss: issuer, aud: clientId, sub: "1", iat: now, exp: now + 300, nonce: g.nonce, ...person }));
      const sig = b64url(sign("sha256", Buffer.from(head + "." + claims), privateKey));
      return json(res, 200, { access_token: "at", token_type: "Bearer", expires_in: 300, id_token: `${head}.${claims}.${sig}` });
    }
    json(res, 404, { error: "not_found" });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      issuer = `http://127.0.0.1:${server.address().port}`;
      resolve({ issuer, stop: () => new Promise((r) => (server.close(() => r()), server.closeAllConnections?.())) });
    });
  });
}

describe("accounts by e-mail link and a sign-in provider", { skip: skip || false, timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof stack>>} */
  let s;
  let sink;
  let idp;
  let adminToken = "";

  async function open({ viewport = { width: 1280, height: 800 }, path = "/" } = {}) {
    const ctx = await s.browser.newContext({ viewport, baseURL: s.url, acceptDownloads: true });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => console.error("[page error]", e.message));
    await page.goto(s.url + path);
    return page;
  }

  before(async () => {
    sink = await smtpSink();
    idp = await oidcProvider({ clientId: "parley", clientSecret: "idp-secret", person: { email: BOB.email, email_verified: true, name: BOB.name } });
    const port = await freePort();
    s = await stack({
      users: [ADMIN, BOB],
      addr: `127.0.0.1:${port}`,
      serverArgs: ["--public-url", `http://127.0.0.1:${port}`, "--smtp-url", sink.url, "--mail-from", "Parley <parley@example.com>"],
    });
    assert.ok(s.direct, "Parley serves the app itself (the links point at it)");
    adminToken = await s.login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await s?.close();
    await sink?.stop();
    await idp?.stop();
  });

  test("an administrator invites by e-mail; the invitee opens the link, joins and is signed in", async () => {
    const a = await open();
    await s.signIn(a, ADMIN.email, ADMIN.password);
    await a.goto(s.url + "/admin/users");
    await a.getByRole("heading", { name: "Invitations" }).waitFor();
    await a.getByLabel("E-mail").fill("carol@example.com");
    await a.locator("select[name=invite-role]").selectOption("agent");
    await a.getByRole("button", { name: "Invite", exact: true }).click();
    await a.getByRole("table", { name: "Pending invitations" }).getByText("carol@example.com").waitFor();
    await s.shot(a, "accounts-01-invitations");
    const mail = await until(() => sink.mails.find((m) => m.to.includes("carol@example.com")));
    assert.match(mail.data, /Alice Admin invites you/);
    const link = linkIn(mail, "invite");

    // The invitee, on a phone.
    const c = await open({ viewport: PHONE, path: new URL(link).pathname });
    await c.getByRole("heading", { name: "Join Parley" }).waitFor();
    await c.getByText("carol@example.com").waitFor();
    await s.shot(c, "accounts-02-accept-phone");
    await c.getByLabel("Full name").fill("Carol Agent");
    await c.getByLabel("Password (at least 8 characters)").fill("carol-password");
    await c.getByLabel("Password again").fill("carol-password");
    await c.getByRole("button", { name: "Join and sign in" }).click();
    await c.locator(".sidebar").waitFor();
    assert.equal(new URL(c.url()).pathname, "/");
    // The link worked once.
    await c.goto(link);
    await c.getByRole("heading", { name: "This invitation link does not work" }).waitFor();
    await s.shot(c, "accounts-03-used-link-phone");
    await c.context().close();

    // The pending list is empty again.
    await a.reload();
    await a.getByText("No pending invitations.").waitFor();
    await a.context().close();
  });

  test("forgot password: the same answer for anyone, a reset link that works once", async () => {
    const p = await open();
    await p.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
    await p.getByRole("link", { name: "Forgot password?" }).click();
    await p.getByRole("heading", { name: "Forgot your password?" }).waitFor();
    await p.getByLabel("E-mail").fill(BOB.email);
    await p.getByRole("button", { name: "Send the link" }).click();
    await p.getByRole("heading", { name: "Check your mail" }).waitFor();
    const said = await p.getByRole("status").first().textContent();
    await s.shot(p, "accounts-04-check-mail");
    const mail = await until(() => sink.mails.find((m) => m.to.includes(BOB.email)));
    const link = linkIn(mail, "reset");

    // An unknown address gets the same words and no mail.
    const before = sink.mails.length;
    await p.goto(s.url + "/forgot");
    await p.getByLabel("E-mail").fill("nobody@example.com");
    await p.getByRole("button", { name: "Send the link" }).click();
    await p.getByRole("heading", { name: "Check your mail" }).waitFor();
    assert.equal(await p.getByRole("status").first().textContent(), said);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.mails.length, before, "no mail for an unknown address");

    await p.goto(link);
    await p.getByRole("heading", { name: "Set a new password" }).waitFor();
    await s.shot(p, "accounts-05-reset");
    await p.getByLabel("New password (at least 8 characters)").fill("bob-new-password");
    await p.getByLabel("New password again").fill("bob-new-password");
    await p.getByRole("button", { name: "Set the new password" }).click();
    await p.getByRole("heading", { name: "Password changed" }).waitFor();
    await p.getByRole("button", { name: "Sign in" }).click();
    await s.signIn(p, BOB.email, "bob-new-password");
    await p.goto(link);
    await p.getByRole("heading", { name: "This reset link does not work" }).waitFor();
    await p.context().close();
  });

  test("sign in with the organisation's provider from the sign-in page", async () => {
    const a = await open();
    await s.signIn(a, ADMIN.email, ADMIN.password);
    await a.goto(s.url + "/admin");
    await a.getByRole("heading", { name: "Sign-in provider (OpenID Connect)" }).waitFor();
    await a.getByLabel("Issuer URL").fill(idp.issuer);
    await a.getByLabel("Client ID").fill("parley");
    await a.getByLabel("Client secret").fill("idp-secret");
    await a.getByLabel("Button label (“Sign in with …”)").fill("Company SSO");
    await a.locator("input[name=oidc-enabled]").check();
    await a.getByRole("button", { name: "Save" }).click();
    await a.getByRole("status").filter({ hasText: "Saved" }).waitFor();
    assert.equal(await a.getByLabel("Client secret").inputValue(), "", "the secret is not shown again");
    await a.locator("#oidc-title").scrollIntoViewIfNeeded();
    await s.shot(a, "accounts-06-provider-settings");

    const b = await open({ viewport: PHONE });
    const button = b.getByRole("link", { name: "Sign in with Company SSO" });
    await button.waitFor();
    await s.shot(b, "accounts-07-signin-sso-phone");
    await button.click();
    await b.locator(".sidebar, .layout").first().waitFor();
    const me = await b.evaluate(async () => (await fetch("/api/v1/me")).json());
    assert.equal(me.email, BOB.email);
    await b.context().close();

    // Someone the provider vouches for without an account: told why, on the sign-in page.
    await s.api(adminToken, "PATCH", "/users/" + (await s.api(adminToken, "GET", "/users?q=bob")).users[0].id, { active: false });
    const c = await open();
    await c.getByRole("link", { name: "Sign in with Company SSO" }).click();
    await c.getByRole("alert").filter({ hasText: "deactivated" }).waitFor();
    assert.ok(!new URL(c.url()).search.includes("sign_in_error"), "the error is taken out of the address");
    await c.getByRole("link", { name: "Sign in with Company SSO" }).waitFor();
    await s.shot(c, "accounts-08-sso-refused");
    await c.context().close();

    // The audit log has it all, and exports as CSV.
    await a.goto(s.url + "/admin/audit");
    await a.getByRole("table", { name: "Audit log" }).waitFor();
    await s.shot(a, "accounts-09-audit");
    const [download] = await Promise.all([a.waitForEvent("download"), a.getByRole("link", { name: "Export" }).click()]);
    const csv = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
    for (const action of ["user.invited", "invite.accepted", "user.password_reset", "oidc.settings_changed"]) assert.match(csv, new RegExp(action.replace(".", "\\.")));
    assert.match(download.suggestedFilename(), /^parley-audit-.*\.csv$/);
    await a.context().close();
  });
});
