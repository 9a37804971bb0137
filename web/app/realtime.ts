// The WebSocket connection (docs/realtime.md): frames arrive as JSON
// arrays; the client keeps the id of the last event it processed (the
// cursor), reconnects with backoff (0.5 s doubling to 30 s, with jitter) and
// resumes from the cursor, so nothing committed while it was away is lost.

import { APP_VERSION, get, ApiError } from "./api";
import { Sig } from "./sig";
import type { Frame } from "./types";
import { parseJSON } from "./bidi";
import { t } from "../i18n/i18n";

export type ConnState = "connecting" | "online" | "offline" | "stopped";

export interface ConnInfo {
  state: ConnState;
  /** When the next attempt starts (ms since epoch), while offline. */
  retryAt?: number;
  /** Why the connection cannot continue (bad frame, too large), if so. */
  fatal?: string;
  attempts: number;
}

export interface Handlers {
  /** hello: the server's greeting; resync true means refetch state. */
  hello(f: Frame, fresh: boolean): void;
  /** events: durable and ephemeral events, in order, never twice. */
  events(frames: Frame[]): void;
  /** reply: ack, ok, error, pong frames answering a request. */
  reply(f: Frame): void;
  /** signedOut: close code 4001, or the session is gone. */
  signedOut(): void;
  /** opened: the connection is up and the backlog has been delivered. */
  opened(): void;
}

const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;

export class Realtime {
  readonly info = new Sig<ConnInfo>({ state: "connecting", attempts: 0 });
  cursor = 0;
  private ws: WebSocket | null = null;
  private backoff = 500;
  private timer = 0;
  private pingTimer = 0;
  private pongTimer = 0;
  private stopped = false;
  private req = 0;
  private helloSeen = false;

  constructor(private h: Handlers) {
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("offline", () => this.drop());
  }

  get open(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.helloSeen;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.clearPing();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.info.value = { state: "stopped", attempts: 0 };
  }

  /** retryNow skips the backoff wait (the "Retry now" button, the browser's online event). */
  retryNow() {
    if (this.stopped || this.info.value.state === "online" || this.info.value.state === "connecting") return;
    clearTimeout(this.timer);
    this.connect();
  }

  /** send writes a frame if connected; it returns its req number, or 0 if not sent. */
  send(frame: Record<string, unknown>): number {
    if (!this.open) return 0;
    const req = ++this.req;
    this.ws!.send(JSON.stringify({ ...frame, req }));
    return req;
  }

  private connect() {
    clearTimeout(this.timer);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}/api/v1/ws?cursor=${this.cursor}&client=web&version=${encodeURIComponent(APP_VERSION)}`;
    const attempts = this.info.value.attempts;
    this.info.value = { state: "connecting", attempts };
    this.helloSeen = false;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.armPing();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.armPing();
      let frames: Frame[];
      try {
        frames = parseJSON(ev.data as string);
      } catch {
        return;
      }
      if (!Array.isArray(frames)) frames = [frames as unknown as Frame];
      this.handle(frames);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.helloSeen = false;
      this.clearPing();
      if (this.stopped) return;
      switch (ev.code) {
        case 4001:
          this.stopped = true;
          this.info.value = { state: "stopped", attempts: 0 };
          this.h.signedOut();
          return;
        case 1009:
        case 4400:
          this.info.value = { state: "offline", attempts: 0, fatal: t("app.core.realtime.refused", { code: String(ev.code) }) };
          return;
        case 4008:
          this.backoff = 500;
          this.connect();
          return;
      }
      if (!opened) this.checkSession();
      this.scheduleRetry();
    };
  }

  private handle(frames: Frame[]) {
    const events: Frame[] = [];
    for (const f of frames) {
      switch (f.type) {
        case "hello": {
          const fresh = this.cursor === 0 || !!f.resync;
          this.helloSeen = true;
          this.cursor = f.cursor ?? this.cursor;
          this.backoff = 500;
          this.h.hello(f, fresh);
          break;
        }
        case "ack":
        case "ok":
        case "error":
        case "pong":
          if (events.length) this.h.events(events.splice(0));
          this.h.reply(f);
          break;
        default:
          if (f.id) {
            // After a reconnect, events we already have may come again.
            if (f.id <= this.cursor) continue;
            this.cursor = f.id;
          }
          events.push(f);
      }
    }
    if (events.length) this.h.events(events);
    if (this.info.value.state !== "online" && this.helloSeen) {
      this.info.value = { state: "online", attempts: 0 };
      this.h.opened();
    }
  }

  private scheduleRetry() {
    const attempts = this.info.value.attempts + 1;
    const wait = Math.min(this.backoff, 30_000) * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, 30_000);
    this.info.value = { state: "offline", attempts, retryAt: Date.now() + wait };
    this.timer = window.setTimeout(() => this.connect(), wait);
  }

  /** checkSession asks the API whether the session still exists after a refused upgrade. */
  private async checkSession() {
    try {
      await get("/me", { quiet401: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && !this.stopped) {
        this.stop();
        this.h.signedOut();
      }
    }
  }

  /**
   * drop gives up on the current socket at once (no pong, the browser went
   * offline): a dead TCP connection can take minutes to report its close.
   */
  drop() {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    this.ws = null;
    this.helloSeen = false;
    this.clearPing();
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close(4000);
    } catch {
      /* already closed */
    }
    this.scheduleRetry();
  }

  private armPing() {
    this.clearPing();
    this.pingTimer = window.setTimeout(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send(JSON.stringify({ type: "ping" }));
      this.pongTimer = window.setTimeout(() => this.drop(), PONG_WITHIN);
    }, PING_EVERY);
  }

  private clearPing() {
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}
