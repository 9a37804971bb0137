// Parley's website chat widget (docs/livechat.md). A host page embeds
//   <script async src="https://parley.example/widget.js" data-project="KEY"></script>
// and gets a launcher bubble that opens the chat panel. The API base is the
// script's own origin. Everything is in this one small file: plain DOM in a
// shadow root, no framework.
//
// The visitor stays the same person across page loads: the token from
// POST /widget/sessions is kept in localStorage per project and sent back.
// Messages go through an outbox with a client_id (kept in localStorage too)
// and are retried until the server has them, exactly once. The socket
// resumes from its cursor; on its first hello, and on resync, the shown
// history is replaced by the server's newest page, so nothing sent while the
// page was closed is missed and paging back has no gap. The token is renewed
// while a quarter of its life is left; the socket opened with the old one
// ends at its expiry (4401) and resumes at once with the new one.

import { t } from "../i18n/i18n";
import { ApiErr, call, net, plain } from "./api";
import { load as loadLang, pick } from "./lang";
import { Sock } from "./socket";
import { live, S, type Actions } from "./state";
import type { Frame, Kind, Out, WConv, WFile, WMsg, WProject } from "./types";
import { focus, mount, render, unfocus } from "./view";

interface Saved {
  /** The visitor token. */
  t?: string;
  /** How far the visitor has read, per conversation. */
  r: Record<string, number>;
  /** The outbox (messages not yet acknowledged). */
  o?: Out[];
  /** Where the visitor came from: the landing referrer and utm_source. */
  l?: { r?: string; u?: string };
  /** The pre-chat form was filled. */
  p?: 1;
  /** The question for an e-mail to reply to was answered (or skipped). */
  e?: 1;
}

