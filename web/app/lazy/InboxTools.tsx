// The support inbox's heavier parts, loaded on demand: the filters and
// sorting panel, the customer card, the attachments window, Reassign, the
// quick replies panel and the tags' administration (seed 003).

import { useEffect, useMemo, useState } from "preact/hooks";
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
    { value: 0, label: "Unassigned", hint: "Nobody in charge yet" },
    ...people.map((u) => ({
      value: u.id,
      label: u.id === store.me.value?.id ? u.name + " (you)" : u.name,
      hint: u.bot ? "Bot" : undefined,
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
      const t = inbox.tags.get(id)!;
      return { value: id, label: t.name, color: t.color, count: t.dialogs };
    });
  }, [inbox.tagsV.value, f.tag.join()]);
  const tagMode = f.no_tags ? "none" : f.tag.length ? "list" : "all";

  return (
    <div class="filter-panel" role="dialog" aria-label="Filters and sorting" onKeyDown={(e) => e.key === "Escape" && props.onClose()}>
      <header class="panel-head">
        <h2>Filters and sorting</h2>
        <button class="link" onClick={() => props.onChange({ ...inbox.parseFilters(""), sort: f.sort })}>
          Reset
        </button>
        <button class="icon-btn" aria-label="Close the filters" onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="filter-body">
        <fieldset>
          <legend>Order</legend>
          <PickList
            label="Order"
            single
            selected={[sort]}
            onChange={([v]) => set({ sort: v as inbox.Sort })}
            options={[
              {
                value: "processing",
                label: "Processing order",
                hint: processing === false ? "Unavailable: no project has reply time limits" : "Waiting for a reply first, most overdue at the top",
                disabled: processing === false,
              },
              { value: "activity", label: "Last activity", hint: "Newest communication first" },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>Status</legend>
          <PickList
            label="Status"
            single
            selected={[f.status || "any"]}
            onChange={([v]) => set({ status: v === "any" ? "" : (v as "open" | "closed") })}
            options={[
              { value: "any", label: "Any" },
              { value: "open", label: "Open" },
              { value: "closed", label: "Closed" },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>Latest message</legend>
          <PickList
            label="Latest message"
            single
            selected={[f.last_from || "any"]}
            onChange={([v]) => set({ last_from: v === "any" ? "" : (v as "customer" | "manager") })}
            options={[
              { value: "any", label: "Any" },
              { value: "customer", label: "From the customer" },
              { value: "manager", label: "From a manager" },
            ]}
          />
        </fieldset>
        <fieldset>
          <legend>Managers in charge</legend>
          {users === null ? <Spinner /> : <PickList label="Managers in charge" options={managers} selected={f.assignee} onChange={(v) => set({ assignee: v })} search={6} searchLabel="Find a manager" />}
        </fieldset>
        <fieldset>
          <legend>Channels</legend>
          <PickList label="Channels" options={channels} selected={f.channel} onChange={(v) => set({ channel: v })} />
        </fieldset>
        {/* Bots: hidden until there are bots (seed 003: the filter becomes active with the first one); one chosen in the URL stays. */}
        {bots?.length || f.bots ? (
          <fieldset>
            <legend>Bots</legend>
            <PickList
              label="Bots"
              single
              selected={[f.bots ? "bots" : "any"]}
              onChange={([v]) => set({ bots: v === "bots" })}
              options={[
                { value: "any", label: "Any" },
                {
                  value: "bots",
                  label: "In a bot's charge",
                  hint: bots?.length ? bots.slice(0, 3).map((b) => b.name).join(", ") + (bots.length > 3 ? ` and ${bots.length - 3} more` : "") : undefined,
                },
              ]}
            />
          </fieldset>
        ) : null}
        <fieldset class="tag-filter">
          <legend>Customer tags</legend>
          <PickList
            label="Customer tags mode"
            single
            selected={[tagMode]}
            onChange={([v]) => set(v === "none" ? { no_tags: true, tag: [] } : { no_tags: false, tag: [] })}
            options={[
              { value: "all", label: "All" },
              { value: "none", label: "No tags set" },
              { value: "list", label: "From the list", disabled: tagMode !== "list" },
            ]}
          />
          <label class="switch">
            <input type="checkbox" checked={f.pinned} onChange={(e) => set({ pinned: (e.currentTarget as HTMLInputElement).checked })} />
            <span>Pinned</span>
          </label>
          <PickList
            label="Tags"
            class="tag-list"
            options={tagOpts}
            selected={f.tag}
            disabled={f.no_tags}
            onChange={(v) => set({ tag: v, no_tags: false })}
            search={0}
            searchLabel="Find a tag"
            empty={f.pinned ? "No pinned tags" : "No tags yet. Administrators create them in Administration → Tags."}
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
  const tagsKey = (k?.tags || []).map((t) => `${t.tag_id}${t.pinned ? "p" : ""}`).join();
  useEffect(() => {
    if (!k) return;
    inbox.card(k.id).then(setCard, (e) => setErr(e.message));
  }, [k?.id, tagsKey, k?.blocked, k?.name, k?.email, k?.phone]);
  useEffect(() => {
    if (!inbox.tags.size) inbox.loadTags().catch(() => {});
  }, []);

  if (!k)
    return (
      <aside class="side-panel contact-card" aria-label="Customer card">
        <header class="panel-head">
          <h2>Customer</h2>
          <button class="icon-btn" aria-label="Close the customer card" onClick={props.onClose}>
            <CloseIcon />
          </button>
        </header>
        <p class="muted card-note">The customer was unpinned from this dialog: it has no customer card, and their analytics no longer count it.</p>
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
  const onCustomer = new Set((c.tags || []).map((t) => t.tag_id));
  const others = (card?.dialogs || []).filter((x) => x.conversation.id !== d.conversation.id);
  return (
    <aside class="side-panel contact-card" aria-label="Customer card">
      <header class="panel-head">
        <h2>Customer</h2>
        <button class="icon-btn" aria-label="Close the customer card" onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="photo">
        <Avatar id={live.avatarId(d)} name={live.contactName(d)} size={72} />
      </div>
      <h3 class="user-name">{live.contactName(d)}</h3>
      {c.blocked ? <p class="blocked-note">Blocked</p> : null}
      {c.external_id ? <p class="client-line">Verified visitor · id {c.external_id}</p> : null}
      {err ? <p class="form-error">{err}</p> : null}
      <h4>Contacts</h4>
      <ul class="edit-list">
        <EditableRow
          label="Contacts"
          fields={[
            { key: "name", label: "Name", maxLength: 200 },
            { key: "email", label: "E-mail", maxLength: 200 },
            { key: "phone", label: "Phone", maxLength: 50 },
          ]}
          values={{ name: c.name || "", email: c.email || "", phone: c.phone || "" }}
          view={(v) => (
            <dl class="facts">
              <dt>Name</dt>
              <dd>{v.name || <span class="muted">—</span>}</dd>
              <dt>E-mail</dt>
              <dd>{v.email ? <a href={"mailto:" + v.email}>{v.email}</a> : <span class="muted">—</span>}</dd>
              <dt>Phone</dt>
              <dd>{v.phone || <span class="muted">—</span>}</dd>
            </dl>
          )}
          onSave={(v) => inbox.saveContact(k.id, { name: v.name.trim(), email: v.email.trim(), phone: v.phone.trim() })}
        />
      </ul>
      <h4>Source</h4>
      <dl class="facts">
        <dt>Channel</dt>
        <dd>
          <ChannelIcon channel={d.support.channel} /> {channelName(d.support.channel)}
          {d.channel_name ? " · " + d.channel_name : ""}
        </dd>
        <dt>Page</dt>
        <dd class="url">{link(c.page_url)}</dd>
        <dt>Referrer</dt>
        <dd class="url">{link(c.referrer)}</dd>
        <dt>UTM source</dt>
        <dd>{c.utm_source || <span class="muted">—</span>}</dd>
        <dt>First seen</dt>
        <dd>{c.created_at ? fullTime(c.created_at) : "—"}</dd>
      </dl>
      <h4>Custom attributes</h4>
      <ul class="edit-list attrs">
        {attrs.map(([name, value]) => (
          <EditableRow
            key={name}
            label={"Attribute " + name}
            fields={[
              { key: "name", label: "Attribute", required: true, maxLength: 50 },
              { key: "value", label: "Value", maxLength: 500 },
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
            label="New attribute"
            fields={[
              { key: "name", label: "Attribute", required: true, maxLength: 50 },
              { key: "value", label: "Value", maxLength: 500 },
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
          Add an attribute
        </button>
      ) : null}
      <ContactHistory contactId={k.id} />
      <h4>Tags</h4>
      <div class="card-tags" aria-label="Customer tags">
        {(c.tags || []).map((t) => (
          <TagChip key={t.tag_id} name={t.name} color={t.color} pinned={t.pinned}>
            <button
              class={"chip-btn pin" + (t.pinned ? " on" : "")}
              aria-pressed={t.pinned}
              aria-label={(t.pinned ? "Unpin " : "Pin ") + t.name}
              title={t.pinned ? "Pinned: shown in the dialog list. Click to unpin" : "Pin: show it in the dialog list"}
              onClick={() => inbox.tagContact(k.id, t.tag_id, !t.pinned).catch(store.fail)}
            >
              <Pin size={12} />
            </button>
            <button class="chip-btn" aria-label={"Remove " + t.name} title="Take the tag off" onClick={() => inbox.untagContact(k.id, t.tag_id).catch(store.fail)}>
              ×
            </button>
          </TagChip>
        ))}
        {!(c.tags || []).length ? <span class="muted">No tags</span> : null}
      </div>
      <select
        class="input small"
        aria-label="Add a tag"
        value=""
        onChange={(e) => {
          const id = Number((e.currentTarget as HTMLSelectElement).value);
          if (id) inbox.tagContact(k.id, id, false).catch(store.fail);
        }}
      >
        <option value="">Add a tag…</option>
        {inbox.tagOrder
          .filter((id) => !onCustomer.has(id))
          .map((id) => (
            <option key={id} value={id}>
              {inbox.tags.get(id)?.name}
            </option>
          ))}
      </select>
      <h4>Other dialogs</h4>
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
                {fullTime(x.support.activity_at || x.conversation.created_at)} · {x.support.status === "open" ? "open" : "closed"}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">None</p>
      )}
      <h4>Cases</h4>
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
        <p class="muted">None</p>
      )}
      <div class="card-actions">
        <button class="btn small" onClick={() => inbox.block(k.id, !c.blocked).catch(store.fail)}>
          {c.blocked ? "Unblock the customer" : "Block the customer"}
        </button>
        <button class="btn small danger" onClick={props.onUnpin}>
          Unpin the customer…
        </button>
      </div>
      {store.canManageChat(store.me.value) ? (
        <>
          <h4>Personal data</h4>
          <div class="card-actions">
            <a class="btn small" href={inbox.exportURL(k.id)} download>
              Export data
            </a>
            <button class="btn small danger" onClick={() => setErasing(true)}>
              Erase customer…
            </button>
          </div>
        </>
      ) : null}
      {erasing ? (
        <Confirm
          title={`Erase ${live.contactName(d)}?`}
          action="Erase for good"
          onClose={() => setErasing(false)}
          onConfirm={async () => {
            setErasing(false);
            try {
              const ids = [d.conversation.id, ...(card?.dialogs || []).map((x) => x.conversation.id)];
              const r = await inbox.erase(k.id, ids);
              store.toast(`The customer was erased: ${r.dialogs} dialog${r.dialogs === 1 ? "" : "s"} and ${r.files} file${r.files === 1 ? "" : "s"} deleted.`);
              props.onClose();
              navigate("/inbox");
            } catch (e) {
              store.fail(e);
            }
          }}
        >
          <p>These are deleted for good, and cannot be brought back:</p>
          <ul class="erase-list">
            <li>
              {card ? card.dialogs.length : "Their"} dialog{card?.dialogs.length === 1 ? "" : "s"} with every message, file and rating
            </li>
            <li>
              {card ? card.cases.length : "Their"} case{card?.cases.length === 1 ? "" : "s"} with their comments
            </li>
            <li>their name, e-mail, phone, custom attributes, tags, source and messenger address</li>
          </ul>
          <p>Their chat window is disconnected. The audit log records who erased them, without their data. Export their data first if they asked for it.</p>
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
    <Modal title="Attachments" wide onClose={props.onClose} class="attachments">
      <nav class="tabs" role="tablist" aria-label="Kinds of attachments">
        {(
          [
            ["image", "Images"],
            ["file", "Files"],
          ] as const
        ).map(([k, l]) => (
          <button key={k} role="tab" aria-selected={tab === k} class={tab === k ? "on" : ""} onClick={() => setTab(k)}>
            {l}
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
        <p class="muted">{tab === "image" ? "No images in this dialog." : "No files in this dialog."}</p>
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
                  Download
                </a>
                {canSend ? (
                  <button
                    class="btn small"
                    onClick={async () => {
                      try {
                        await inbox.resend(id, f);
                        store.toast(`${f.name} sent again.`);
                        props.onClose();
                      } catch (e) {
                        setErr((e as Error).message);
                      }
                    }}
                  >
                    Send again
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
      store.toast(`Reassigned to ${people?.find((p) => p.id === to)?.name || "the manager"}.`);
      props.onClose();
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  const options: PickOption<number>[] = (people || []).map((p) => ({
    value: p.id,
    label: p.name + (p.id === store.me.value?.id ? " (you)" : ""),
    hint: (p.id === d.support.assignee_id ? "In charge now · " : "") + `Level ${p.level} · ${p.presence || store.presenceOf(p.id) || "offline"}`,
    icon: <Avatar id={p.id} name={p.name} size={26} presence={p.presence || store.presenceOf(p.id)} />,
    disabled: p.id === d.support.assignee_id,
  }));
  return (
    <Modal
      title="Reassign the dialog"
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" onClick={submit} disabled={busy || !to}>
            Reassign
          </button>
        </>
      }
    >
      <p class="muted">
        {d.assignee ? `${d.assignee.name} is in charge. ` : "Nobody is in charge yet. "}The new manager is connected to the dialog; the previous one can no longer read it
        {d.support.status === "closed" ? ". The dialog stays closed." : "."}
      </p>
      {people === null ? <Spinner /> : <PickList label="Reassign to" single options={options} selected={[to]} onChange={([v]) => setTo(v)} search={8} searchLabel="Find a manager" empty="This project has no specialists." />}
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
    { key: "shortcut", label: "Shortcut", required: true, maxLength: 32, placeholder: "thanks" },
    { key: "text", label: "Text", type: "textarea" as const, required: true, maxLength: 2000 },
  ];
  const view = (r: QuickReply) => (v: Record<string, string>) => (
    <button class="qr-pick" onClick={() => props.onPick(r.text)} title="Insert into the message">
      <strong>/{v.shortcut}</strong>
      <span>{v.text}</span>
    </button>
  );
  return (
    <div class="quick-replies" role="dialog" aria-label="Quick replies" onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), props.onClose())}>
      <header class="panel-head">
        <h2>Quick replies</h2>
        <button class="icon-btn" aria-label="Close quick replies" onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <input class="input small" type="search" placeholder="Search quick replies" aria-label="Search quick replies" value={q} autoFocus={!adding} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      <ul class="edit-list qr-list">
        {adding ? (
          <EditableRow
            isNew
            label="New quick reply"
            fields={fields}
            values={{ shortcut: "", text: props.create || "" }}
            onSave={async (v) => {
              await inbox.saveQuickReply({ shortcut: v.shortcut, text: v.text });
              setAdding(false);
              store.toast(`Quick reply /${v.shortcut.replace(/^\//, "")} saved.`);
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
              label={"Quick reply /" + r.shortcut}
              fields={fields}
              values={{ shortcut: r.shortcut, text: r.text }}
              view={view(r)}
              onSave={(v) => inbox.saveQuickReply({ id: r.id, shortcut: v.shortcut, text: v.text })}
              onDelete={() => inbox.deleteQuickReply(r.id!)}
            />
          ) : (
            <li key={"p" + r.shortcut} class="edit-row qr project">
              <div class="edit-view">{view(r)({ shortcut: r.shortcut, text: r.text })}</div>
              <span class="muted qr-owner">{live.projectName(r.project_id || 0) || "Project"}</span>
            </li>
          ),
        )}
        {all !== null && !shown.length && !adding ? <li class="muted">{needle ? "No matches" : "No quick replies yet."}</li> : null}
      </ul>
      {!adding ? (
        <button class="btn small" onClick={() => setAdding(true)}>
          New quick reply
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
    { key: "name", label: "Name", required: true, maxLength: 50 },
    { key: "color", label: "Colour", type: "color" as const },
  ];
  return (
    <div class="tags-admin">
      <p class="muted">Tags are coloured labels on customers, shared by every project. Managers put them on customers from the customer card and pin the ones the dialog list should show.</p>
      {err ? <p class="form-error">{err}</p> : null}
      <ul class="edit-list tag-rows" aria-label="Tags">
        {inbox.tagOrder.map((id) => {
          const t = inbox.tags.get(id)!;
          return (
            <EditableRow
              key={id}
              label={"Tag " + t.name}
              fields={fields}
              values={{ name: t.name, color: t.color }}
              view={(v) => (
                <>
                  <TagChip name={v.name} color={v.color} />
                  <span class="muted">
                    {t.dialogs} dialog{t.dialogs === 1 ? "" : "s"}
                  </span>
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
            label="New tag"
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
        {!inbox.tagOrder.length && !adding ? <li class="muted">No tags yet.</li> : null}
      </ul>
      {!adding ? (
        <button class="btn primary" onClick={() => setAdding(true)}>
          Create a tag
        </button>
      ) : null}
    </div>
  );
}
