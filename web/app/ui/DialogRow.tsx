// DialogRow is one customer dialog in a list: the Visitors block of the
// sidebar (live chat, seed 002) and the inbox (seed 003) use this one row.
//
// Everywhere: the customer's name and avatar, the state colour of live chat
// (green while it waits for an answer from this user, blue once a
// consultant is connected, light blue when it is this user), the time and
// the viewer's unread count. The inbox adds the channel's icon and name
// (the name administrators gave a connected channel, else the kind's),
// the customer's pinned tags under the name, the last communication or the
// viewer's own draft, the manager in charge, the processing order's yellow
// and red (past the reply warning and limit), why a waiting dialog still
// waits when the distribution found nobody (its queue note, on both kinds
// of row), and, for those who may delete dialogs, a checkbox in place of
// the avatar on hover. A click opens the dialog (a preview when the user is
// not connected); it never connects.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as live from "../livechat";
import { navigate } from "../router";
import { memo, use, useSelect, Version } from "../sig";
import * as store from "../store";
import type { Dialog } from "../types";
import { messagePreview, shortWhen } from "../util";
import { ChannelIcon, channelName, TagChip } from "./channels";
import { Avatar } from "./common";
import { Clock, Close, Users } from "./icons";

/** Ticks every 15 s, so the yellow and red of the processing order follow the clock. */
export const clock = new Version();
setInterval(() => clock.bump(), 15_000);

export type Sla = "" | "warn" | "due";

/** sla: past the project's reply limit (red), past its warning (yellow), or neither, by this clock. */
export function sla(d: Dialog, now = Date.now()): Sla {
  if (d.support.status !== "open" || !d.support.waiting_since) return "";
  if (d.reply_due_at && Date.parse(d.reply_due_at) <= now) return "due";
  if (d.reply_warn_at && Date.parse(d.reply_warn_at) <= now) return "warn";
  return "";
}

/** The words for a row's state, for screen readers (idle says nothing). */
const STATE_LABEL = {
  waiting: "app.inbox.row.state.waiting",
  mine: "app.inbox.row.state.mine",
  taken: "app.inbox.row.state.taken",
  queued: "app.inbox.row.state.queued",
  closed: "app.inbox.row.state.closed",
} as const;

export interface DialogRowProps {
  id: number;
  row: number;
  active: boolean;
  href: string;
  /** The inbox's row: channel, tags, draft, manager in charge, processing colours. */
  inbox?: boolean;
  /** Selection for deleting (undefined: the user may not delete dialogs). */
  selected?: boolean;
  /** Anything is selected: checkboxes show on every row. */
  selecting?: boolean;
  onSelect?: (id: number, on: boolean, range: boolean) => void;
}

