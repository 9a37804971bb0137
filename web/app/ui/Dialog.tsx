// A live-chat dialog (seed 002): the visitor's name and the consultants
// connected in the header, Transfer / Convert to case / Close, the history
// (the conversation view's), the composer with the Whisper toggle and the
// project's shortcuts, and the visitor's contact card. A dialog the user is
// not connected to, or a closed one, is shown read-only (the full record,
// from Metrics → View detail).

import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import * as live from "../livechat";
import { navigate } from "../router";
import { use, useSelect } from "../sig";
import * as store from "../store";
import type { Contact, Dialog, Group, Specialist, User } from "../types";
import { fullTime } from "../util";
import { Avatar, Menu, Modal, Spinner, useMenu, type MenuItem } from "./common";
import { Composer, type ComposerHandle } from "./Composer";
import { HistoryList, TypingLine } from "./Conversation";
import { Back, Close as CloseIcon, More, Users } from "./icons";

export function DialogView(props: { id: number }) {
  const d = useSelect([live.dialogsV], () => live.dialogs.get(props.id));
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    setMissing(false);
    live.fetchDialog(props.id).then((x) => !x && !live.dialogs.has(props.id) && setMissing(true));
  }, [props.id]);
  if (!d)
    return (
      <section class="pane empty-pane">
        {missing ? (
          <p>
            This dialog does not exist or you may not see it.{" "}
            <a href="/" onClick={(e) => (e.preventDefault(), navigate("/"))}>
              Back to the list
            </a>
          </p>
        ) : (
          <Spinner />
        )}
      </section>
    );
  return <DialogChat key={d.conversation.id} d={d} />;
}

