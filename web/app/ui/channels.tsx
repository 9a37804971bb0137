// Channel icons and names: small maps keyed by the dialog's channel, so a
// new channel (telegram, whatsapp, email, ...) is one line here and one
// name in NAMES (its key in the admin catalogue).

import type { JSX } from "preact";
import { t } from "../../i18n/i18n";

const paths: Record<string, JSX.Element> = {
  // A speech bubble on a page: the website widget.
  widget: <path d="M4 5h16v10H9l-5 4z" />,
  telegram: <path d="M21 4 3 11l6 2 2 6 3-4 5 4z" />,
  whatsapp: <path d="M4 20l1.5-4A8 8 0 1 1 8 18.5z" />,
  messenger: <path d="M12 3a9 8 0 0 0-5 14.6V21l3.3-1.8A9 8 0 1 0 12 3zm-4 10 3-3 2 2 3-3" />,
  instagram: <path d="M7 3h10a4 4 0 0 1 4 4v10a4 4 0 0 1-4 4H7a4 4 0 0 1-4-4V7a4 4 0 0 1 4-4zm5 5a4 4 0 1 0 0 8 4 4 0 0 0 0-8z" />,
  email: <path d="M3 5h18v14H3zM3 6l9 7 9-7" />,
  sms: <path d="M8 2h8a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zM11 18h2" />,
  api: <path d="M8 8l-4 4 4 4M16 8l4 4-4 4" />,
};

/** NAMES: each kind's name, as its key in the catalogue (read at render time). */
const NAMES: Record<string, string> = {
  widget: "app.admin.channelKinds.widget",
  telegram: "app.admin.channelKinds.telegram",
  whatsapp: "app.admin.channelKinds.whatsapp",
  messenger: "app.admin.channelKinds.messenger",
  instagram: "app.admin.channelKinds.instagram",
  email: "app.admin.channelKinds.email",
  sms: "app.admin.channelKinds.sms",
  api: "app.admin.channelKinds.api",
};

/** CHANNEL_KINDS are the channels a dialog can come from, in the order pickers list them. */
export const CHANNEL_KINDS = Object.keys(NAMES);

/** channelName: the kind's name ("Telegram"); a dialog's own channel name is Dialog.channel_name. */
export function channelName(ch: string | undefined): string {
  const key = NAMES[ch || "widget"];
  return key ? t(key) : ch || "";
}

/** ChannelIcon: the channel's icon with its name as the accessible label. */
export function ChannelIcon(props: { channel?: string; size?: number }) {
  const ch = props.channel || "widget";
  const s = props.size || 14;
  return (
    <svg class={"icon channel-icon ch-" + ch} width={s} height={s} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" role="img" aria-label={channelName(ch)}>
      <title>{channelName(ch)}</title>
      {paths[ch] || <circle cx="12" cy="12" r="8" />}
    </svg>
  );
}

/** TagChip: a customer tag in its colour. */
export function TagChip(props: { name: string; color: string; pinned?: boolean; children?: JSX.Element | JSX.Element[] | null }) {
  return (
    <span class={"tag-chip" + (props.pinned ? " pinned" : "")} style={{ "--tag": props.color }} title={props.pinned ? t("app.admin.tags.pinned", { name: props.name }) : props.name}>
      <span class="tag-dot" aria-hidden="true" />
      {props.name}
      {props.children}
    </span>
  );
}
