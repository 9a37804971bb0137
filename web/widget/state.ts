// The widget's state, read by the view and changed by the controller (main.ts).

import type { Out, WConv, WMsg, WProject } from "./types";

export const S = {
  /** The project's public settings, once fetched. */
  cfg: null as WProject | null,
  /** A reason the chat cannot work here at all (origin refused, unknown project, ...): shown instead of the chat. */
  fatal: "",
  /** A passing error (file too large, flood, network), shown above the composer until dismissed. */
  alert: "",
  conv: null as WConv | null,
  msgs: new Map<number, WMsg>(),
  out: [] as Out[],
  /** Names of the consultants typing now. */
  typing: [] as string[],
  open: false,
  /** The conversation rated on this page (the thanks line). */
  rated: 0,
  /** Whether the pre-chat form is to be shown. */
  prechat: false,
  /** Values for the pre-chat form (from identify). */
  ident: {} as Record<string, string>,
  /** The visitor's e-mail, as the server knows it (session, identify, forms). */
  email: "",
  /** Whether to ask for an e-mail to reply to: nobody can answer now, and none is known. */
  askEmail: false,
  unread: 0,
  /** The conversation whose first message is loaded (nothing older to fetch). */
  top: 0,
  /** Older messages are being fetched. */
  older: false,
};

export interface Actions {
  toggle(): void;
  close(): void;
  /** send queues a message; false when it is refused before sending (too long: S.alert says why). */
  send(text: string): boolean;
  files(f: File[]): void;
  retry(cid: string, drop?: boolean): void;
  typing(): void;
  /** rate resolves to whether the rating was taken. */
  rate(score: number, comment: string): Promise<boolean>;
  prechat(v: Record<string, string>): void;
  /** replyTo saves the e-mail to reply to while nobody is online (empty: the visitor goes on without). */
  replyTo(email: string): void;
  dismiss(): void;
  /** older fetches the page of messages before the oldest one shown. */
  older(): void;
}

/** live: someone can answer now (a consultant in the dialog, or one it alerts online); else the visitor leaves a message. */
export const live = () => {
  const c = S.conv;
  return c?.status === "open" ? !!c.consultants?.length || (c.online ?? !!S.cfg?.online) : !!S.cfg?.online;
};
