// The composer: text with the character limit shown before it bites,
// send on Enter or Ctrl+Enter (per setting), quote-reply and edit modes,
// attachments by button, drag and drop or paste (each upload with progress
// and cancel; files over the server's limit are refused before they
// upload), voice messages recorded with MediaRecorder, the emoji picker,
// the typing notice, and the draft kept on the server.

import { formatKey, wrap } from "../markup";
import type { Ref } from "preact";
import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState } from "preact/hooks";
import * as api from "../api";
import { tooLarge } from "../inbox";
import { use } from "../sig";
import * as store from "../store";
import type { Conversation, Dialog, FileInfo, Message, QuickReply } from "../types";
import { chars, isPhone, messagePreview, size } from "../util";
import { CardChips, CardPicker, type CardSummary } from "./Cards";
import { Spinner } from "./common";
import { Clip, Close, Db, Mic, Send, Smile, Stop, Zap } from "./icons";
import { lazy } from "./lazy";
import { useMentionPicker } from "./Mentions";
import { t } from "../../i18n/i18n";

const EmojiPicker = lazy(() => import("../lazy/Emoji").then((m) => m.EmojiPicker));
const ScanDialog = lazy(() => import("../lazy/Scan").then((m) => m.ScanDialog));
const QuickReplies = lazy(() => import("../lazy/InboxTools").then((m) => m.QuickReplies));

/** Messages in customer dialogs are at most 2,000 characters (seed 003), whatever the server allows in team chat. */
const DIALOG_MAX = 2000;

export interface ComposerHandle {
  addFiles(files: File[]): void;
  quote(m: Message): void;
  edit(m: Message): void;
  /** Opens the quick replies panel; with a text, the form to save it as a new quick reply. */
  quickReply?(text?: string): void;
}

interface Attachment {
  key: number;
  name: string;
  size: number;
  progress: number;
  state: "uploading" | "done" | "error";
  error?: string;
  info?: FileInfo;
  abort?: () => void;
}

/** Unsent text per conversation, kept while switching between them. */
const texts = new Map<number, string>();
/** What the server last had as the draft of each conversation, as far as this device knows. */
const synced = new Map<number, string>();
let attachSeq = 0;

/**
 * What a customer dialog adds to the composer: the Whisper toggle, the
 * quick replies (the user's own and the project's shortcuts: the lightning
 * panel, and "/" to pick one), and the channel's attachment limits.
 */
export interface DialogComposer {
  whisper: boolean;
  setWhisper(on: boolean): void;
  replies: QuickReply[];
  projectId: number;
  d: Dialog;
}