function DialogChat(props: { d: Dialog }) {
  const d = props.d;
  const id = d.conversation.id;
  // The user's own copy of the conversation (read state, draft) once connected.
  const own = useSelect([store.convsV], () => store.convs.get(id));
  const c = own || d.conversation;
  const hv = useSelect([store.convsV], () => store.histories.get(id));
  const h = store.history(id);
  const mine = live.connected(d);
  const open = d.support.status === "open";
  const readOnly = !mine || !open;
  const name = live.contactName(d);
  const [card, setCard] = useState(() => window.matchMedia("(min-width: 1100px)").matches);
  const [whisper, setWhisper] = useState(false);
  const [modal, setModal] = useState<"" | "transfer" | "case" | "close">("");
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const dragDepth = useRef(0);
  const menu = useMenu();
  use(live.dialogsV);
  const project = live.projects.get(d.support.project_id);

  useEffect(() => {
    store.viewing.convId = id;
    return () => {
      if (store.viewing.convId === id) store.viewing.convId = 0;
    };
  }, [id]);

  // Load the history (again after a disconnect dropped it from the store).
  useEffect(() => {
    if (!h.started) store.loadLatest(h);
  }, [h, hv]);

  // Reconnecting or joining makes the user a member: the history is then theirs to read.
  useEffect(() => {
    if (mine && own) store.markRead(id);
  }, [mine, !!own]);

  const run = (fn: () => Promise<unknown>) => async () => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy(false);
    }
  };

  const consultants = d.consultants || [];
  const level = d.support.level || 1;
  const sub = !open
    ? "Closed" + (d.support.closed_at ? " · " + fullTime(d.support.closed_at) : "")
    : consultants.length
      ? "With " + consultants.map((x) => (x.id === store.me.value?.id ? "you" : x.name)).join(", ")
      : d.waiting
        ? "Waiting for an answer"
        : "Nobody connected";

  const actions: MenuItem[] = [];
  if (open && mine) {
    actions.push({ label: "Transfer…", onSelect: () => setModal("transfer") });
    actions.push({ label: "Convert to case…", onSelect: () => setModal("case") });
    actions.push({ label: "Close the dialog…", danger: true, onSelect: () => setModal("close") });
    actions.push({ label: "Disconnect", onSelect: run(() => live.disconnect(id)) });
  }
  actions.push({ label: card ? "Hide the contact card" : "Show the contact card", onSelect: () => setCard(!card) });

  return (
    <section
      class={"pane chat dialog" + (card ? " with-panel" : "")}
      aria-label={"Dialog with " + name}
      data-dialog={id}
      data-state={live.rowState(d)}
      onDragEnter={(e) => {
        if (!e.dataTransfer?.types.includes("Files") || readOnly) return;
        e.preventDefault();
        dragDepth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes("Files") && !readOnly) e.preventDefault();
      }}
      onDragLeave={() => {
        if (--dragDepth.current <= 0) {
          dragDepth.current = 0;
          setDragging(false);
        }
      }}
      onDrop={(e) => {
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        const list = e.dataTransfer?.files;
        if (!readOnly && list?.length) composer.current?.addFiles([...list]);
      }}
    >
      <div class="chat-main">
        <header class="chat-head">
          <button class="icon-btn back" aria-label="Back to the conversation list" onClick={() => navigate("/")}>
            <Back />
          </button>
          <button class="chat-who" onClick={() => setCard(!card)} title="Contact card">
            <span class="conv-icon">
              <Avatar id={d.contact.id * 31 + 7} name={name} size={36} />
            </span>
            <span class="chat-title">
              <h1>{name}</h1>
              <span class="chat-sub">
                {project ? project.name + " · " : ""}
                {level > 1 ? "Level 2 · " : ""}
                {sub}
              </span>
            </span>
          </button>
          <div class="chat-tools dialog-tools">
            {open && mine ? (
              <>
                <button class="btn small wide-only" disabled={busy} onClick={() => setModal("transfer")}>
                  Transfer
                </button>
                <button class="btn small wide-only" disabled={busy} onClick={() => setModal("case")}>
                  Convert to case
                </button>
                <button class="btn small danger wide-only" disabled={busy} onClick={() => setModal("close")}>
                  Close
                </button>
              </>
            ) : null}
            <button class="icon-btn" aria-label="Dialog menu" aria-haspopup="menu" onClick={(e) => menu.open(e.currentTarget as HTMLElement)}>
              <More />
            </button>
          </div>
        </header>
        {menu.at ? <Menu x={menu.at.x} y={menu.at.y} items={actions} onClose={menu.close} label="Dialog menu" /> : null}
        {open && !mine ? (
          <div class="request-banner dialog-banner" role="status">
            <p>
              {consultants.length ? (
                <>
                  <strong>{consultants.map((x) => x.name).join(", ")}</strong> {consultants.length === 1 ? "is" : "are"} serving this visitor. You
                  are not connected.
                </>
              ) : (
                <>You are not connected to this dialog.</>
              )}
            </p>
            <div class="request-actions">
              <button class="btn primary" disabled={busy} onClick={run(() => live.connect(id))}>
                Connect
              </button>
            </div>
          </div>
        ) : null}
        <HistoryList
          c={c}
          h={h}
          composer={composer}
          onUser={() => setCard(true)}
          onReminder={() => store.toast("Reminders are not available in dialogs.")}
          dialog={{ visitor: name, contactReadSeq: d.support.contact_read_seq || 0, readOnly }}
        />
        <TypingLine id={id} />
        {!open ? (
          <div class="composer-off">
            This dialog is closed{d.rating ? ` · rated ${d.rating.score}/5${d.rating.comment ? ": “" + d.rating.comment + "”" : ""}` : ""}.
          </div>
        ) : mine ? (
          <Composer
            key={id}
            handle={composer}
            c={c}
            h={h}
            dialog={{ whisper, setWhisper, shortcuts: project?.messages?.shortcuts || [] }}
          />
        ) : (
          <div class="composer-off">Connect to write to the visitor.</div>
        )}
        {dragging ? (
          <div class="drop-zone" aria-hidden="true">
            <span>Drop files to send them to the visitor</span>
          </div>
        ) : null}
      </div>
      {card ? <ContactCard d={d} onClose={() => setCard(false)} /> : null}
      {modal === "transfer" ? <TransferDialog d={d} onClose={() => setModal("")} /> : null}
      {modal === "case" ? <CaseDialog d={d} onClose={() => setModal("")} /> : null}
      {modal === "close" ? (
        <Modal
          title="Close the dialog?"
          onClose={() => setModal("")}
          footer={
            <>
              <button class="btn" onClick={() => setModal("")}>
                Cancel
              </button>
              <button
                class="btn danger"
                data-autofocus
                onClick={run(async () => {
                  setModal("");
                  await live.close(id);
                })}
              >
                Close the dialog
              </button>
            </>
          }
        >
          <p>The conversation with {name} ends; they are asked to rate it.</p>
        </Modal>
      ) : null}
    </section>
  );
}

/** The contact card: who the visitor is and where they came from. */
function ContactCard(props: { d: Dialog; onClose: () => void }) {
  const k: Contact = props.d.contact;
  const attrs = Object.entries(k.attributes || {});
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
  return (
    <aside class="side-panel contact-card" aria-label="Contact card">
      <header class="panel-head">
        <h2>Contact</h2>
        <button class="icon-btn" aria-label="Close the contact card" onClick={props.onClose}>
          <CloseIcon />
        </button>
      </header>
      <div class="photo">
        <Avatar id={k.id * 31 + 7} name={live.contactName(props.d)} size={72} />
      </div>
      <h3 class="user-name">{live.contactName(props.d)}</h3>
      {k.external_id ? <p class="client-line">Verified visitor · id {k.external_id}</p> : null}
      <dl class="facts">
        <dt>E-mail</dt>
        <dd>{k.email ? <a href={"mailto:" + k.email}>{k.email}</a> : <span class="muted">—</span>}</dd>
        {k.phone ? (
          <>
            <dt>Phone</dt>
            <dd>{k.phone}</dd>
          </>
        ) : null}
        <dt>Page</dt>
        <dd class="url">{link(k.page_url)}</dd>
        <dt>Referrer</dt>
        <dd class="url">{link(k.referrer)}</dd>
        <dt>UTM source</dt>
        <dd>{k.utm_source || <span class="muted">—</span>}</dd>
        {attrs.map(([a, v]) => (
          <>
            <dt key={"k" + a}>{a}</dt>
            <dd key={"v" + a}>{v}</dd>
          </>
        ))}
        <dt>First seen</dt>
        <dd>{k.created_at ? fullTime(k.created_at) : "—"}</dd>
        {k.last_seen_at ? (
          <>
            <dt>Last seen</dt>
            <dd>{fullTime(k.last_seen_at)}</dd>
          </>
        ) : null}
      </dl>
    </aside>
  );
}

