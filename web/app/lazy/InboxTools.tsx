// The support inbox's heavier parts, loaded on demand: the filters and
// sorting panel, the customer card, the attachments window, Reassign, the
// quick replies panel and the tags' administration (seed 003).

import { useEffect, useMemo, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import { ContactHistory } from "./Tasks";
import * as api from "../api";
import * as inbox from "../inbox";
import * as live from "../livechat";
import { navigate } from "../router";
import { use, useSelect } from "../sig";
import * as store from "../store";
import type { Case, CustomerCard as Card, Dialog, DialogFile, QuickReply, User } from "../types";
import { ChannelIcon, channelName, TagChip } from "../ui/channels";
import { Avatar, Confirm, Modal, Spinner } from "../ui/common";
import { EditableRow } from "../ui/EditableRow";
import { Close as CloseIcon, File as FileIcon, Pin } from "../ui/icons";
import { PickList, type PickOption } from "../ui/PickList";
import { fullTime, size } from "../util";
import { presenceLabel } from "../people";

// ---- filters -------------------------------------------------------------------

/** Every active user, once per session: the managers in charge to filter by. */
let staff: Promise<User[]> | null = null;
function allStaff(): Promise<User[]> {
  staff ||= api
    .get<{ users: User[] }>("/users" + api.qs({ limit: 500 }))
    .then((r) => r.users.filter((u) => u.active && u.role !== "member"))
    .catch(() => {
      staff = null;
      return [];
    });
  return staff;
}

export function FilterPanel(props: { f: inbox.Filters; onChange: (f: inbox.Filters) => void; onClose: () => void }) {
  const f = props.f;
  const processing = use(inbox.processing);
  use(inbox.tagsV);
  const [users, setUsers] = useState<User[] | null>(null);
  const bots = use(inbox.bots);
  const set = (p: Partial<inbox.Filters>) => props.onChange({ ...f, ...p });
  useEffect(() => {
    allStaff().then(setUsers);
    inbox.loadBots().catch(() => {});
  }, []);
  // The counts follow the other filters.
  const others = inbox.query({ ...f, sort: "" }, { tags: false });
  useEffect(() => {
    inbox.loadTags(f).catch(store.fail);
  }, [others]);

  const sort = f.sort || inbox.list.sort;
  // Bots created since the staff was read are in charge of dialogs too.
  const people = [...(users || []), ...(bots || []).filter((b) => b.active && !(users || []).some((u) => u.id === b.id))];
  const managers: PickOption<number>[] = [
    { value: 0, label: t("app.inbox.row.unassigned"), hint: t("app.inbox.filters.nobodyInCharge") },
    ...people.map((u) => ({
      value: u.id,
      label: u.id === store.me.value?.id ? t("app.inbox.filters.you", { name: u.name }) : u.name,
      hint: u.bot ? t("app.inbox.filters.bot") : undefined,
      icon: <Avatar id={u.id} name={u.name} photo={u.photo_file_id} size={20} />,
    })),
  ];
  useEffect(inbox.loadActiveChannels, []);
  // A channel chosen in the URL stays listed, known to this server or not.
  const kinds = use(inbox.activeChannels);
  const channels: PickOption<string>[] = [...kinds, ...f.channel.filter((c) => !kinds.includes(c))].map((c) => ({
    value: c,
    label: channelName(c),
    icon: <ChannelIcon channel={c} />,
  }));
  // Tags: most used first, the selected ones moved to the top.
  const tagOpts: PickOption<number>[] = useMemo(() => {
    const ids = [...f.tag.filter((id) => inbox.tags.has(id)), ...inbox.tagOrder.filter((id) => !f.tag.includes(id))];
    return ids.map((id) => {
      const tg = inbox.tags.get(id)!;
      return { value: id, label: tg.name, color: tg.color, count: tg.dialogs };
    });
  }, [inbox.tagsV.value, f.tag.join()]);
  const tagMode = f.no_tags ? "none" : f.tag.length ? "list" : "all";
  // The first three bots by name, and how many more.
  const botNames = (bots || []).slice(0, 3).map((b) => b.name).join(", ");
  const botsHint = !bots?.length ? undefined : bots.length > 3 ? t("app.inbox.filters.botsMore", { names: botNames, n: bots.length - 3 }) : botNames;

  return (
    <div class="filter-panel" role="dialog" aria-label={t("app.inbox.side.filtersLabel")} onKeyDown={(e) => e.key === "Escape" && props.onClose()}>
      <header class="panel-head">
        <h2>{t("app.inbox.side.filtersLabel")}</h2>
        <button class="link" onClick={() => props.onChange({ ...inbox.parseFilters(""), sort: f.sort })}>
          {t("app.inbox.filters.reset")}
        </button>
        <button class="icon-btn" aria-label={t("app.inbox.filters.close")} onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="filter-body">
        <fieldset>
          <legend>{t("app.inbox.side.order")}</legend>
          <PickList
            label={t("app.inbox.side.order")}
            single
            selected={[sort]}
            onChange={([v]) => set({ sort: v as inbox.Sort })}
            options={[
              {
                value: "processing",
                label: t("app.inbox.side.processing"),
                hint: processing === false ? t("app.inbox.filters.processingNone") : t("app.inbox.filters.processingHint"),
                disabled: processing === false,
              },
              { value: "activity", label: t("app.inbox.side.activity"), hint: t("app.inbox.filters.activityHint") },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>{t("app.inbox.filters.status")}</legend>
          <PickList
            label={t("app.inbox.filters.status")}
            single
            selected={[f.status || "any"]}
            onChange={([v]) => set({ status: v === "any" ? "" : (v as "open" | "closed") })}
            options={[
              { value: "any", label: t("app.inbox.filters.any") },
              { value: "open", label: t("app.inbox.filters.open") },
              { value: "closed", label: t("app.inbox.dialog.closed") },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>{t("app.inbox.filters.latest")}</legend>
          <PickList
            label={t("app.inbox.filters.latest")}
            single
            selected={[f.last_from || "any"]}
            onChange={([v]) => set({ last_from: v === "any" ? "" : (v as "customer" | "manager") })}
            options={[
              { value: "any", label: t("app.inbox.filters.any") },
              { value: "customer", label: t("app.inbox.filters.fromCustomer") },
              { value: "manager", label: t("app.inbox.filters.fromManager") },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>{t("app.inbox.filters.managers")}</legend>
          {users === null ? (
            <Spinner />
          ) : (
            <PickList label={t("app.inbox.filters.managers")} options={managers} selected={f.assignee} onChange={(v) => set({ assignee: v })} search={6} searchLabel={t("app.inbox.filters.findManager")} />
          )}
        </fieldset>
        <fieldset>
          <legend>{t("app.inbox.filters.channels")}</legend>
          <PickList label={t("app.inbox.filters.channels")} options={channels} selected={f.channel} onChange={(v) => set({ channel: v })} />
        </fieldset>
        {/* Bots: hidden until there are bots (seed 003: the filter becomes active with the first one); one chosen in the URL stays. */}
        {bots?.length || f.bots ? (
          <fieldset>
            <legend>{t("app.inbox.filters.bots")}</legend>
            <PickList
              label={t("app.inbox.filters.bots")}
              single
              selected={[f.bots ? "bots" : "any"]}
              onChange={([v]) => set({ bots: v === "bots" })}
              options={[
                { value: "any", label: t("app.inbox.filters.any") },
                {
                  value: "bots",
                  label: t("app.inbox.filters.inBotCharge"),
                  hint: botsHint,
                },
              ]}
            />
          </fieldset>
        ) : null}
        <fieldset class="tag-filter">
          <legend>{t("app.inbox.filters.tags")}</legend>
          <PickList
            label={t("app.inbox.filters.tagsMode")}
            single
            selected={[tagMode]}
            onChange={([v]) => set(v === "none" ? { no_tags: true, tag: [] } : { no_tags: false, tag: [] })}
            options={[
              { value: "all", label: t("app.inbox.filters.all") },
              { value: "none", label: t("app.inbox.filters.noTags") },
              { value: "list", label: t("app.inbox.filters.fromList"), disabled: tagMode !== "list" },
            ]}
          />
          <label class="switch">
            <input type="checkbox" checked={f.pinned} onChange={(e) => set({ pinned: (e.currentTarget as HTMLInputElement).checked })} />
            <span>{t("app.inbox.filters.pinned")}</span>
          </label>
          <PickList
            label={t("app.inbox.customer.tags")}
            class="tag-list"
            options={tagOpts}
            selected={f.tag}
            disabled={f.no_tags}
            onChange={(v) => set({ tag: v, no_tags: false })}
            search={0}
            searchLabel={t("app.inbox.filters.findTag")}
            empty={f.pinned ? t("app.inbox.filters.noPinned") : t("app.inbox.filters.noTagsYet")}
          />
        </fieldset>
      </div>
    </div>
  );
}

// ---- the customer card ----------------------------------------------------------------

export function CustomerCard(props: { d: Dialog; onClose: () => void; onUnpin: () => void }) {
  const d = props.d;
  const k = d.contact;
  const [card, setCard] = useState<Card | null>(null);
  const [err, setErr] = useState("");
  const [addAttr, setAddAttr] = useState(false);
  const [erasing, setErasing] = useState(false);
  use(inbox.tagsV);
  const tagsKey = (k?.tags || []).map((tg) => `${tg.tag_id}${tg.pinned ? "p" : ""}`).join();
  useEffect(() => {
    if (!k) return;
    inbox.card(k.id).then(setCard, (e) => setErr(e.message));
  }, [k?.id, tagsKey, k?.blocked, k?.name, k?.email, k?.phone]);
  useEffect(() => {
    if (!inbox.tags.size) inbox.loadTags().catch(() => {});
  }, []);

  if (!k)
    return (
      <aside class="side-panel contact-card" aria-label={t("app.inbox.customer.card")}>
        <header class="panel-head">
          <h2>{t("app.inbox.customer.title")}</h2>
          <button class="icon-btn" aria-label={t("app.inbox.customer.close")} onClick={props.onClose}>
            <CloseIcon />
          </button>
        </header>
        <p class="muted card-note">{t("app.inbox.customer.unpinnedNote")}</p>
      </aside>
    );
  const c = card?.contact || k;
  const attrs = Object.entries(c.attributes || {});
  const saveAttrs = (next: Record<string, string>) => inbox.saveContact(k.id, { attributes: next }).then((x) => setCard((cd) => (cd ? { ...cd, contact: { ...cd.contact, ...x } } : cd)));
  const link = (u?: string) =>
    u ? (
      /^https?:\/\//i.test(u) ? (
        <a href={u} target="_blank" rel="noopener noreferrer">
          {u}
        </a>
      ) : (
        u
      )
    ) : (
      <span class="muted">—</span>
    );
  const onCustomer = new Set((c.tags || []).map((tg) => tg.tag_id));
  const others = (card?.dialogs || []).filter((x) => x.conversation.id !== d.conversation.id);
  return (
    <aside class="side-panel contact-card" aria-label={t("app.inbox.customer.card")}>
      <header class="panel-head">
        <h2>{t("app.inbox.customer.title")}</h2>
        <button class="icon-btn" aria-label={t("app.inbox.customer.close")} onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="photo">
        <Avatar id={live.avatarId(d)} name={live.contactName(d)} size={72} />
      </div>
      <h3 class="user-name">{live.contactName(d)}</h3>
      {c.blocked ? <p class="blocked-note">{t("app.inbox.customer.blocked")}</p> : null}
      {c.external_id ? <p class="client-line">{t("app.inbox.customer.verified", { id: c.external_id })}</p> : null}
      {err ? <p class="form-error">{err}</p> : null}
      <h4>{t("app.inbox.customer.contacts")}</h4>
      <ul class="edit-list">
        <EditableRow
          label={t("app.inbox.customer.contacts")}
          fields={[
            { key: "name", label: t("app.inbox.customer.name"), maxLength: 200 },
            { key: "email", label: t("app.inbox.customer.email"), maxLength: 200 },
            { key: "phone", label: t("app.inbox.customer.phone"), maxLength: 50 },
          ]}
          values={{ name: c.name || "", email: c.email || "", phone: c.phone || "" }}
          view={(v) => (
            <dl class="facts">
              <dt>{t("app.inbox.customer.name")}</dt>
              <dd>{v.name || <span class="muted">—</span>}</dd>
              <dt>{t("app.inbox.customer.email")}</dt>
              <dd>{v.email ? <a href={"mailto:" + v.email}>{v.email}</a> : <span class="muted">—</span>}</dd>
              <dt>{t("app.inbox.customer.phone")}</dt>
              <dd>{v.phone || <span class="muted">—</span>}</dd>
            </dl>
          )}
          onSave={(v) => inbox.saveContact(k.id, { name: v.name.trim(), email: v.email.trim(), phone: v.phone.trim() })}
        />
      </ul>
      <h4>{t("app.inbox.customer.source")}</h4>
      <dl class="facts">
        <dt>{t("app.inbox.customer.channel")}</dt>
        <dd>
          <ChannelIcon channel={d.support.channel} /> {channelName(d.support.channel)}
          {d.channel_name ? " · " + d.channel_name : ""}
        </dd>
        <dt>{t("app.inbox.customer.page")}</dt>
        <dd class="url">{link(c.page_url)}</dd>
        <dt>{t("app.inbox.customer.referrer")}</dt>
        <dd class="url">{link(c.referrer)}</dd>
        <dt>{t("app.inbox.customer.utm")}</dt>
        <dd>{c.utm_source || <span class="muted">—</span>}</dd>
        <dt>{t("app.inbox.customer.firstSeen")}</dt>
        <dd>{c.created_at ? fullTime(c.created_at) : "—"}</dd>
      </dl>
      <h4>{t("app.inbox.customer.attributes")}</h4>
      <ul class="edit-list attrs">
        {attrs.map(([name, value]) => (
          <EditableRow
            key={name}
            label={t("app.inbox.customer.attributeRow", { name })}
            fields={[
              { key: "name", label: t("app.inbox.customer.attribute"), required: true, maxLength: 50 },
              { key: "value", label: t("app.inbox.customer.value"), maxLength: 500 },
            ]}
            values={{ name, value }}
            view={(v) => (
              <span class="attr">
                <span class="attr-name">{v.name}</span> {v.value}
              </span>
            )}
            onSave={(v) => {
              const next: Record<string, string> = {};
              for (const [a, b] of attrs) next[a === name ? v.name.trim() : a] = a === name ? v.value : b;
              return saveAttrs(next);
            }}
            onDelete={() => saveAttrs(Object.fromEntries(attrs.filter(([a]) => a !== name)))}
          />
        ))}
        {addAttr ? (
          <EditableRow
            isNew
            label={t("app.inbox.customer.newAttribute")}
            fields={[
              { key: "name", label: t("app.inbox.customer.attribute"), required: true, maxLength: 50 },
              { key: "value", label: t("app.inbox.customer.value"), maxLength: 500 },
            ]}
            values={{ name: "", value: "" }}
            onSave={async (v) => {
              await saveAttrs({ ...Object.fromEntries(attrs), [v.name.trim()]: v.value });
              setAddAttr(false);
            }}
            onCancel={() => setAddAttr(false)}
          />
        ) : null}
      </ul>
      {!addAttr ? (
        <button class="btn small" onClick={() => setAddAttr(true)}>
          {t("app.inbox.customer.addAttribute")}
        </button>
      ) : null}
      <ContactHistory contactId={k.id} />
      <h4>{t("app.inbox.customer.tags")}</h4>
      <div class="card-tags" aria-label={t("app.inbox.filters.tags")}>
        {(c.tags || []).map((tg) => (
          <TagChip key={tg.tag_id} name={tg.name} color={tg.color} pinned={tg.pinned}>
            <button
              class={"chip-btn pin" + (tg.pinned ? " on" : "")}
              aria-pressed={tg.pinned}
              aria-label={tg.pinned ? t("app.inbox.customer.unpinTag", { name: tg.name }) : t("app.inbox.customer.pinTag", { name: tg.name })}
              title={tg.pinned ? t("app.inbox.customer.pinnedHint") : t("app.inbox.customer.pinHint")}
              onClick={() => inbox.tagContact(k.id, tg.tag_id, !tg.pinned).catch(store.fail)}
            >
              <Pin size={12} />
            </button>
            <button class="chip-btn" aria-label={t("app.inbox.customer.removeTag", { name: tg.name })} title={t("app.inbox.customer.removeTagHint")} onClick={() => inbox.untagContact(k.id, tg.tag_id).catch(store.fail)}>
              ×
            </button>
          </TagChip>
        ))}
        {!(c.tags || []).length ? <span class="muted">{t("app.inbox.customer.noTags")}</span> : null}
      </div>
      <select
        class="input small"
        aria-label={t("app.inbox.customer.addTag")}
        value=""
        onChange={(e) => {
          const id = Number((e.currentTarget as HTMLSelectElement).value);
          if (id) inbox.tagContact(k.id, id, false).catch(store.fail);
        }}
      >
        <option value="">{t("app.inbox.customer.addTagOption")}</option>
        {inbox.tagOrder
          .filter((id) => !onCustomer.has(id))
          .map((id) => (
            <option key={id} value={id}>
              {inbox.tags.get(id)?.name}
            </option>
          ))}
      </select>
      <h4>{t("app.inbox.customer.otherDialogs")}</h4>
      {card === null ? (
        <Spinner />
      ) : others.length ? (
        <ul class="card-links">
          {others.map((x) => (
            <li key={x.conversation.id}>
              <a
                href={`/inbox/${x.conversation.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  live.put(x);
                  live.openDialog(x.conversation.id);
                }}
              >
                {fullTime(x.support.activity_at || x.conversation.created_at)} · {x.support.status === "open" ? t("app.inbox.customer.statusOpen") : t("app.inbox.customer.statusClosed")}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{t("app.inbox.customer.none")}</p>
      )}
      <h4>{t("app.inbox.customer.cases")}</h4>
      {card?.cases?.length ? (
        <ul class="card-links">
          {card.cases.map((x: Case) => (
            <li key={x.id}>
              <a
                href={`/cases/${x.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/cases/${x.id}`);
                }}
              >
                #{x.id} {x.title} · {x.status}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{t("app.inbox.customer.none")}</p>
      )}
      <div class="card-actions">
        <button class="btn small" onClick={() => inbox.block(k.id, !c.blocked).catch(store.fail)}>
          {c.blocked ? t("app.inbox.customer.unblock") : t("app.inbox.customer.block")}
        </button>
        <button class="btn small danger" onClick={props.onUnpin}>
          {t("app.inbox.customer.unpin")}
        </button>
      </div>
      {store.canManageChat(store.me.value) ? (
        <>
          <h4>{t("app.inbox.customer.personal")}</h4>
          <div class="card-actions">
            <a class="btn small" href={inbox.exportURL(k.id)} download>
              {t("app.inbox.customer.export")}
            </a>
            <button class="btn small danger" onClick={() => setErasing(true)}>
              {t("app.inbox.customer.erase")}
            </button>
          </div>
        </>
      ) : null}
      {erasing ? (
        <Confirm
          title={t("app.inbox.erase.title", { name: live.contactName(d) })}
          action={t("app.inbox.erase.action")}
          onClose={() => setErasing(false)}
          onConfirm={async () => {
            setErasing(false);
            try {
              const ids = [d.conversation.id, ...(card?.dialogs || []).map((x) => x.conversation.id)];
              const r = await inbox.erase(k.id, ids);
              store.toast(t("app.inbox.erase.done", { dialogs: r.dialogs, files: r.files }));
              props.onClose();
              navigate("/inbox");
            } catch (e) {
              store.fail(e);
            }
          }}
        >
          <p>{t("app.inbox.erase.intro")}</p>
          <ul class="erase-list">
            <li>{card ? t("app.inbox.erase.dialogs", { n: card.dialogs.length }) : t("app.inbox.erase.theirDialogs")}</li>
            <li>{card ? t("app.inbox.erase.cases", { n: card.cases.length }) : t("app.inbox.erase.theirCases")}</li>
            <li>{t("app.inbox.erase.data")}</li>
          </ul>
          <p>{t("app.inbox.erase.outro")}</p>
        </Confirm>
      ) : null}
    </aside>
  );
}

// ---- attachments -------------------------------------------------------------------

export function AttachmentsWindow(props: { d: Dialog; onClose: () => void }) {
  const id = props.d.conversation.id;
  const [tab, setTab] = useState<"image" | "file">("image");
  const [files, setFiles] = useState<DialogFile[] | null>(null);
  const [err, setErr] = useState("");
  const canSend = live.connected(props.d) && !props.d.contact?.blocked;
  useEffect(() => {
    setFiles(null);
    setErr("");
    inbox.files(id, tab).then(setFiles, (e) => {
      setFiles([]);
      setErr(e.message);
    });
  }, [id, tab]);
  return (
    <Modal title={t("app.inbox.files.title")} wide onClose={props.onClose} class="attachments">
      <nav class="tabs" role="tablist" aria-label={t("app.inbox.files.kinds")}>
        {(
          [
            ["image", "app.inbox.files.images"],
            ["file", "app.inbox.files.files"],
          ] as const
        ).map(([k, l]) => (
          <button key={k} role="tab" aria-selected={tab === k} class={tab === k ? "on" : ""} onClick={() => setTab(k)}>
            {t(l)}
          </button>
        ))}
      </nav>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      {files === null ? (
        <Spinner />
      ) : !files.length ? (
        <p class="muted">{tab === "image" ? t("app.inbox.files.noImages") : t("app.inbox.files.noFiles")}</p>
      ) : (
        <ul class={"att-list " + tab} role="tabpanel">
          {files.map((f) => (
            <li key={f.id + ":" + f.message_id} class="att">
              {tab === "image" ? <img src={f.has_thumbnail ? api.thumbURL(f.id) : api.fileURL(f.id)} alt={f.name} loading="lazy" /> : <FileIcon size={28} />}
              <span class="att-name" title={f.name}>
                {f.name}
              </span>
              <span class="att-meta muted">
                {size(f.size)} · {fullTime(f.created_at)}
              </span>
              <span class="att-actions">
                <a class="btn small" href={api.fileURL(f.id)} download={f.name}>
                  {t("app.inbox.files.download")}
                </a>
                {canSend ? (
                  <button
                    class="btn small"
                    onClick={async () => {
                      try {
                        await inbox.resend(id, f);
                        store.toast(t("app.inbox.files.sent", { name: f.name }));
                        props.onClose();
                      } catch (e) {
                        setErr((e as Error).message);
                      }
                    }}
                  >
                    {t("app.inbox.files.sendAgain")}
                  </button>
                ) : null}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

// ---- reassign -----------------------------------------------------------------------

export function ReassignWindow(props: { d: Dialog; onClose: () => void }) {
  const d = props.d;
  const [people, setPeople] = useState<live.Person[] | null>(null);
  const [to, setTo] = useState(0);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  use(store.presenceV);
  useEffect(() => {
    live.specialists(d.support.project_id).then(setPeople, (e) => {
      setPeople([]);
      setErr(e.message);
    });
  }, []);
  const submit = async () => {
    setBusy(true);
    setErr("");
    try {
      await inbox.reassign(d.conversation.id, to);
      const who = people?.find((p) => p.id === to)?.name;
      store.toast(who ? t("app.inbox.reassign.done", { name: who }) : t("app.inbox.reassign.doneManager"));
      props.onClose();
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  const options: PickOption<number>[] = (people || []).map((p) => ({
    value: p.id,
    label: p.id === store.me.value?.id ? t("app.inbox.filters.you", { name: p.name }) : p.name,
    hint: t(p.id === d.support.assignee_id ? "app.inbox.reassign.hintInCharge" : "app.inbox.reassign.hint", {
      level: p.level,
      presence: presenceLabel(p.presence || store.presenceOf(p.id) || "offline"),
    }),
    icon: <Avatar id={p.id} name={p.name} size={26} presence={p.presence || store.presenceOf(p.id)} />,
    disabled: p.id === d.support.assignee_id,
  }));
  return (
    <Modal
      title={t("app.inbox.reassign.title")}
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.inbox.side.cancel")}
          </button>
          <button class="btn primary" onClick={submit} disabled={busy || !to}>
            {t("app.inbox.dialog.reassign")}
          </button>
        </>
      }
    >
      <p class="muted">
        {d.assignee ? t("app.inbox.reassign.inCharge", { name: d.assignee.name }) : t("app.inbox.reassign.nobody")}
        {d.support.status === "closed" ? t("app.inbox.reassign.textClosed") : t("app.inbox.reassign.text")}
      </p>
      {people === null ? (
        <Spinner />
      ) : (
        <PickList
          label={t("app.inbox.reassign.to")}
          single
          options={options}
          selected={[to]}
          onChange={([v]) => setTo(v)}
          search={8}
          searchLabel={t("app.inbox.filters.findManager")}
          empty={t("app.inbox.reassign.empty")}
        />
      )}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

// ---- quick replies ----------------------------------------------------------------------

/**
 * QuickReplies is the composer's lightning panel: the user's own quick
 * replies, then the project's shortcuts, searchable; a click inserts one.
 * The user's own are created, edited and deleted here; `create` opens the
 * form with a message's text (the lightning icon on a message).
 */
export function QuickReplies(props: { projectId: number; onPick: (text: string) => void; onClose: () => void; create?: string }) {
  const all = use(inbox.quickReplies);
  const [q, setQ] = useState("");
  const [adding, setAdding] = useState(props.create !== undefined);
  useEffect(() => {
    if (all === null) inbox.loadQuickReplies();
  }, []);
  const list = useSelect([inbox.quickReplies], () => inbox.repliesFor(props.projectId));
  const needle = q.trim().toLowerCase().replace(/^\//, "");
  const shown = needle ? list.filter((r) => r.shortcut.toLowerCase().includes(needle) || r.text.toLowerCase().includes(needle)) : list;
  const fields = [
    { key: "shortcut", label: t("app.inbox.qr.shortcut"), required: true, maxLength: 32, placeholder: t("app.inbox.qr.shortcutExample") },
    { key: "text", label: t("app.inbox.qr.text"), type: "textarea" as const, required: true, maxLength: 2000 },
  ];
  const view = (r: QuickReply) => (v: Record<string, string>) => (
    <button class="qr-pick" onClick={() => props.onPick(r.text)} title={t("app.inbox.qr.insert")}>
      <strong>/{v.shortcut}</strong>
      <span>{v.text}</span>
    </button>
  );
  return (
    <div class="quick-replies" role="dialog" aria-label={t("app.inbox.qr.title")} onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), props.onClose())}>
      <header class="panel-head">
        <h2>{t("app.inbox.qr.title")}</h2>
        <button class="icon-btn" aria-label={t("app.inbox.qr.close")} onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <input class="input small" type="search" placeholder={t("app.inbox.qr.search")} aria-label={t("app.inbox.qr.search")} value={q} autoFocus={!adding} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      <ul class="edit-list qr-list">
        {adding ? (
          <EditableRow
            isNew
            label={t("app.inbox.qr.new")}
            fields={fields}
            values={{ shortcut: "", text: props.create || "" }}
            onSave={async (v) => {
              await inbox.saveQuickReply({ shortcut: v.shortcut, text: v.text });
              setAdding(false);
              store.toast(t("app.inbox.qr.saved", { shortcut: v.shortcut.replace(/^\//, "") }));
            }}
            onCancel={() => setAdding(false)}
          />
        ) : null}
        {all === null ? <Spinner /> : null}
        {shown.map((r) =>
          r.id ? (
            <EditableRow
              key={"q" + r.id}
              class="qr own"
              label={t("app.inbox.qr.row", { shortcut: r.shortcut })}
              fields={fields}
              values={{ shortcut: r.shortcut, text: r.text }}
              view={view(r)}
              onSave={(v) => inbox.saveQuickReply({ id: r.id, shortcut: v.shortcut, text: v.text })}
              onDelete={() => inbox.deleteQuickReply(r.id!)}
            />
          ) : (
            <li key={"p" + r.shortcut} class="edit-row qr project">
              <div class="edit-view">{view(r)({ shortcut: r.shortcut, text: r.text })}</div>
              <span class="muted qr-owner">{live.projectName(r.project_id || 0) || t("app.inbox.qr.project")}</span>
            </li>
          ),
        )}
        {all !== null && !shown.length && !adding ? <li class="muted">{needle ? t("app.inbox.qr.noMatches") : t("app.inbox.qr.none")}</li> : null}
      </ul>
      {!adding ? (
        <button class="btn small" onClick={() => setAdding(true)}>
          {t("app.inbox.qr.new")}
        </button>
      ) : null}
    </div>
  );
}

// ---- tags (administration) -----------------------------------------------------------------

const PALETTE = ["#e5484d", "#f76b15", "#ffc53d", "#30a46c", "#12a594", "#0090ff", "#3457d5", "#8e4ec6", "#d6409f", "#8d8d86"];

export function TagsAdmin() {
  use(inbox.tagsV);
  const [adding, setAdding] = useState(false);
  const [err, setErr] = useState("");
  useEffect(() => {
    inbox.loadTags(inbox.parseFilters("")).catch((e) => setErr(e.message));
  }, []);
  const reload = () => inbox.loadTags(inbox.parseFilters(""));
  const fields = [
    { key: "name", label: t("app.inbox.customer.name"), required: true, maxLength: 50 },
    { key: "color", label: t("app.inbox.tags.colour"), type: "color" as const },
  ];
  return (
    <div class="tags-admin">
      <p class="muted">{t("app.inbox.tags.intro")}</p>
      {err ? <p class="form-error">{err}</p> : null}
      <ul class="edit-list tag-rows" aria-label={t("app.inbox.customer.tags")}>
        {inbox.tagOrder.map((id) => {
          const tg = inbox.tags.get(id)!;
          return (
            <EditableRow
              key={id}
              label={t("app.inbox.tags.row", { name: tg.name })}
              fields={fields}
              values={{ name: tg.name, color: tg.color }}
              view={(v) => (
                <>
                  <TagChip name={v.name} color={v.color} />
                  <span class="muted">{t("app.inbox.side.count", { n: tg.dialogs })}</span>
                </>
              )}
              onSave={async (v) => {
                await inbox.updateTag(id, v.name.trim(), v.color);
                await reload();
              }}
              onDelete={async () => {
                await inbox.deleteTag(id);
                await reload();
              }}
            />
          );
        })}
        {adding ? (
          <EditableRow
            isNew
            label={t("app.inbox.tags.new")}
            fields={fields}
            values={{ name: "", color: PALETTE[inbox.tagOrder.length % PALETTE.length] }}
            onSave={async (v) => {
              await inbox.createTag(v.name.trim(), v.color);
              await reload();
              setAdding(false);
            }}
            onCancel={() => setAdding(false)}
          />
        ) : null}
        {!inbox.tagOrder.length && !adding ? <li class="muted">{t("app.inbox.tags.none")}</li> : null}
      </ul>
      {!adding ? (
        <button class="btn primary" onClick={() => setAdding(true)}>
          {t("app.inbox.tags.create")}
        </button>
      ) : null}
    </div>
  );
}
