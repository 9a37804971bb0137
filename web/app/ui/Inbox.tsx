// The support inbox's list (seed 003) in the sidebar's place: the number of
// unread dialogs, the order (processing / last activity), the filters
// (their panel is loaded on demand), and every dialog the user may see,
// paged in as the list scrolls. The filters and the order are the URL's
// query, so reload and Back keep them. SideTabs switches between the team
// chats (with live chat's Visitors block) and the inbox.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as inbox from "../inbox";
import * as live from "../livechat";
import { navigate, onLink, route } from "../router";
import { use } from "../sig";
import * as store from "../store";
import { AvailabilityButton } from "./Availability";
import { DialogRow } from "./DialogRow";
import { Confirm, Menu, Spinner, useMenu } from "./common";
import { lazy } from "./lazy";
import { VirtualList, type VirtualListHandle } from "./VirtualList";

const FilterPanel = lazy(() => import("../lazy/InboxTools").then((m) => m.FilterPanel));

/** canSeeDialogs: specialists of a project and managers have an inbox. */
export function canSeeDialogs(): boolean {
  return live.isSpecialist.value || store.canManageChat(store.me.value);
}

/** inboxURL is the inbox with the given filters, and a dialog open beside it. */
export function inboxURL(f: inbox.Filters, id?: number): string {
  const q = inbox.query(f);
  return "/inbox" + (id ? "/" + id : "") + (q ? "?" + q : "");
}

/**
 * SideTabs: Chats (team chat and the Visitors block), Inbox with the unread
 * dialogs, and, for those who manage live chat, the distribution's Queue.
 */
export function SideTabs() {
  const r = use(route);
  const n = use(inbox.unreadDialogs);
  use(live.isSpecialist, store.rights);
  if (!canSeeDialogs()) return null;
  const at = r.name === "inbox" ? "inbox" : r.name === "queue" ? "queue" : "chats";
  // Back to the inbox as it was left (its filters).
  const inboxHref = "/inbox" + (inbox.list.key ? "?" + inbox.list.key : "");
  const tab = (k: typeof at) => ({ class: at === k ? "on" : "", "aria-current": at === k ? ("page" as const) : undefined, onClick: onLink });
  return (
    <nav class="side-tabs" aria-label={t("app.inbox.tabs.label")}>
      <a href="/" {...tab("chats")}>
        {t("app.inbox.tabs.chats")}
      </a>
      <a href={inboxHref} {...tab("inbox")}>
        {t("app.inbox.tabs.inbox")}
        {n ? (
          <span class="badge" aria-label={t("app.inbox.tabs.unread", { n })}>
            {n > 999 ? "999+" : n}
          </span>
        ) : null}
      </a>
      {store.canManageChat(store.me.value) ? (
        <a href="/queue" {...tab("queue")} title={t("app.inbox.tabs.queueTitle")}>
          {t("app.inbox.tabs.queue")}
        </a>
      ) : null}
    </nav>
  );
}