/** The level-2 specialists of a project, with groups expanded into their members. */
async function levelTwo(projectId: number): Promise<{ id: number; name: string; presence?: User["presence"] }[]> {
  const res = await api.get<unknown>(`/projects/${projectId}/specialists`);
  const specs: Specialist[] = Array.isArray(res) ? res : (res as { specialists?: Specialist[] })?.specialists || [];
  const level1 = new Set<number>();
  const ids = new Set<number>();
  let groups: Group[] | null = null;
  for (const s of specs) {
    let members: number[] = [];
    if (s.user_id) members = [s.user_id];
    else if (s.group_id) {
      groups ||= (await api.get<{ groups: Group[] }>("/groups")).groups;
      members = groups.find((g) => g.id === s.group_id)?.member_ids || [];
    }
    for (const u of members) (s.level === 1 ? level1 : ids).add(u);
  }
  // Associated twice: the lower level wins.
  const two = [...ids].filter((u) => !level1.has(u));
  if (!two.length) return [];
  const users = await api.get<{ users: User[] }>("/users" + api.qs({ ids: two.join(","), limit: 500 }));
  return users.users.filter((u) => u.active).map((u) => ({ id: u.id, name: u.name, presence: u.presence }));
}

function TransferDialog(props: { d: Dialog; onClose: () => void }) {
  const [people, setPeople] = useState<{ id: number; name: string; presence?: User["presence"] }[] | null>(null);
  const [note, setNote] = useState("");
  const [to, setTo] = useState(0);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  useEffect(() => {
    levelTwo(props.d.support.project_id).then(setPeople, (e) => {
      setPeople([]);
      setNote(e instanceof api.ApiError && e.status === 403 ? "Only the level-2 queue can be chosen: you may not list this project's specialists." : e.message);
    });
  }, []);
  const submit = async () => {
    setBusy(true);
    setErr("");
    try {
      await live.transfer(props.d.conversation.id, to);
      store.toast(to ? `Transferred to ${people?.find((p) => p.id === to)?.name || "the specialist"}.` : "Transferred to the level-2 queue.");
      props.onClose();
      navigate("/");
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Transfer to level 2"
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" onClick={submit} disabled={busy}>
            Transfer
          </button>
        </>
      }
    >
      <p class="muted">You are disconnected from the dialog; the level-2 specialists you choose are alerted.</p>
      <ul class="people pick-list" role="radiogroup" aria-label="Transfer to">
        <li>
          <label class={"person" + (to === 0 ? " on" : "")}>
            <input type="radio" name="transfer_to" checked={to === 0} onChange={() => setTo(0)} />
            <span class="kind-icon">
              <Users size={16} />
            </span>
            <span class="person-main">
              <span class="person-name">The level-2 queue</span>
              <span class="person-sub">Every level-2 specialist of the project is alerted</span>
            </span>
          </label>
        </li>
        {people === null ? (
          <li>
            <Spinner />
          </li>
        ) : (
          people.map((p) => (
            <li key={p.id}>
              <label class={"person" + (to === p.id ? " on" : "")}>
                <input type="radio" name="transfer_to" checked={to === p.id} onChange={() => setTo(p.id)} />
                <Avatar id={p.id} name={p.name} size={30} presence={p.presence || store.presenceOf(p.id)} />
                <span class="person-main">
                  <span class="person-name">{p.name}</span>
                  <span class="person-sub">Level-2 specialist · {p.presence || "offline"}</span>
                </span>
              </label>
            </li>
          ))
        )}
      </ul>
      {people && !people.length && !note ? <p class="muted">This project has no level-2 specialists yet.</p> : null}
      {note ? <p class="muted">{note}</p> : null}
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

function CaseDialog(props: { d: Dialog; onClose: () => void }) {
  const [title, setTitle] = useState(`Chat with ${live.contactName(props.d)}`);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const c = await live.toCase(props.d.conversation.id, title.trim());
      props.onClose();
      store.toast(`Case #${c.id} created.`);
    } catch (x) {
      setErr((x as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title="Convert to case" onClose={props.onClose}>
      <form onSubmit={submit}>
        <p class="muted">The case gets the transcript of the dialog (without whispers) and the project's case template.</p>
        <label class="field">
          <span>Title</span>
          <input class="input" name="title" required maxLength={200} value={title} data-autofocus onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button class="btn primary" disabled={busy || !title.trim()}>
            Create the case
          </button>
        </div>
      </form>
    </Modal>
  );
}