export function Composer(props: { c: Conversation; h: store.History; handle: Ref<ComposerHandle>; dialog?: DialogComposer }) {
  const c = props.c;
  const dlg = props.dialog;
  const whisper = !!dlg?.whisper;
  const [pick, setPick] = useState<{ from: number; to: number; q: string; i: number } | null>(null);
  const limits = use(store.limits);
  const settings = use(store.settings);
  const [text, setText] = useState(() => texts.get(c.id) ?? c.draft ?? "");
  const [quote, setQuote] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [files, setFiles] = useState<Attachment[]>([]);
  const [scan, setScan] = useState(false);
  const [emoji, setEmoji] = useState(false);
  const [cards, setCards] = useState<CardSummary[]>([]);
  const [picker, setPicker] = useState(false);
  const [qr, setQr] = useState<{ create?: string } | null>(null);
  const [rec, setRec] = useState<{ started: number; stop: (send: boolean) => void } | null>(null);
  const [now, setNow] = useState(0);
  const ta = useRef<HTMLTextAreaElement>(null);
  const mentions = useMentionPicker(c, ta, text, (v) => change(v));
  const filesRef = useRef(files);
  filesRef.current = files;
  const whisperRef = useRef(whisper);
  whisperRef.current = whisper;

  if (!synced.has(c.id)) synced.set(c.id, c.draft || "");

  // A draft saved on another device appears here unless this one has unsaved edits.
  const draftEv = use(store.draftEvents);
  useEffect(() => {
    if (!draftEv || draftEv.convId !== c.id || editing) return;
    const local = texts.get(c.id) ?? "";
    if (local === (synced.get(c.id) ?? "") && local !== draftEv.text) {
      setText(draftEv.text);
      texts.set(c.id, draftEv.text);
    }
    synced.set(c.id, draftEv.text);
  }, [draftEv]);

  // The draft arrives with the conversation list after this mounted (reload).
  useEffect(() => {
    if (!texts.has(c.id) && c.draft && !text) setText(c.draft);
  }, [c.draft]);

  useEffect(() => {
    ta.current?.focus({ preventScroll: true });
    return () => {
      store.flushDraft(c.id);
    };
  }, [c.id]);

  // Grow with the text, up to a limit set in CSS.
  useLayoutEffect(() => {
    const el = ta.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, window.innerHeight * 0.35) + "px";
  }, [text]);

  useEffect(() => {
    if (!rec) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [rec]);

  const change = (v: string) => {
    setText(v);
    if (!dlg) mentions.onInput(v);
    if (dlg?.replies.length) findShortcut(v);
    if (editing) return;
    texts.set(c.id, v);
    store.saveDraft(c.id, v);
    // A whisper is not the visitor's business: its typing notice reaches
    // only colleagues (the server leaves the visitor out).
    if (v.trim()) store.sendTyping(c.id, whisper);
  };

  // Shortcuts: "/" at the start of a word opens the list of the project's ready texts.
  const findShortcut = (v: string) => {
    const el = ta.current;
    const caret = el ? el.selectionStart : v.length;
    const m = v.slice(0, caret).match(/(?:^|\s)\/([^\s/]*)$/);
    if (!m) {
      if (pick) setPick(null);
      return;
    }
    const from = caret - m[1].length - 1;
    setPick({ from, to: caret, q: m[1].toLowerCase(), i: 0 });
  };
  const matches = pick && dlg ? dlg.replies.filter((x) => x.shortcut.toLowerCase().includes(pick.q) || (pick.q.length > 1 && x.text.toLowerCase().includes(pick.q))).slice(0, 8) : [];
  const useShortcut = (sc: QuickReply) => {
    if (!pick) return;
    const v = text.slice(0, pick.from) + sc.text + text.slice(pick.to);
    const at = pick.from + sc.text.length;
    setPick(null);
    change(v);
    requestAnimationFrame(() => {
      ta.current?.focus();
      ta.current?.setSelectionRange(at, at);
    });
  };

  const addFiles = (list: File[]) => {
    if (whisperRef.current) {
      store.toast(t("app.chat.composer.whisperNoFiles"), "error");
      return;
    }
    const room = limits.max_files_per_message - filesRef.current.length;
    if (list.length > room) store.toast(t("app.chat.composer.tooManyFiles", { n: limits.max_files_per_message }), "error");
    for (const f of list.slice(0, Math.max(0, room))) {
      const key = ++attachSeq;
      let name = f.name || "file";
      if (/^image\.(png|jpe?g|gif)$/i.test(name)) name = "pasted-" + new Date().toISOString().replace(/[:.]/g, "-") + name.slice(5);
      const channel = dlg ? tooLarge(dlg.d, f) : "";
      if (channel) {
        setFiles((fs) => [...fs, { key, name, size: f.size, progress: 0, state: "error", error: t("app.chat.composer.tooLargeFor", { reason: channel }) }]);
        continue;
      }
      if (f.size > limits.max_file_size) {
        setFiles((fs) => [
          ...fs,
          { key, name, size: f.size, progress: 0, state: "error", error: t("app.chat.composer.tooLarge", { limit: size(limits.max_file_size) }) },
        ]);
        continue;
      }
      const up = api.upload(f, name, (p) => setFiles((fs) => fs.map((a) => (a.key === key ? { ...a, progress: p } : a))));
      setFiles((fs) => [...fs, { key, name, size: f.size, progress: 0, state: "uploading", abort: up.abort }]);
      up.promise.then(
        (info) => setFiles((fs) => fs.map((a) => (a.key === key ? { ...a, state: "done", progress: 1, info } : a))),
        (e: api.ApiError) => {
          if (e.code === "aborted") setFiles((fs) => fs.filter((a) => a.key !== key));
          else setFiles((fs) => fs.map((a) => (a.key === key ? { ...a, state: "error", error: e.message } : a)));
        },
      );
    }
    ta.current?.focus();
  };

  const remove = (a: Attachment) => {
    if (a.state === "uploading") a.abort?.();
    setFiles((fs) => fs.filter((x) => x.key !== a.key));
  };

  useImperativeHandle(
    props.handle,
    () => ({
      addFiles,
      quote(m) {
        setEditing(null);
        setQuote(m);
        ta.current?.focus();
      },
      edit(m) {
        setQuote(null);
        setEditing(m);
        setText(m.text);
        ta.current?.focus();
      },
      quickReply(create) {
        setQr({ create });
      },
    }),
    [limits, files, c.id],
  );

  const maxLen = dlg ? Math.min(limits.max_message_length, DIALOG_MAX) : limits.max_message_length;
  const count = chars(text);
  const over = count - maxLen;
  const uploading = files.some((f) => f.state === "uploading");
  const ready = files.filter((f) => f.state === "done" && f.info);
  const canSend = over <= 0 && !uploading && (text.trim() !== "" || ready.length > 0 || cards.length > 0);

  const submit = async () => {
    if (over > 0 || uploading) return;
    if (editing) {
      const m = editing;
      if (text.trim() === "" || text === m.text) {
        cancelEdit();
        return;
      }
      try {
        await store.editMessage(m, text.trim());
        cancelEdit();
      } catch (e) {
        store.fail(e);
      }
      return;
    }
    if (!canSend) return;
    if (whisper && !text.trim()) return;
    if (!props.h.atLatest) store.loadLatest(props.h);
    const refs = cards.map((k) => ({ kind: k.kind, id: k.id }));
    if (whisper) store.send(c.id, text.trim(), { whisper: true, quote: quote || undefined, cards: refs });
    else store.send(c.id, text.trim(), { quote: quote || undefined, files: ready.map((f) => f.info!), mentions: dlg ? undefined : mentions.take(text), cards: refs });
    setText("");
    setCards([]);
    texts.delete(c.id);
    setQuote(null);
    setEmoji(false); // the picker was for this message
    if (!whisper) setFiles((fs) => fs.filter((f) => f.state !== "done"));
    store.stoppedTyping(c.id);
    store.saveDraft(c.id, "", true);
    synced.set(c.id, "");
  };

  const cancelEdit = () => {
    setEditing(null);
    setText(texts.get(c.id) ?? "");
  };

  const onKey = (e: KeyboardEvent) => {
    if (mentions.onKeyDown(e)) return;
    if (pick && matches.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = matches.length;
        setPick({ ...pick, i: (pick.i + (e.key === "ArrowDown" ? 1 : n - 1)) % n });
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.isComposing) {
        e.preventDefault();
        useShortcut(matches[Math.min(pick.i, matches.length - 1)]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setPick(null);
        return;
      }
    }
    const fmt = (e.ctrlKey || e.metaKey) && !e.altKey ? formatKey(e.key, e.shiftKey) : "";
    if (fmt) {
      // Ctrl+B bold, Ctrl+I italic, Ctrl+E code, Ctrl+Shift+X strike (markup.ts).
      e.preventDefault();
      const el = e.currentTarget as HTMLTextAreaElement;
      const w = wrap(text, el.selectionStart, el.selectionEnd, fmt);
      change(w.text);
      requestAnimationFrame(() => el.setSelectionRange(w.start, w.end));
      return;
    }
    if (e.key === "Enter" && !e.isComposing) {
      const ctrl = e.ctrlKey || e.metaKey;
      const sends = settings.send_on_enter ? !ctrl && !e.shiftKey && !e.altKey : ctrl;
      if (sends) {
        e.preventDefault();
        submit();
      } else if (ctrl) {
        // Ctrl+Enter inserts a line break when Enter sends (textareas ignore it).
        e.preventDefault();
        const el = e.currentTarget as HTMLTextAreaElement;
        const s = el.selectionStart,
          en = el.selectionEnd;
        const v = text.slice(0, s) + "\n" + text.slice(en);
        change(v);
        requestAnimationFrame(() => el.setSelectionRange(s + 1, s + 1));
      }
    } else if (e.key === "Escape") {
      if (editing) cancelEdit();
      else if (quote) setQuote(null);
      else if (emoji) setEmoji(false);
    } else if (e.key === "ArrowUp" && !text && !editing) {
      // Edit your last message, as in most chat apps.
      const mine = [...props.h.msgs].reverse().find((m) => m.sender_id === store.me.value?.id && m.kind === "text" && !m.deleted_at);
      if (mine) {
        e.preventDefault();
        setEditing(mine);
        setText(mine.text);
      }
    }
  };

  const onPaste = (e: ClipboardEvent) => {
    const fl = e.clipboardData?.files;
    if (fl && fl.length && whisper) {
      e.preventDefault();
      store.toast(t("app.chat.composer.whisperNoFiles"), "error");
      return;
    }
    if (fl && fl.length) {
      e.preventDefault();
      addFiles([...fl]);
    }
  };

  const insert = (s: string) => {
    const el = ta.current;
    const at = el ? el.selectionStart : text.length;
    const end = el ? el.selectionEnd : text.length;
    change(text.slice(0, at) + s + text.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + s.length, at + s.length);
    });
  };

  const record = async () => {
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
      store.toast(t("app.chat.composer.noRecording"), "error");
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      store.toast(t("app.chat.composer.noMicrophone", { error: (e as Error).message }), "error");
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"].find((x) => MediaRecorder.isTypeSupported(x));
    const mr = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks: Blob[] = [];
    let send = true;
    mr.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    mr.onstop = () => {
      stream.getTracks().forEach((tr) => tr.stop());
      setRec(null);
      if (!send || !chunks.length) return;
      const mime = (mr.mimeType || type || "audio/webm").split(";")[0];
      const ext = mime.includes("ogg") ? "ogg" : mime.includes("mp4") ? "m4a" : "webm";
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      const file = new File(chunks, `voice-${stamp}.${ext}`, { type: mime });
      sendVoice(file);
    };
    mr.start(250);
    const started = Date.now();
    setNow(started);
    setRec({
      started,
      stop: (s) => {
        send = s;
        if (mr.state !== "inactive") mr.stop();
      },
    });
    // A voice message is at most ten minutes long.
    setTimeout(() => mr.state === "recording" && mr.stop(), 10 * 60_000);
  };

  /** sendVoice uploads a recording (with progress in the attachment list) and sends it on its own. */
  const sendVoice = (file: File) => {
    const channel = dlg ? tooLarge(dlg.d, file) : "";
    if (channel) {
      store.toast(t("app.chat.composer.recordingTooLargeFor", { reason: channel }), "error");
      return;
    }
    if (file.size > limits.max_file_size) {
      store.toast(t("app.chat.composer.recordingTooLarge", { limit: size(limits.max_file_size) }), "error");
      return;
    }
    const key = ++attachSeq;
    const up = api.upload(file, file.name, (p) => setFiles((fs) => fs.map((a) => (a.key === key ? { ...a, progress: p } : a))));
    setFiles((fs) => [...fs, { key, name: t("app.chat.composer.voiceMessage"), size: file.size, progress: 0, state: "uploading", abort: up.abort }]);
    up.promise.then(
      (info) => {
        setFiles((fs) => fs.filter((a) => a.key !== key));
        store.send(c.id, "", { files: [info] });
      },
      (e: api.ApiError) => {
        if (e.code === "aborted") setFiles((fs) => fs.filter((a) => a.key !== key));
        else setFiles((fs) => fs.map((a) => (a.key === key ? { ...a, state: "error", error: e.message } : a)));
      },
    );
  };

  const fileInput = useRef<HTMLInputElement>(null);
  const removeLabel = (f: Attachment) =>
    f.state === "uploading" ? t("app.chat.composer.cancelUpload", { name: f.name }) : t("app.chat.composer.removeFile", { name: f.name });
  const showCount = count >= maxLen * 0.8;
  const secs = rec ? Math.max(0, Math.floor((now - rec.started) / 1000)) : 0;

  return (
    <div class={"composer" + (whisper ? " whisper" : "")}>
      {pick && matches.length ? (
        <ul class="shortcuts" role="listbox" aria-label={t("app.chat.composer.shortcuts")}>
          {matches.map((sc, i) => (
            <li key={(sc.id ? "q" : "p") + sc.shortcut}>
              <button
                role="option"
                aria-selected={i === pick.i}
                class={i === pick.i ? "on" : ""}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => useShortcut(sc)}
              >
                <strong>/{sc.shortcut}</strong>
                <span>{sc.text}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {mentions.popup}
      {whisper ? <div class="whisper-note">{t("app.chat.composer.whisperNote")}</div> : null}
      {quote || editing ? (
        <div class="composer-ctx">
          <span class="ctx-label">{editing ? t("app.chat.composer.editing") : t("app.chat.composer.replyingTo", { name: store.senderName(quote!) })}</span>
          <span class="ctx-text">{messagePreview((editing || quote)!)}</span>
          <button class="icon-btn small" aria-label={editing ? t("app.chat.composer.cancelEditing") : t("app.chat.composer.cancelReply")} onClick={() => (editing ? cancelEdit() : setQuote(null))}>
            <Close size={16} />
          </button>
        </div>
      ) : null}
      {files.length ? (
        <ul class="uploads" aria-label={t("app.chat.composer.attachments")}>
          {files.map((f) => (
            <li key={f.key} class={"upload " + f.state}>
              <span class="up-name">{f.name}</span>
              <span class="up-size">{f.state === "error" ? f.error : size(f.size)}</span>
              {f.state === "uploading" ? (
                <progress max={1} value={f.progress} aria-label={t("app.chat.composer.uploadingFile", { name: f.name })} />
              ) : f.state === "done" ? (
                <span class="up-ok" aria-label={t("app.chat.composer.uploaded")}>
                  ✓
                </span>
              ) : null}
              <button class="icon-btn small" aria-label={removeLabel(f)} onClick={() => remove(f)}>
                <Close size={14} />
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <CardChips cards={cards} onRemove={(i) => setCards(cards.filter((_, j) => j !== i))} />
      {rec ? (
        <div class="recording" role="status">
          <span class="rec-dot" aria-hidden="true" />
          {t("app.chat.composer.recording", { time: `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}` })}
          <span class="grow" />
          <button class="btn" onClick={() => rec.stop(false)}>
            {t("app.chat.cancel")}
          </button>
          <button class="btn primary" onClick={() => rec.stop(true)} aria-label={t("app.chat.composer.stopAndSend")}>
            <Stop size={16} /> {t("app.chat.composer.send")}
          </button>
        </div>
      ) : (
        <div class="composer-row">
          {dlg ? (
            <button
              class={"whisper-btn" + (whisper ? " on" : "")}
              aria-pressed={whisper}
              title={t("app.chat.composer.whisperTitle")}
              onClick={() => {
                dlg.setWhisper(!whisper);
                ta.current?.focus();
              }}
            >
              {t("app.chat.composer.whisper")}
            </button>
          ) : null}
          {!whisper ? (
            <button class="icon-btn" aria-label={t("app.chat.composer.attach")} title={t("app.chat.composer.attach")} onClick={() => fileInput.current?.click()}>
              <Clip />
            </button>
          ) : null}
          {!whisper ? (
            <button class="icon-btn" aria-label={t("app.chat.composer.scan")} title={t("app.chat.composer.scanTitle")} onClick={() => setScan(true)} onMouseEnter={ScanDialog.preload}>
              <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" aria-hidden="true">
                <path d="M4 8V5a1 1 0 0 1 1-1h3M16 4h3a1 1 0 0 1 1 1v3M20 16v3a1 1 0 0 1-1 1h-3M8 20H5a1 1 0 0 1-1-1v-3M3 12h18" />
              </svg>
            </button>
          ) : null}
          {scan ? (
            <ScanDialog
              onClose={() => setScan(false)}
              onDone={(f: File) => {
                setScan(false);
                addFiles([f]);
              }}
            />
          ) : null}
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            onChange={(e) => {
              const el = e.currentTarget as HTMLInputElement;
              addFiles([...(el.files || [])]);
              el.value = "";
            }}
          />
          {dlg && !whisper ? (
            <div class="qr-wrap">
              <button
                class="icon-btn"
                aria-label={t("app.chat.composer.quickReplies")}
                title={t("app.chat.composer.quickReplies")}
                aria-expanded={!!qr}
                onClick={() => setQr(qr ? null : {})}
                onMouseEnter={QuickReplies.preload}
              >
                <Zap />
              </button>
              {qr ? (
                <QuickReplies
                  projectId={dlg.projectId}
                  create={qr.create}
                  onPick={(s: string) => {
                    setQr(null);
                    insert(s);
                  }}
                  onClose={() => {
                    setQr(null);
                    ta.current?.focus();
                  }}
                />
              ) : null}
            </div>
          ) : null}
          <div class="emoji-wrap">
            <button
              class="icon-btn"
              aria-label={t("app.chat.composer.insertCard")}
              title={t("app.chat.composer.insertCardTitle")}
              aria-expanded={picker}
              onClick={() => setPicker(!picker)}
            >
              <Db />
            </button>
            {picker ? (
              <CardPicker
                onPick={(k) => {
                  setPicker(false);
                  if (cards.length < 5 && !cards.some((x) => x.kind === k.kind && x.id === k.id)) setCards([...cards, k]);
                  ta.current?.focus();
                }}
                onClose={() => {
                  setPicker(false);
                  ta.current?.focus();
                }}
              />
            ) : null}
          </div>
          <div class="emoji-wrap">
            <button class="icon-btn" aria-label={t("app.chat.composer.emoji")} title={t("app.chat.composer.emoji")} aria-expanded={emoji} onClick={() => setEmoji(!emoji)} onMouseEnter={EmojiPicker.preload}>
              <Smile />
            </button>
            {emoji ? (
              <EmojiPicker
                onPick={(s: string) => insert(s)}
                onClose={() => {
                  setEmoji(false);
                  ta.current?.focus();
                }}
              />
            ) : null}
          </div>
          <textarea
            ref={ta}
            class={"input-text" + (over > 0 ? " over" : "")}
            rows={1}
            value={text}
            placeholder={
              whisper
                ? t("app.chat.composer.placeholderWhisper")
                : dlg
                  ? dlg.replies.length && !isPhone()
                    ? t("app.chat.composer.placeholderDialogShortcuts")
                    : t("app.chat.composer.placeholderDialog")
                  : settings.send_on_enter
                    ? t("app.chat.composer.placeholderEnter")
                    : t("app.chat.composer.placeholderCtrlEnter")
            }
            aria-label={t("app.chat.composer.message")}
            title={t("app.chat.composer.formatHint")}
            aria-describedby={showCount ? "char-count" : undefined}
            onInput={(e) => change((e.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={onKey}
            onPaste={onPaste}
            onBlur={() => setTimeout(() => setPick(null), 150)}
            aria-autocomplete={dlg ? "list" : undefined}
          />
          {text.trim() || (ready.length && !whisper) || editing || whisper || cards.length ? (
            <button class="icon-btn send" aria-label={editing ? t("app.chat.save") : t("app.chat.composer.send")} title={editing ? t("app.chat.save") : t("app.chat.composer.send")} disabled={!canSend && !editing} onClick={submit}>
              {uploading ? <Spinner label={t("app.chat.composer.uploading")} /> : <Send />}
            </button>
          ) : (
            <button class="icon-btn" aria-label={t("app.chat.composer.record")} title={t("app.chat.composer.record")} onClick={record}>
              <Mic />
            </button>
          )}
        </div>
      )}
      {showCount ? (
        <div id="char-count" class={"char-count" + (over > 0 ? " over" : "")} aria-live="polite">
          {over > 0
            ? t("app.chat.composer.overLimit", { n: over, over: String(over), max: String(maxLen) })
            : `${count} / ${maxLen}`}
        </div>
      ) : null}
    </div>
  );
}
