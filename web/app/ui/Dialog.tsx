// A customer dialog (seeds 002 and 003), in the inbox and in live chat: the
// customer's name, channel and manager in charge in the header with its
// actions (Reassign, Close, Mark as unread, Block, Show attachments, Unpin
// customer; Transfer and Convert to case for those connected), the history
// (the conversation view's), the composer with Whisper, quick replies and
// the channel's attachment limits, and the customer card beside it. A
// dialog the user is not connected to opens as a preview with an explicit
// Connect; a closed one reopens when someone writes in it.

import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as api from "../api";
import * as inbox from "../inbox";
import * as live from "../livechat";
import { navigate, route } from "../router";
import { use, useSelect } from "../sig";
import * as store from "../store";
import type { Dialog } from "../types";
import { fullTime } from "../util";
import { ChannelIcon, channelName } from "./channels";
import { Avatar, Confirm, Menu, Modal, Spinner, useMenu, type MenuItem } from "./common";
import { Composer, type ComposerHandle } from "./Composer";
import { HistoryList, TypingLine } from "./Conversation";
import { Back, More, Users } from "./icons";
import { lazy } from "./lazy";
import { PickList, type PickOption } from "./PickList";
import { presenceLabel } from "../people";

const CustomerCard = lazy(() => import("../lazy/InboxTools").then((m) => m.CustomerCard));
const AttachmentsWindow = lazy(() => import("../lazy/InboxTools").then((m) => m.AttachmentsWindow));
const ReassignWindow = lazy(() => import("../lazy/InboxTools").then((m) => m.ReassignWindow));

/** listURL: where Back goes: the inbox with its filters, or the chats. */
function listURL(): string {
  const r = route.value;
  return r.name === "inbox" ? "/inbox" + (r.query ? "?" + r.query : "") : "/";
}

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
            {t("app.inbox.dialog.missing")}{" "}
            <a href={listURL()} onClick={(e) => (e.preventDefault(), navigate(listURL()))}>
              {t("app.inbox.dialog.back")}
            </a>
          </p>
        ) : (
          <Spinner />
        )}
      </section>
    );
  return <DialogChat key={d.conversation.id} d={d} />;
}

