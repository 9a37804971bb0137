// A thread beside the chat (full screen on a phone): its first message, its
// replies (older ones on demand), and a composer whose replies go through
// the outbox like any message (client id, retries), with @mentions and
// "Also send to the chat".

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import * as chat from "../chat";
import { use } from "../sig";
import * as store from "../store";
import type { Conversation } from "../types";
import { Spinner } from "./common";
import { Close, Send } from "./icons";
import { useMentionPicker } from "./Mentions";
import { MessageRow, pendingRow, type Row, type RowActions } from "./Messages";
import { t } from "../../i18n/i18n";

export function ThreadPanel(props: { c: Conversation }) {
  const c = props.c;
  const th = use(chat.thread);
  use(chat.threadV);
  use(store.outboxV);
  const pv = use(store.peopleV);
  const [text, setText] = useState("");
  const [also, setAlso] = useState(false);
  const ta = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const mentions = useMentionPicker(c, ta, text, (v) => change(v));
  const settings = use(store.settings);

  const change = (v: string) => {
    setText(v);
    mentions.onInput(v);
  };

  const rootId = th?.root.id;
  useEffect(() => {
    if (rootId) ta.current?.focus({ preventScroll: true });
  }, [rootId]);

  const rows: Row[] = useMemo(() => {
    if (!th) return [];
    const out: Row[] = th.replies.map((m) => ({ key: m.id, m }));
    for (const p of store.pendingFor(c.id, th.root.id)) out.push(pendingRow(p));
    return out;
  }, [th, th?.replies, store.outboxV.value]);

  // Follow new replies.
  useLayoutEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [rows.length]);

  if (!th || th.root.conversation_id !== c.id) return null;

  const actions: RowActions = {
    menu() {},
    reply() {
      ta.current?.focus();
    },
    jump() {},
    image() {},
    user() {},
    retry: store.retry,
    discard: store.discard,
  };

  const submit = () => {
    if (!text.trim()) return;
    chat.sendReply(text, mentions.take(text), also);
    setText("");
    setAlso(false);
  };

  const onKey = (e: KeyboardEvent) => {
    if (mentions.onKeyDown(e)) return;
    if (e.key === "Escape") {
      e.preventDefault();
      chat.closeThread();
      return;
    }
    if (e.key === "Enter" && !e.isComposing) {
      const ctrl = e.ctrlKey || e.metaKey;
      if (settings.send_on_enter ? !ctrl && !e.shiftKey && !e.altKey : ctrl) {
        e.preventDefault();
        submit();
      }
    }
  };

  const n = th.root.thread?.replies || th.replies.length;
  return (
    <aside class="side-panel thread-panel" aria-label={t("app.chat.thread.label")}>
      <header class="panel-head">
        <h2>{t("app.chat.thread.label")}</h2>
        <button class="icon-btn" aria-label={t("app.chat.thread.close")} onClick={chat.closeThread}>
          <Close />
        </button>
      </header>
      <div class="thread-list" ref={list} role="log" aria-label={t("app.chat.thread.replies")}>
        <div class="thread-root">
          <MessageRow r={{ key: th.root.id, m: th.root }} group={c.kind !== "direct"} flash={false} unreadMark={false} a={actions} pv={pv} inThread />
        </div>
        <div class="thread-count" role="separator">
          <span>
            {t("app.chat.thread.count", { n })}
          </span>
        </div>
        {th.hasOlder ? (
          <button class="btn small center-btn" onClick={chat.loadOlderReplies} disabled={th.loading}>
            {t("app.chat.thread.earlier")}
          </button>
        ) : null}
        {th.loading && !th.replies.length ? <Spinner label={t("app.chat.thread.loading")} /> : null}
        {th.error ? <p class="form-error">{th.error}</p> : null}
        {rows.map((r, i) => (
          <MessageRow
            key={r.key}
            r={r}
            // The first reply follows the root's day, never compact under it.
            prev={rows[i - 1]?.m || { ...th.root, sender_id: -1 }}
            status={r.pending ? undefined : store.statusOf(c, r.m)}
            group={c.kind !== "direct"}
            flash={false}
            unreadMark={false}
            a={actions}
            pv={pv}
            inThread
          />
        ))}
      </div>
      <div class="composer thread-composer">
        {mentions.popup}
        <div class="composer-row">
          <textarea
            ref={ta}
            class="input-text"
            rows={2}
            value={text}
            placeholder={t("app.chat.thread.placeholder")}
            aria-label={t("app.chat.thread.input")}
            onInput={(e) => change((e.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={onKey}
          />
          <button class="icon-btn send" aria-label={t("app.chat.thread.send")} title={t("app.chat.composer.send")} disabled={!text.trim()} onClick={submit}>
            <Send />
          </button>
        </div>
        <label class="also-send">
          <input type="checkbox" checked={also} onChange={(e) => setAlso((e.currentTarget as HTMLInputElement).checked)} /> {t("app.chat.thread.alsoToChat")}
        </label>
      </div>
    </aside>
  );
}