export const DialogRow = memo(function DialogRow(props: DialogRowProps) {
  const d = useSelect([live.dialogsV], () => live.dialogs.get(props.id));
  const own = useSelect([store.convsV], () => store.convs.get(props.id));
  const typingNow = useSelect([store.typingV], () => (store.typing.get(props.id)?.size || 0) > 0);
  use(clock);
  use(store.peopleV); // names in the last line ("Anna transferred…"), once known
  const [busy, setBusy] = useState(false);
  if (!d) return null;
  if (d.last_message) store.notePeopleOf(d.last_message); // the transferring consultant may be no member any more
  const state = live.rowState(d);
  const name = live.contactName(d);
  const consultants = d.consultants || [];
  const me = store.me.value?.id;
  const names = consultants.map((c) => (c.id === me ? t("app.inbox.row.you") : c.name));
  const last = d.last_message;
  const unread = live.unreadOf(d);
  const project = live.projectName(d.support.project_id);
  const draft = (own?.draft ?? d.draft) || "";
  const mark = props.inbox ? sla(d) : "";
  let sub: ComponentChildren;
  if (typingNow) sub = <em class="typing-sub">{t("app.inbox.row.typing")}</em>;
  else if (props.inbox && draft && !props.active)
    sub = (
      <>
        <span class="draft-label">{t("app.inbox.row.draft")}</span> {draft}
      </>
    );
  else if (props.inbox) sub = last ? (last.sender_id === me ? t("app.inbox.row.youSaid", { text: messagePreview(last) }) : messagePreview(last)) : project || t("app.inbox.row.newDialog");
  else if (state === "closed") sub = d.rating ? t("app.inbox.row.closedRated", { score: d.rating.score }) : t("app.inbox.row.closed");
  else if (names.length)
    sub = (
      <>
        <Users size={12} /> {names.join(", ")}
      </>
    );
  else if (state === "queued") sub = (d.support.level > 1 ? t("app.inbox.row.waitingLevel2") : t("app.inbox.row.waiting")) + (last ? " · " + messagePreview(last) : "");
  else sub = last ? messagePreview(last) : project || t("app.inbox.row.newDialog");
  const label = state === "idle" ? "" : t(STATE_LABEL[state]);
  const cross = !props.inbox && (state === "mine" || state === "closed");
  const pinned = props.inbox ? (d.contact?.tags || []).filter((tg) => tg.pinned) : [];
  const assignee = d.assignee?.name || (d.support.assignee_id ? store.personName(d.support.assignee_id) : "");
  const selectable = props.selected !== undefined;
  // Why it still waits, when the distribution found nobody for its level.
  const queueNote = d.support.status === "open" && !d.support.assignee_id && !consultants.length ? d.queue_note || "" : "";
  // The row for screen readers: the name, then what matters, comma-separated.
  const rowLabel = [
    name,
    label,
    mark === "due" ? t("app.inbox.row.overdue") : mark === "warn" ? t("app.inbox.row.dueSoon") : "",
    names.length ? t("app.inbox.row.with", { names: names.join(", ") }) : "",
    unread ? t("app.inbox.row.unread", { n: unread }) : "",
  ]
    .filter(Boolean)
    .join(", ");
  const crossTitle = state === "closed" ? t("app.inbox.row.remove") : t("app.inbox.row.disconnect");
  return (
    <div role="listitem" class={"dlg-item " + state + (props.selected ? " selected" : "") + (props.selecting ? " selecting" : "")}>
      {selectable ? (
        <label class="dlg-pick" title={t("app.inbox.row.select")}>
          <input
            type="checkbox"
            checked={props.selected}
            aria-label={t("app.inbox.row.selectDialog", { name })}
            onClick={(e) => props.onSelect?.(props.id, (e.currentTarget as HTMLInputElement).checked, e.shiftKey)}
          />
        </label>
      ) : null}
      <a
        class={
          "conv-row dlg-row " +
          state +
          (props.inbox ? " inbox-row" : "") +
          (mark ? " sla-" + mark : "") +
          (props.active ? " active" : "") +
          (unread ? " unread" : "") +
          (cross ? " has-x" : "") +
          (queueNote ? " has-note" : "")
        }
        href={props.href}
        data-row={props.row}
        data-dialog={props.id}
        data-state={state}
        data-sla={mark || undefined}
        aria-current={props.active ? "page" : undefined}
        aria-label={rowLabel}
        title={project ? (d.support.level > 1 ? t("app.inbox.row.projectLevel2", { project }) : project) : undefined}
        onClick={(e) => {
          if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
          e.preventDefault();
          navigate(props.href);
        }}
      >
        <span class="conv-icon">
          <Avatar id={live.avatarId(d)} name={name} size={36} />
        </span>
        <span class="conv-main">
          <span class="conv-title">
            <span class="dlg-name">{name}</span>
            {props.inbox ? (
              <span class="dlg-channel">
                <ChannelIcon channel={d.support.channel} size={12} />
              </span>
            ) : null}
          </span>
          {pinned.length ? (
            <span class="dlg-tags">
              {pinned.map((tg) => (
                <TagChip key={tg.tag_id} name={tg.name} color={tg.color} />
              ))}
            </span>
          ) : null}
          <span class="conv-sub">{sub}</span>
          {queueNote ? (
            <span class="dlg-queue" title={t("app.inbox.row.queueNote", { note: queueNote })}>
              <Clock size={11} /> {queueNote}
            </span>
          ) : null}
          {props.inbox ? (
            <span class="dlg-meta">
              <span class="ch-name" title={d.channel_name ? `${channelName(d.support.channel)}: ${d.channel_name}` : undefined}>
                {d.channel_name || channelName(d.support.channel)}
              </span>
              {" · "}
              {d.support.status === "closed" ? <span class="dlg-closed">{t("app.inbox.row.closedSep")}</span> : null}
              {assignee ? (
                <span class="dlg-assignee" title={t("app.inbox.row.assignee")}>
                  <Users size={11} /> {d.support.assignee_id === me ? t("app.inbox.row.you") : assignee}
                </span>
              ) : (
                <span class="dlg-assignee none">{t("app.inbox.row.unassigned")}</span>
              )}
            </span>
          ) : null}
        </span>
        <span class="conv-end">
          <span class={"conv-when" + (mark ? " " + mark : "")}>{shortWhen(d.support.activity_at || last?.created_at || d.conversation.last_message_at || d.conversation.created_at)}</span>
          {unread ? (
            <span class="badge" aria-label={t("app.inbox.row.unread", { n: unread })}>
              {unread > 999 ? "999+" : unread}
            </span>
          ) : state === "waiting" ? (
            <span class="dot-new" aria-hidden="true" />
          ) : null}
        </span>
      </a>
      {cross ? (
        <button
          class="icon-btn small dlg-x"
          title={crossTitle}
          aria-label={t("app.inbox.row.disconnectFrom", { name })}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await live.disconnect(props.id);
            } catch (e) {
              store.fail(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Close size={14} />
        </button>
      ) : null}
    </div>
  );
});