type ModalKind = "" | "transfer" | "case" | "close" | "reassign" | "attachments" | "unpin";

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
  const blocked = !!d.contact?.blocked;
  // Unpinned from its customer: read-only for good (docs/inbox.md).
  const unpinned = !d.contact && !d.support.contact_id;
  // A closed dialog the user is connected to stays writable: writing reopens it.
  const canWrite = mine && !blocked;
  const readOnly = !mine;
  const name = live.contactName(d);
  const [card, setCard] = useState(() => window.matchMedia("(min-width: 1100px)").matches);
  const [whisper, setWhisper] = useState(false);
  const [modal, setModal] = useState<ModalKind>("");
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const dragDepth = useRef(0);
  const menu = useMenu();
  use(live.dialogsV);
  use(inbox.quickReplies);
  const project = live.projects.get(d.support.project_id);
  const reassign = inbox.canReassign(d);

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

  // Opening a dialog (and each new message while it is on screen) reads it, for this user only.
  useEffect(() => {
    const read = () => document.visibilityState === "visible" && inbox.read(id);
    read();
    document.addEventListener("visibilitychange", read);
    return () => document.removeEventListener("visibilitychange", read);
  }, [id, d.conversation.last_seq, mine, !!own]);

  useEffect(() => {
    if (inbox.quickReplies.value === null) inbox.loadQuickReplies();
  }, []);

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
  const assignee = d.assignee?.name || (d.support.assignee_id ? store.personName(d.support.assignee_id) : "");
  const sub = !open
    ? d.support.closed_at
      ? t("app.inbox.dialog.closedAt", { when: fullTime(d.support.closed_at) })
      : t("app.inbox.dialog.closed")
    : consultants.length
      ? t("app.inbox.dialog.with", { names: consultants.map((x) => (x.id === store.me.value?.id ? t("app.inbox.dialog.you") : x.name)).join(", ") })
      : d.waiting
        ? d.queue_note && !d.support.assignee_id
          ? t("app.inbox.dialog.waitingNote", { note: d.queue_note })
          : t("app.inbox.dialog.waiting")
        : t("app.inbox.dialog.nobody");

  // The customer's rating of a closed dialog, after "This dialog is closed".
  const rated = !d.rating
    ? ""
    : d.rating.comment
      ? t("app.inbox.dialog.ratedComment", { score: d.rating.score, comment: d.rating.comment })
      : t("app.inbox.dialog.rated", { score: d.rating.score });

  const toggleBlock = run(async () => {
    if (!d.contact) return;
    await inbox.block(d.contact.id, !blocked);
    store.toast(blocked ? t("app.inbox.dialog.unblocked", { name }) : t("app.inbox.dialog.blockedToast", { name }));
  });

  const actions: MenuItem[] = [];
  if (open && mine) {
    actions.push({ label: t("app.inbox.dialog.menu.transfer"), onSelect: () => setModal("transfer") });
    actions.push({ label: t("app.inbox.dialog.menu.toCase"), onSelect: () => setModal("case") });
  }
  if (reassign) actions.push({ label: t("app.inbox.dialog.menu.reassign"), onSelect: () => setModal("reassign") });
  if (open && (mine || reassign)) actions.push({ label: t("app.inbox.dialog.menu.close"), danger: true, onSelect: () => setModal("close") });
  actions.push({
    label: t("app.inbox.dialog.menu.markUnread"),
    onSelect: run(async () => {
      // Leave first: a dialog on screen is read again at once.
      navigate(listURL());
      await inbox.markUnread(id);
      store.toast(t("app.inbox.dialog.markedUnread"));
    }),
  });
  if (d.contact) actions.push({ label: blocked ? t("app.inbox.customer.unblock") : t("app.inbox.customer.block"), onSelect: toggleBlock });
  actions.push({ label: t("app.inbox.dialog.menu.attachments"), onSelect: () => setModal("attachments") });
  if (d.contact) actions.push({ label: t("app.inbox.customer.unpin"), danger: true, onSelect: () => setModal("unpin") });
  if (mine) actions.push({ label: t("app.inbox.dialog.menu.disconnect"), onSelect: run(() => live.disconnect(id)) });
  actions.push({ label: card ? t("app.inbox.dialog.menu.hideCard") : t("app.inbox.dialog.menu.showCard"), onSelect: () => setCard(!card) });

  return (
    <section
      class={"pane chat dialog" + (card ? " with-panel" : "")}
      aria-label={t("app.inbox.dialog.label", { name })}
      data-dialog={id}
      data-state={live.rowState(d)}
      onDragEnter={(e) => {
        if (!e.dataTransfer?.types.includes("Files") || !canWrite) return;
        e.preventDefault();
        dragDepth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes("Files") && canWrite) e.preventDefault();
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
        if (canWrite && list?.length) composer.current?.addFiles([...list]);
      }}
    >
      <div class="chat-main">
        <header class="chat-head">
          <button class="icon-btn back" aria-label={t("app.inbox.dialog.back")} onClick={() => navigate(listURL())}>
            <Back />
          </button>
          <button class="chat-who" onClick={() => setCard(!card)} title={t("app.inbox.customer.card")}>
            <span class="conv-icon">
              <Avatar id={live.avatarId(d)} name={name} size={36} />
            </span>
            <span class="chat-title">
              <h1>{name}</h1>
              <span class="chat-sub">
                <ChannelIcon channel={d.support.channel} size={12} /> {d.channel_name || channelName(d.support.channel)} · {project ? project.name + " · " : ""}
                {level > 1 ? t("app.inbox.dialog.level2") : ""}
                {sub}
                {assignee ? (
                  <span class="dlg-assignee">
                    {" · "}
                    <Users size={11} /> {d.support.assignee_id === store.me.value?.id ? t("app.inbox.dialog.youInCharge") : t("app.inbox.dialog.inCharge", { name: assignee })}
                  </span>
                ) : null}
              </span>
            </span>
          </button>
          <div class="chat-tools dialog-tools">
            {open && mine ? (
              <>
                <button class="btn small wide-only" disabled={busy} onClick={() => setModal("transfer")}>
                  {t("app.inbox.dialog.transfer")}
                </button>
                <button class="btn small wide-only" disabled={busy} onClick={() => setModal("case")}>
                  {t("app.inbox.dialog.toCase")}
                </button>
              </>
            ) : null}
            {reassign ? (
              <button class="btn small wide-only" disabled={busy} onClick={() => setModal("reassign")}>
                {t("app.inbox.dialog.reassign")}
              </button>
            ) : null}
            {open && (mine || reassign) ? (
              <button class="btn small danger wide-only" disabled={busy} onClick={() => setModal("close")}>
                {t("app.inbox.dialog.close")}
              </button>
            ) : null}
            <button class="icon-btn" aria-label={t("app.inbox.dialog.menu.label")} aria-haspopup="menu" onClick={(e) => menu.open(e.currentTarget as HTMLElement)}>
              <More />
            </button>
          </div>
        </header>
        {menu.at ? <Menu x={menu.at.x} y={menu.at.y} items={actions} onClose={menu.close} label={t("app.inbox.dialog.menu.label")} /> : null}
        {unpinned ? (
          <div class="request-banner dialog-banner preview-banner" role="status">
            <p>
              <strong>{t("app.inbox.dialog.unpinnedTitle")}</strong> {t("app.inbox.dialog.unpinnedText")}
            </p>
          </div>
        ) : !mine ? (
          <div class="request-banner dialog-banner preview-banner" role="status">
            <p>
              <strong>{t("app.inbox.dialog.previewTitle")}</strong>{" "}
              {consultants.length
                ? t("app.inbox.dialog.previewServed", { n: consultants.length, names: consultants.map((x) => x.name).join(", ") })
                : open
                  ? t("app.inbox.dialog.previewOpen")
                  : t("app.inbox.dialog.previewClosed")}
            </p>
            <div class="request-actions">
              <button class="btn primary" disabled={busy} onClick={run(() => live.connect(id))}>
                {t("app.inbox.dialog.connect")}
              </button>
            </div>
          </div>
        ) : null}
        <HistoryList
          c={c}
          h={h}
          composer={composer}
          onUser={() => setCard(true)}
          onReminder={() => store.toast(t("app.inbox.dialog.noReminders"))}
          dialog={{ visitor: name, contactReadSeq: d.support.contact_read_seq || 0, readOnly, channel: d.support.channel_id ? channelName(d.support.channel) : "" }}
        />
        <TypingLine id={id} />
        {unpinned ? null : blocked ? (
          <div class="composer-off blocked-line" role="status">
            {t("app.inbox.dialog.blocked", { name })}{" "}
            <button class="link" onClick={toggleBlock} disabled={busy}>
              {t("app.inbox.dialog.unblock")}
            </button>
          </div>
        ) : canWrite ? (
          <>
            {!open ? <div class="composer-note">{t("app.inbox.dialog.closedWrite", { rating: rated })}</div> : null}
            <Composer
              key={id}
              handle={composer}
              c={c}
              h={h}
              dialog={{ whisper, setWhisper, replies: inbox.repliesFor(d.support.project_id), projectId: d.support.project_id, d }}
            />
          </>
        ) : !open ? (
          <div class="composer-off">{t("app.inbox.dialog.closedNote", { rating: rated })}</div>
        ) : (
          <div class="composer-off">{t("app.inbox.dialog.connectToWrite")}</div>
        )}
        {dragging ? (
          <div class="drop-zone" aria-hidden="true">
            <span>{t("app.inbox.dialog.drop")}</span>
          </div>
        ) : null}
      </div>
      {card ? <CustomerCard d={d} onClose={() => setCard(false)} onUnpin={() => setModal("unpin")} /> : null}
      {modal === "transfer" ? <TransferDialog d={d} onClose={() => setModal("")} /> : null}
      {modal === "case" ? <CaseDialog d={d} onClose={() => setModal("")} /> : null}
      {modal === "reassign" ? <ReassignWindow d={d} onClose={() => setModal("")} /> : null}
      {modal === "attachments" ? <AttachmentsWindow d={d} onClose={() => setModal("")} /> : null}
      {modal === "close" ? (
        <Confirm
          title={t("app.inbox.dialog.closeTitle")}
          action={t("app.inbox.dialog.closeAction")}
          onClose={() => setModal("")}
          onConfirm={run(async () => {
            setModal("");
            await live.close(id);
          })}
        >
          <p>{t("app.inbox.dialog.closeText", { name })}</p>
        </Confirm>
      ) : null}
      {modal === "unpin" ? (
        <Confirm
          title={t("app.inbox.dialog.unpinTitle")}
          action={t("app.inbox.dialog.unpinAction")}
          onClose={() => setModal("")}
          onConfirm={run(async () => {
            setModal("");
            await inbox.unpin(id);
            store.toast(t("app.inbox.dialog.unpinned"));
          })}
        >
          <p>{t("app.inbox.dialog.unpinText", { name })}</p>
        </Confirm>
      ) : null}
    </section>
  );
}