/** What a visitor may send: the limits in words ("Files up to 10 MB"), checked before sending, as the staff app does. */
const kindOf = (type: string): Kind => (/^(image|audio|video)\//.exec(type)?.[1] as Kind) || "other";
const limitOf = (k: Kind) => S.cfg?.attachment_limits?.[k] || S.cfg?.max_file_size || 0;
const words = (n: number) =>
  n >= 1 << 20 ? t("widget.size.mb", { n: +(n / (1 << 20)).toFixed(1) }) : n >= 1024 ? t("widget.size.kb", { n: Math.round(n / 1024) }) : t("widget.size.bytes", { n });
const TOO_BIG: Record<Kind, string> = { image: "widget.tooBig.image", audio: "widget.tooBig.audio", video: "widget.tooBig.video", other: "widget.tooBig.other" };
const tooBig = (name: string, k: Kind) => t(TOO_BIG[k], { name, size: words(limitOf(k)) });


type Fn = (arg?: unknown) => void;
const w = window as any;

function boot() {
  const me = (document.currentScript || document.querySelector('script[data-project][src*="widget.js"]')) as HTMLScriptElement | null;
  const key = me?.dataset.project;
  if (!me || !key || w.Parley?.loaded) return;
  net.base = new URL(me.src, location.href).origin;
  const SK = "parley:" + key;

  const load = (): Saved => {
    try {
      const v = JSON.parse(localStorage.getItem(SK) || "null");
      if (v && typeof v === "object") return { ...v, r: v.r || {} };
    } catch {
      /* no storage, or not ours */
    }
    return { r: {} };
  };
  let st = load();
  const save = () => {
    // A file still to upload cannot be kept; everything else is, to be sent after a reload,
    // except what the server refused: kept as failed, never sent again by itself.
    st.o = S.out.filter((o) => !o.file || o.fid).map(({ file: _f, ...o }) => o);
    try {
      localStorage.setItem(SK, JSON.stringify(st));
    } catch {
      /* private mode, quota: the visitor is new on the next page */
    }
  };
  const flag = (v?: string) => {
    try {
      return v === undefined ? sessionStorage.getItem(SK) : (sessionStorage.setItem(SK, v), v);
    } catch {
      return null;
    }
  };

  // Where the visitor came from: kept from the page they landed on.
  const utm = new URLSearchParams(location.search).get("utm_source") || "";
  let ref = "";
  try {
    if (document.referrer && new URL(document.referrer).host !== location.host) ref = document.referrer;
  } catch {
    /* not a URL */
  }
  if (utm || ref || !st.l) st.l = { r: ref, u: utm };

  const ls: Record<string, Fn[]> = {};
  const emit = (ev: string, arg?: unknown) =>
    (ls[ev] || []).forEach((f) => {
      try {
        f(arg);
      } catch (e) {
        console.error(e);
      }
    });

  let cfgErr = "";
  let sessErr = "";
  let lastUnread = 0;

  /** draw derives what the view shows, marks what is seen as read, and renders. */
  const draw = () => {
    const c = S.conv;
    S.fatal = cfgErr || sessErr;
    S.prechat = !!S.cfg?.prechat_fields?.length && !st.p && !c && !S.msgs.size && !S.out.length;
    // Nobody can answer: ask where to reply before the message becomes a case (seed 004).
    S.askEmail = !!S.cfg?.chat_enabled && !S.fatal && !S.prechat && !live() && !S.email && !st.e;
    if (c && S.open && !document.hidden && net.token) {
      let max = 0;
      for (const m of S.msgs.values()) if (m.c === c.id && m.seq > max) max = m.seq;
      if (max > (st.r[c.id] || 0)) {
        st.r = { [c.id]: max };
        save();
        call("POST", "read", { seq: max }).catch(() => {});
      }
    }
    const r = c ? st.r[c.id] || 0 : 0;
    let n = 0;
    if (c) for (const m of S.msgs.values()) if (m.c === c.id && m.from === "consultant" && m.seq > r && !m.deleted) n++;
    S.unread = n;
    if (n !== lastUnread) emit("unread", (lastUnread = n));
    render();
  };

  // The project's public settings: name, texts, online, pre-chat fields.
  const project = async () => {
    const first = !S.cfg;
    try {
      S.cfg = await call<WProject>("GET", "projects/" + encodeURIComponent(key));
      cfgErr = "";
    } catch (e) {
      if (!S.cfg) cfgErr = e instanceof ApiErr && e.status === 403 ? t("widget.error.notHere") + " " + plain(e) : plain(e);
      if (cfgErr) console.warn("Parley: " + cfgErr);
    }
    draw();
    // Opened before the settings came: the message box has only just appeared.
    if (first && S.cfg && S.open) focus();
  };

  const setConv = (c: WConv) => {
    if (S.conv && c.id < S.conv.id) return;
    if (S.conv?.id !== c.id) S.typing = [];
    S.conv = c;
  };

  /** forget drops the visitor: their token was refused, or identify() named another person. */
  const forget = () => {
    st = { r: {}, l: st.l };
    net.token = "";
    S.msgs.clear();
    S.conv = null;
    S.rated = 0;
    sock.stop();
    sock.cursor = 0;
    synced = false;
  };

  // The token's life: renewed by a new session with it while a quarter is left (a long-open chat keeps its visitor).
  let renewT = 0;
  const renewAt = (at: number) => {
    clearTimeout(renewT);
    // Timers hold at most 24.8 days: a year-long token is checked again then.
    renewT = setTimeout(() => (Date.now() < at ? renewAt(at) : renew()), Math.min(Math.max(at - Date.now(), 0), 2 ** 30)) as unknown as number;
  };
  const renew = () => {
    sess = null;
    session(true).catch(() => renewAt(Date.now() + 10_000));
  };
  /** The token the socket was opened with: when it expires (4401) and the token is not renewed yet, renew first. */
  let sockTok = "";

  let sess: Promise<void> | null = null;
  let sessUser: string | undefined; // the user_id of the last session made
  const session = (again?: boolean): Promise<void> => {
    if (sess && !again) return sess;
    const p = (async () => {
      const body = { project: key, page_url: location.href, referrer: st.l?.r || undefined, utm_source: st.l?.u || undefined, ...S.ident };
      type R = { token: string; expires_in?: number; conversation: WConv | null; contact?: { email?: string } };
      const post = (b: object) =>
        call<R>("POST", "sessions", b).catch((e) => {
          // Something the host page passed is refused (an e-mail that is not one, ...): chat without it.
          if (!(e instanceof ApiErr && e.status === 400)) throw e;
          console.warn("Parley: " + e.message);
          return call<R>("POST", "sessions", { project: key, token: (b as { token?: string }).token });
        });
      let r: R;
      try {
        r = await post({ ...body, token: st.t });
      } catch (e) {
        // A token the server does not take (forged, expired, another project's): start afresh.
        if (!(e instanceof ApiErr && e.status === 401 && st.t)) throw e;
        forget();
        r = await post(body);
      }
      // Another person now (identify() with another user_id): drop what was shown of the last one.
      if (sessUser !== undefined && sessUser !== (S.ident.user_id || "")) forget();
      sessUser = S.ident.user_id || "";
      st.t = net.token = r.token;
      if (r.expires_in) renewAt(Date.now() + r.expires_in * 750);
      S.email = r.contact?.email || "";
      sessErr = "";
      save();
      if (r.conversation) setConv(r.conversation);
    })();
    sess = p;
    p.then(
      () => {
        if (S.open || S.conv || S.out.length) {
          sock.start();
          sock.now(); // waiting to reconnect (an expired token): the fresh one goes now
        }
        draw();
      },
      (e) => {
        if (sess === p) sess = null;
        if (e instanceof ApiErr && e.status >= 400 && e.status < 500 && e.status !== 429) sessErr = plain(e);
        else S.alert = plain(e);
        draw();
      },
    );
    return p;
  };

  // History: fetched on the socket's first hello and after a resync (replacing what is shown).
  let syncing = false;
  let synced = false;
  let again = 0; // 1: sync again, 2: and replace
  let gen = 0; // bumped when the list is replaced: an older page fetched for the old one is dropped
  let held: Frame[] = [];
  const told = new Set<number>();
  /** first is the lowest seq shown of conversation c (0: none). */
  const first = (c?: number) => {
    let f = 0;
    for (const m of S.msgs.values()) if (m.c === c && (!f || m.seq < f)) f = m.seq;
    return f;
  };
  const add = (m: WMsg, live: boolean) => {
    const old = S.msgs.get(m.id);
    if (old && !m.c) m.c = old.c;
    // Our own message, back from the server: no longer waiting in the outbox.
    if (m.client_id && S.out.some((o) => o.cid === m.client_id)) {
      S.out = S.out.filter((o) => o.cid !== m.client_id);
      save();
    }
    // A change to a message older than those shown (an edit far back) is not shown: it
    // would stand apart from them, a gap that paging back (from the oldest shown) never fills.
    if (live && !old && S.top !== m.c && m.seq < first(m.c)) return;
    S.msgs.set(m.id, m);
    if (m.from === "consultant") S.typing = S.typing.filter((n) => n !== m.name);
    if (!told.has(m.id) && m.from !== "visitor" && (live || m.seq > (st.r[m.c || 0] || 0))) {
      told.add(m.id);
      emit("message", m);
    }
  };
  const sync = async (replace?: boolean) => {
    if (!net.token) return;
    if (syncing) return void (again = Math.max(again, replace ? 2 : 1));
    syncing = true;
    if (replace) synced = false; // until it is done: the next hello tries again
    try {
      let after = 0;
      let n = 0;
      let short = false;
      let conv: WConv | null = null;
      const got: WMsg[] = [];
      do {
        const r = await call<{ conversation: WConv | null; messages: WMsg[] | null }>("GET", `messages?after_seq=${after}&limit=200`);
        conv = r.conversation;
        const ms = r.messages || [];
        for (const m of ms) got.push(((m.c = conv?.id), m));
        n = ms.length;
        // The newest page is short: it starts with the dialog's first message.
        if (!after) short = n < 200;
        if (n) after = ms[n - 1].seq;
      } while (n >= 200);
      if (conv) setConv(conv);
      if (replace) {
        // Exactly the server's state, as the app does on a resync: its newest page and what came on the
        // socket since (newer than the page); what was shown before goes (else a gap when paging back),
        // and with it the paging cursor. Unsent messages stay in the outbox, sent again with their client_id.
        const newest = got.length ? got[got.length - 1].seq : 0;
        for (const [id, m] of S.msgs) if (!conv || m.c !== conv.id || m.seq <= newest) S.msgs.delete(id);
        S.top = 0;
        gen++;
      }
      if (short && conv) S.top = conv.id;
      for (const m of got) add(m, false);
      synced = true;
      if (replace) flush();
    } catch (e) {
      if (e instanceof ApiErr && e.status === 401) refused();
      else if (replace) setTimeout(() => synced || sync(true), 5000);
    } finally {
      syncing = false;
      const h = held;
      held = [];
      apply(h);
      if (again) {
        const r = again > 1;
        again = 0;
        sync(r);
      }
    }
  };

  // Older history, a page at a time, when the visitor scrolls to the top of the dialog.
  const older = async () => {
    const c = S.conv;
    if (!c || S.older || S.top === c.id || !net.token) return;
    const f = first(c.id);
    if (!f) return; // nothing shown yet: the history is on its way
    S.older = true;
    draw();
    const g = gen;
    try {
      const r = await call<{ conversation: WConv | null; messages: WMsg[] | null }>("GET", `messages?before_seq=${f}&limit=100`);
      // (Not if the list was replaced meanwhile: the page is older than the old list, not the new one.)
      if (g === gen && r.conversation?.id === c.id) {
        const ms = r.messages || [];
        for (const m of ms) {
          m.c = c.id;
          // Only shown: older lines are neither news (no message event) nor typing.
          if (!S.msgs.has(m.id)) S.msgs.set(m.id, m);
        }
        if (ms.length < 100) S.top = c.id;
      }
    } catch (e) {
      if (e instanceof ApiErr && e.status === 401) refused();
      else S.alert = plain(e);
    }
    S.older = false;
    draw();
  };

  const tt: Record<string, number> = {};
  const typingOn = (n: string) => {
    clearTimeout(tt[n]);
    if (!S.typing.includes(n)) S.typing = [...S.typing, n];
    tt[n] = setTimeout(() => {
      S.typing = S.typing.filter((x) => x !== n);
      draw();
    }, 5000) as unknown as number;
  };

  const apply = (fs: Frame[]) => {
    let newer = false;
    for (const f of fs) {
      const d = f.data;
      if (!d) continue;
      if (f.type === "message.created" || f.type === "message.updated") {
        d.c = f.conversation_id || S.conv?.id;
        if (d.c > (S.conv?.id || 0)) newer = true;
        add(d, true);
      } else if (f.type === "conversation.updated") setConv(d);
      else if (f.type === "typing" && d.name) typingOn(d.name);
    }
    if (newer && (!S.conv || S.msgs.size)) sync();
    draw();
  };

  // The server refused the socket or the token: check the session, start a new one if it is gone.
  let checked = 0;
  const refused = async (code = 0) => {
    if (!code && Date.now() - checked < 20_000) return;
    checked = Date.now();
    try {
      if (!code) return void (await call("GET", "messages?limit=1"));
    } catch (e) {
      if (!(e instanceof ApiErr && e.status === 401)) return;
    }
    // The token is gone (revoked, expired): this is a new visitor.
    forget();
    sess = null;
    session(true);
  };

  const sock = new Sock(() => net.base.replace(/^http/, "ws") + "/api/v1/widget/ws?token=" + encodeURIComponent((sockTok = net.token)), {
    hello: (_f, fresh) => (fresh || !synced) && sync(true),
    frames: (fs) => (syncing ? held.push(...fs) : apply(fs)),
    refused,
    // Renewed since the socket opened (or a renewal under way, done): resume at once with the new token. Else the old
    // one is gone (not renewed in time: asleep, offline), and with it the visitor: a new one starts, as on any expired token.
    expired: () => {
      const go = () => (sockTok !== net.token ? sock.now() : (forget(), renew()));
      (sess || Promise.resolve()).then(go, go);
    },
  });

  // The outbox: one message at a time, in order, each with its client_id until the server has it.
  let busy = false;
  let wait = 1000;
  let timer = 0;
  const flush = async () => {
    if (busy) return;
    busy = true;
    clearTimeout(timer);
    for (let o: Out | undefined; (o = S.out.find((x) => !x.fail)); ) {
      try {
        await session();
        if (o.file && !o.fid) {
          o.fid = (await call<WFile>("POST", "files?name=" + encodeURIComponent(o.file.name), undefined, o.file)).id;
          save();
        }
        const c = S.conv?.status === "open" ? S.conv.id : 0;
        const m = await call<WMsg>("POST", "messages", { client_id: o.cid, text: o.text, file_ids: o.fid ? [o.fid] : [] });
        S.out = S.out.filter((x) => x !== o);
        save();
        wait = 1000;
        if (S.alert === t("widget.error.flood")) S.alert = "";
        if (c) m.c = c;
        add(m, false);
        if (!c) {
          // The message opened a dialog: learn it and listen.
          sock.start();
          await sync();
        }
        draw();
      } catch (e) {
        if (!(e instanceof ApiErr) || e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 401) {
          // Worth another try, with the same client_id: the server keeps it once.
          if (e instanceof ApiErr && e.status === 429) S.alert = plain(e);
          if (e instanceof ApiErr && e.status === 401) sess = null;
          // Flood control frees up within seconds: no growing wait for it.
          const flood = e instanceof ApiErr && e.status === 429;
          timer = setTimeout(flush, flood ? ((e as ApiErr).retry || 2) * 1000 : wait) as unknown as number;
          if (!flood) wait = Math.min(wait * 2, 30_000);
        } else {
          S.alert = o.fail = plain(e) + (e.status === 413 && o.file ? " " + tooBig(o.file.name, kindOf(o.file.type)) : "");
          // Too long, too large: sending it again can never work.
          if (e.status === 400 || e.status === 413) o.perm = 1;
          save();
          draw();
          continue;
        }
        draw();
        break;
      }
    }
    busy = false;
  };

  const uid = () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  };

  let cfgP: Promise<void>;
  const open = () => {
    if (S.open) return;
    S.open = true;
    flag("1");
    draw();
    focus();
    emit("opened");
    // Fresh settings (online may have changed), then the session and the socket,
    // and whether someone can answer the dialog now.
    const p = cfgP;
    cfgP = project();
    (S.cfg ? p : cfgP).then(
      () =>
        void (
          cfgErr ||
          session().then(async () => {
            if (!S.conv) return;
            const r = await call<{ conversation: WConv | null }>("GET", "messages?limit=1");
            if (r.conversation) setConv(r.conversation);
            draw();
          })
        ),
    );
  };
  const close = () => {
    if (!S.open) return;
    S.open = false;
    flag("");
    draw();
    unfocus();
    emit("closed");
  };

  const identify = (d: Record<string, unknown>) => {
    if (!d || typeof d !== "object") return;
    const n: Record<string, string> = {};
    for (const k of ["name", "email", "user_id", "user_hash"]) if (d[k] != null && d[k] !== "") n[k] = String(d[k]);
    const other = n.user_id && n.user_id !== S.ident.user_id;
    Object.assign(S.ident, n);
    if (n.email) S.email = n.email;
    if (!sess) return; // sent with the session when it is made
    if (other) session(true);
    else if (n.name || n.email)
      sess
        .then(() => call("PATCH", "contact", { name: n.name, email: n.email }))
        .catch((e) => {
          S.alert = plain(e);
          draw();
        });
  };

  let lastTyping = 0;
  const actions: Actions = {
    toggle: () => (S.open ? close() : open()),
    close,
    send(text) {
      const max = S.cfg?.max_message_length || 2000;
      const n = [...text].length;
      if (n > max) {
        S.alert = t("widget.tooLong", { max, n });
        draw();
        return false;
      }
      S.out.push({ cid: uid(), text, at: Date.now() });
      save();
      draw();
      flush();
      return true;
    },
    files(fs) {
      const big: string[] = [];
      for (const f of fs) {
        const k = kindOf(f.type);
        // Refused before the upload, not after sending all of it.
        if (limitOf(k) && f.size > limitOf(k)) big.push(tooBig(f.name, k));
        else S.out.push({ cid: uid(), text: "", file: f, name: f.name, at: Date.now() });
      }
      if (big.length) S.alert = big.join(" ");
      draw();
      flush();
    },
    retry(cid, drop) {
      const o = S.out.find((x) => x.cid === cid);
      if (!o || (o.perm && !drop)) return;
      if (drop) S.out = S.out.filter((x) => x !== o);
      o.fail = undefined;
      save();
      draw();
      flush();
    },
    typing() {
      if (S.conv?.status === "open" && net.token && Date.now() - lastTyping > 3000) {
        lastTyping = Date.now();
        call("POST", "typing").catch(() => {});
      }
    },
    async rate(score, comment) {
      const c = S.conv;
      try {
        await call("POST", "rating", { score, comment });
      } catch (e) {
        if (!(e instanceof ApiErr && e.status === 409)) {
          S.alert = plain(e);
          draw();
          return false;
        }
      }
      if (c) {
        c.rated = true;
        S.rated = c.id;
      }
      draw();
      return true;
    },
    async prechat(v) {
      const { name, email, ...rest } = v;
      for (const k in rest) if (!rest[k]) delete rest[k];
      st.p = 1;
      save();
      if (name) S.ident.name = name;
      if (email) S.ident.email = S.email = email;
      draw();
      focus();
      try {
        await session();
        await call("PATCH", "contact", { name: name || undefined, email: email || undefined, fields: Object.keys(rest).length ? rest : undefined });
      } catch (e) {
        S.alert = plain(e);
        draw();
      }
    },
    async replyTo(email) {
      st.e = 1;
      save();
      S.alert = "";
      try {
        if (email) {
          await session();
          await call("PATCH", "contact", { email });
          S.email = S.ident.email = email;
        }
      } catch (e) {
        st.e = undefined; // ask again, with the reason
        S.alert = plain(e);
      }
      draw();
      focus();
    },
    dismiss() {
      S.alert = "";
      draw();
    },
    older,
  };

  // The host page's API; calls queued before the script loaded run now.
  const run = (c: ArrayLike<unknown>) => {
    const [m, ...args] = Array.from(c);
    const f = (api as any)[m as string];
    if (typeof f === "function" && m !== "q") f(...args);
  };
  const api = {
    loaded: true,
    open,
    close,
    toggle: actions.toggle,
    identify,
    on(ev: string, fn: Fn) {
      if (typeof fn === "function") (ls[ev] ||= []).push(fn);
    },
    off(ev: string, fn: Fn) {
      ls[ev] = (ls[ev] || []).filter((f) => f !== fn);
    },
    q: { push: run },
  };

  const start = () => {
    mount(actions);
    const queued = w.Parley?.q;
    w.Parley = api;
    if (w.ParleySettings) identify(w.ParleySettings);
    S.out = st.o || [];
    cfgP = project();
    if (st.t) {
      // A returning visitor: the same person; messages that came while away count as unread.
      net.token = st.t;
      session();
    }
    if (queued) Array.from(queued as ArrayLike<ArrayLike<unknown>>).forEach(run);
    if (flag() === "1") open();
    if (S.out.length) flush();
    save();
    draw();
    addEventListener("visibilitychange", draw);
    addEventListener("online", flush);
    addEventListener("storage", (e) => {
      if (e.key === SK) {
        st.r = load().r;
        draw();
      }
    });
  };
  // The language first (its catalogue may have to load), then the widget.
  const go = () => void loadLang(pick(me, w.ParleySettings), net.base).then(start);
  if (document.body) go();
  else addEventListener("DOMContentLoaded", go);
}

boot();
