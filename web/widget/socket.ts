// The visitor's WebSocket (docs/realtime.md frames): resumes from the last
// event id it processed, drops events it already has, reconnects with
// backoff (0.5 s doubling to 30 s, with jitter) and pings every 25 s.

import type { Frame } from "./types";
import { parseJSON } from "../app/bidi";

export interface SockHandlers {
  hello(f: Frame, fresh: boolean): void;
  frames(f: Frame[]): void;
  /** refused: the upgrade failed before it opened, or the server ended the session (4001). */
  refused(code: number): void;
  /** expired: the token the socket was opened with has expired (4401); the controller reconnects with a fresh one (now). */
  expired(): void;
}

export class Sock {
  cursor = 0;
  on = false;
  private ws: WebSocket | null = null;
  private backoff = 500;
  private timer = 0;
  private ping = 0;
  private pong = 0;

  constructor(
    private url: () => string,
    private h: SockHandlers,
  ) {
    addEventListener("online", () => this.now());
    addEventListener("offline", () => this.drop());
  }

  start() {
    if (this.on) return;
    this.on = true;
    this.connect();
  }

  stop() {
    this.on = false;
    clearTimeout(this.timer);
    this.clear();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  /** now reconnects at once if disconnected (the browser is back online). */
  now() {
    if (this.on && !this.ws) {
      clearTimeout(this.timer);
      this.connect();
    }
  }

  private connect() {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url() + "&cursor=" + this.cursor);
    } catch {
      return this.retry();
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.arm();
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.arm();
      let fs: Frame[];
      try {
        fs = parseJSON(e.data);
      } catch {
        return;
      }
      this.handle(Array.isArray(fs) ? fs : [fs]);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.clear();
      if (!this.on) return;
      if (e.code === 1009 || e.code === 4400) return this.stop();
      if (e.code === 4001) {
        this.stop();
        return this.h.refused(e.code);
      }
      if (e.code === 4008) {
        this.backoff = 500;
        return this.connect();
      }
      if (e.code === 4401) {
        this.backoff = 500;
        return this.h.expired();
      }
      if (!opened) this.h.refused(0);
      this.retry();
    };
  }

  private handle(fs: Frame[]) {
    const ev: Frame[] = [];
    for (const f of fs) {
      if (f.type === "hello") {
        const fresh = !this.cursor || !!f.resync;
        this.cursor = f.cursor ?? this.cursor;
        this.backoff = 500;
        this.h.hello(f, fresh);
      } else if (f.type !== "pong") {
        if (f.id) {
          if (f.id <= this.cursor) continue;
          this.cursor = f.id;
        }
        ev.push(f);
      }
    }
    if (ev.length) this.h.frames(ev);
  }

  private retry() {
    const wait = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, 30_000);
    this.timer = setTimeout(() => this.connect(), wait) as unknown as number;
  }

  /** drop gives up on a socket that may be dead (no pong, the browser went offline). */
  private drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.clear();
    ws.onclose = null;
    ws.close();
    if (this.on) this.retry();
  }

  private arm() {
    this.clear();
    this.ping = setTimeout(() => {
      this.ws?.send('{"type":"ping"}');
      this.pong = setTimeout(() => this.drop(), 10_000) as unknown as number;
    }, 25_000) as unknown as number;
  }

  private clear() {
    clearTimeout(this.ping);
    clearTimeout(this.pong);
  }
}