export function InboxSide() {
  const r = use(route);
  // Beside the queue the list stays as it was left.
  const atInbox = r.name === "inbox";
  const q = atInbox ? r.query || "" : (inbox.list.key ?? "");
  const openId = atInbox ? r.id : undefined;
  const f = useMemo(() => inbox.parseFilters(q), [q]);
  const lv = use(inbox.listV);
  const processing = use(inbox.processing);
  const unread = use(inbox.unreadDialogs);
  use(store.rights);
  const [filters, setFilters] = useState(false);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [confirm, setConfirm] = useState(false);
  const lastPick = useRef(0);
  const listRef = useRef<VirtualListHandle>(null);
  const actions = useMenu();
  const canDelete = inbox.canDelete();

  useEffect(() => inbox.show(f), [f]);
  // A selection belongs to its list.
  useEffect(() => setSelected(new Set()), [inbox.list.key]);

  const ids = inbox.list.ids;
  const sort = f.sort || inbox.list.sort;
  const set = (next: inbox.Filters) => navigate(inboxURL(next, openId));
  const nFilters = inbox.activeFilters(f);

  const pick = (id: number, on: boolean, range: boolean) => {
    const next = new Set(selected);
    if (range && lastPick.current) {
      const a = ids.indexOf(lastPick.current),
        b = ids.indexOf(id);
      if (a >= 0 && b >= 0) for (let i = Math.min(a, b); i <= Math.max(a, b); i++) on ? next.add(ids[i]) : next.delete(ids[i]);
    } else if (on) next.add(id);
    else next.delete(id);
    lastPick.current = id;
    setSelected(next);
  };
  const all = ids.length > 0 && ids.every((id) => selected.has(id));

  const filtersLabel = nFilters ? t("app.inbox.side.filtersLabelSet", { n: nFilters }) : t("app.inbox.side.filtersLabel");

  return (
    <nav class="sidebar inbox-side" aria-label={t("app.inbox.tabs.inbox")}>
      <SideTabs />
      {selected.size ? (
        <div class="inbox-bar selecting">
          <label class="pick-all" title={t("app.inbox.side.selectEvery")}>
            <input type="checkbox" checked={all} aria-label={t("app.inbox.side.selectAll")} onClick={() => setSelected(all ? new Set() : new Set(ids))} />
          </label>
          <span class="grow">{t("app.inbox.side.selected", { n: selected.size })}</span>
          <button class="btn small" aria-haspopup="menu" onClick={(e) => actions.open(e.currentTarget as HTMLElement)}>
            {t("app.inbox.side.actionsButton")}
          </button>
          <button class="btn small" onClick={() => setSelected(new Set())}>
            {t("app.inbox.side.cancel")}
          </button>
        </div>
      ) : (
        <div class="inbox-bar">
          <div class="inbox-title-row">
            <h1 class="inbox-title">
              {t("app.inbox.tabs.inbox")}
              <span class={"inbox-unread" + (unread ? " some" : "")} data-unread={unread}>
                {unread ? t("app.inbox.side.unread", { n: unread }) : t("app.inbox.side.allRead")}
              </span>
            </h1>
            <AvailabilityButton />
          </div>
          <select
            class="input small sort-select"
            aria-label={t("app.inbox.side.order")}
            value={sort}
            onChange={(e) => set({ ...f, sort: (e.currentTarget as HTMLSelectElement).value as inbox.Sort })}
          >
            <option value="processing" disabled={processing === false}>
              {processing === false ? t("app.inbox.side.processingNone") : t("app.inbox.side.processing")}
            </option>
            <option value="activity">{t("app.inbox.side.activity")}</option>
          </select>
          <button
            class={"btn small filter-btn" + (nFilters ? " on" : "")}
            aria-expanded={filters}
            aria-label={filtersLabel}
            onClick={() => setFilters(!filters)}
            onMouseEnter={FilterPanel.preload}
          >
            {t("app.inbox.side.filters")}
            {nFilters ? <span class="badge">{nFilters}</span> : null}
          </button>
        </div>
      )}
      {actions.at ? (
        <Menu
          x={actions.at.x}
          y={actions.at.y}
          label={t("app.inbox.side.actions")}
          onClose={actions.close}
          items={[{ label: t("app.inbox.side.deleteMenu", { n: selected.size }), danger: true, onSelect: () => setConfirm(true) }]}
        />
      ) : null}
      {inbox.list.error ? (
        <p class="form-error inbox-error" role="alert">
          {inbox.list.error}
        </p>
      ) : null}
      <VirtualList
        handle={listRef}
        class="conv-list inbox-list"
        role="list"
        label={t("app.inbox.side.dialogs")}
        count={ids.length}
        version={`${lv}:${selected.size}:${openId}`}
        keyAt={(i) => ids[i]}
        estimate={(i) => {
          const d = live.dialogs.get(ids[i]);
          return (d?.contact?.tags?.some((tg) => tg.pinned) ? 96 : 78) + (d?.queue_note ? 18 : 0);
        }}
        onRange={(_s, end) => {
          if (end > ids.length - 20) inbox.more();
        }}
        render={(i) => (
          <DialogRow
            id={ids[i]}
            row={i}
            active={ids[i] === openId}
            href={inboxURL(f, ids[i])}
            inbox
            selected={canDelete ? selected.has(ids[i]) : undefined}
            selecting={selected.size > 0}
            onSelect={pick}
          />
        )}
      />
      <div class="side-foot muted" aria-live="polite">
        {inbox.list.loading ? (
          <Spinner label={t("app.inbox.side.loading")} />
        ) : !ids.length ? (
          nFilters ? (
            <>
              {t("app.inbox.side.noMatch")}{" "}
              <button class="link" onClick={() => set({ ...inbox.parseFilters(""), sort: f.sort })}>
                {t("app.inbox.side.clearFilters")}
              </button>
            </>
          ) : (
            t("app.inbox.side.none")
          )
        ) : inbox.list.done ? (
          t("app.inbox.side.count", { n: ids.length })
        ) : (
          t("app.inbox.side.countMore", { n: ids.length })
        )}
      </div>
      {filters ? <FilterPanel f={f} onChange={set} onClose={() => setFilters(false)} /> : null}
      {confirm ? (
        <Confirm
          title={t("app.inbox.side.deleteTitle", { n: selected.size })}
          action={t("app.inbox.side.deleteAction")}
          onClose={() => setConfirm(false)}
          onConfirm={async () => {
            setConfirm(false);
            try {
              const n = await inbox.remove([...selected]);
              store.toast(t("app.inbox.side.deleted", { n }));
              if (openId && selected.has(openId)) navigate(inboxURL(f));
              setSelected(new Set());
            } catch (e) {
              store.fail(e);
            }
          }}
        >
          <p>{t("app.inbox.side.deleteText")}</p>
        </Confirm>
      ) : null}
    </nav>
  );
}