/** The level-2 specialists of a project (transfers go to level 2). */
async function levelTwo(projectId: number) {
  return (await live.specialists(projectId)).filter((u) => u.level === 2);
}

function TransferDialog(props: { d: Dialog; onClose: () => void }) {
  const [people, setPeople] = useState<live.Person[] | null>(null);
  const [note, setNote] = useState("");
  const [handover, setHandover] = useState("");
  const [to, setTo] = useState(0);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  useEffect(() => {
    levelTwo(props.d.support.project_id).then(setPeople, (e) => {
      setPeople([]);
      setNote(e instanceof api.ApiError && e.status === 403 ? t("app.inbox.transfer.queueOnly") : e.message);
    });
  }, []);
  const submit = async () => {
    setBusy(true);
    setErr("");
    try {
      await live.transfer(props.d.conversation.id, to, handover);
      const who = people?.find((p) => p.id === to)?.name;
      store.toast(to ? (who ? t("app.inbox.transfer.done", { name: who }) : t("app.inbox.transfer.doneSpecialist")) : t("app.inbox.transfer.doneQueue"));
      props.onClose();
      navigate(listURL());
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  const options: PickOption<number>[] = [
    { value: 0, label: t("app.inbox.transfer.queue"), hint: t("app.inbox.transfer.queueHint"), icon: <span class="kind-icon"><Users size={16} /></span> },
    ...(people || []).map((p) => ({
      value: p.id,
      label: p.name,
      hint: t("app.inbox.transfer.specialist", { presence: presenceLabel(p.presence || "offline") }),
      icon: <Avatar id={p.id} name={p.name} size={26} presence={p.presence || store.presenceOf(p.id)} />,
    })),
  ];
  return (
    <Modal
      title={t("app.inbox.transfer.title")}
      onClose={props.onClose}
      footer={
        <>
          <button class="btn" onClick={props.onClose}>
            {t("app.inbox.side.cancel")}
          </button>
          <button class="btn primary" onClick={submit} disabled={busy}>
            {t("app.inbox.dialog.transfer")}
          </button>
        </>
      }
    >
      <p class="muted">{t("app.inbox.transfer.text")}</p>
      {people === null ? (
        <Spinner />
      ) : (
        <PickList label={t("app.inbox.transfer.to")} single options={options} selected={[to]} onChange={([v]) => setTo(v)} search={8} searchLabel={t("app.inbox.transfer.find")} />
      )}
      {people && !people.length && !note ? <p class="muted">{t("app.inbox.transfer.nobody")}</p> : null}
      {note ? <p class="muted">{note}</p> : null}
      <label class="field">
        <span>{t("app.inbox.transfer.note")}</span>
        <textarea
          rows={3}
          maxLength={2000}
          value={handover}
          placeholder={t("app.inbox.transfer.notePlaceholder")}
          class="input"
          onInput={(e) => setHandover((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
    </Modal>
  );
}

function CaseDialog(props: { d: Dialog; onClose: () => void }) {
  const [title, setTitle] = useState(() => t("app.inbox.case.defaultTitle", { name: live.contactName(props.d) }));
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      const c = await live.toCase(props.d.conversation.id, title.trim());
      props.onClose();
      store.toast(t("app.inbox.case.created", { id: "#" + c.id }));
    } catch (x) {
      setErr((x as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title={t("app.inbox.dialog.toCase")} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p class="muted">{t("app.inbox.case.text")}</p>
        <label class="field">
          <span>{t("app.inbox.case.title")}</span>
          <input class="input" name="title" required maxLength={200} value={title} data-autofocus onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div class="row-end">
          <button type="button" class="btn" onClick={props.onClose}>
            {t("app.inbox.side.cancel")}
          </button>
          <button class="btn primary" disabled={busy || !title.trim()}>
            {t("app.inbox.case.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
