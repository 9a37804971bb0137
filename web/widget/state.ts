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
  unread: 0,
  /** The conversation whose first message is loaded (nothing older to fetch). */
  top: 0,
  /** Older messages are being fetched. */
  older: false,
};

export interface Actions {
  toggle(): void;
  close(): void;
  send(text: string): void;
  files(f: File[]): void;
  retry(cid: string, drop?: boolean): void;
  typing(): void;
  /** rate resolves to whether the rating was taken. */
  rate(score: number, comment: string): Promise<boolean>;
  prechat(v: Record<string, string>): void;
  dismiss(): void;
  /** older fetches the page of messages before the oldest one shown. */
  older(): void;
}
