// Cards ("information from the database", issue 14): the composer's search
// for records the sender may see, the chips of the cards about to be sent,
// and a message's cards, each asked of the server with the reader's own
// rights (GET /api/v1/cards): a record the reader may not open shows as
// "a case you cannot open", with nothing of it.

import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import { get } from "../api";
import { navigate } from "../router";
import type { CardRef } from "../types";

export interface CardSummary {
  kind: CardRef["kind"];
  id: number;
  visible: boolean;
  title?: string;
  subtitle?: string;
  path?: string;
}

// Each kind's words, whole (a noun's form changes with the sentence in Russian and Spanish).
const NOUN = { user: "app.tasks.cards.user", contact: "app.tasks.cards.contact", case: "app.tasks.cards.case", conversation: "app.tasks.cards.conversation" } as const;
const KIND = { user: "app.tasks.cards.kindUser", contact: "app.tasks.cards.kindContact", case: "app.tasks.cards.kindCase", conversation: "app.tasks.cards.kindConversation" } as const;
const HIDDEN = {
  user: "app.tasks.cards.hiddenUser",
  contact: "app.tasks.cards.hiddenContact",
  case: "app.tasks.cards.hiddenCase",
  conversation: "app.tasks.cards.hiddenConversation",
} as const;
const OPEN = { user: "app.tasks.cards.openUser", contact: "app.tasks.cards.openContact", case: "app.tasks.cards.openCase", conversation: "app.tasks.cards.openConversation" } as const;
// Icons as SVG paths (emoji need a font the device may lack).
const PATHS: Record<CardRef["kind"] | "lock", string> = {
  user: "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
  contact: "M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM19 8v6M22 11h-6",
  case: "M9 2h6v4H9zM16 4h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2M9 12h6M9 16h4",
  conversation: "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
  lock: "M5 11h14v10H5zM8 11V7a4 4 0 0 1 8 0v4",
};
const Icon = (props: { k: CardRef["kind"] | "lock" }) => (
  <svg class="icon" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d={PATHS[props.k]} />
  </svg>
);

// Summaries are asked once per page load and record; a card's record can
// change (a case closes), which the next load shows.
const cache = new Map<string, Promise<CardSummary>>();
function summary(r: CardRef): Promise<CardSummary> {
  const k = r.kind + ":" + r.id;
  let p = cache.get(k);
  if (!p) {
    p = get<CardSummary>(`/cards?kind=${encodeURIComponent(r.kind)}&id=${r.id}`);
    p.catch(() => cache.delete(k));
    cache.set(k, p);
  }
  return p;
}

/** remember puts a summary the search returned in the cache, so a card just inserted shows at once. */
function remember(s: CardSummary) {
  cache.set(s.kind + ":" + s.id, Promise.resolve(s));
}

function CardBody(props: { s: CardSummary; onUser?: (id: number) => void }) {
  const { s } = props;
  if (!s.visible) {
    return (
      <span class="db-card hidden" data-kind={s.kind}>
        <span class="db-card-icon">
          <Icon k="lock" />
        </span>
        <span class="db-card-text">
          <span class="db-card-title">{t(HIDDEN[s.kind])}</span>
        </span>
      </span>
    );
  }
  const open = () => {
    if (s.kind === "user") props.onUser?.(s.id);
    else if (s.path) navigate(s.path);
  };
  return (
    <button class="db-card" data-kind={s.kind} onClick={open} title={t(OPEN[s.kind])}>
      <span class="db-card-icon">
        <Icon k={s.kind} />
      </span>
      <span class="db-card-text">
        <span class="db-card-title">{s.title || t("app.tasks.cards.untitled", { noun: t(NOUN[s.kind]), id: String(s.id) })}</span>
        <span class="db-card-sub">
          {t(KIND[s.kind])}
          {s.subtitle ? " · " + s.subtitle : ""}
        </span>
      </span>
    </button>
  );
}

/** MessageCards shows a message's cards as the reader may see them. */
export function MessageCards(props: { cards: CardRef[]; onUser?: (id: number) => void }) {
  const [list, setList] = useState<(CardSummary | null)[]>(() => props.cards.map(() => null));
  useEffect(() => {
    let live = true;
    props.cards.forEach((r, i) =>
      summary(r).then(
        (s) => live && setList((l) => l.map((x, j) => (j === i ? s : x))),
        () => live && setList((l) => l.map((x, j) => (j === i ? { kind: r.kind, id: r.id, visible: false } : x))),
      ),
    );
    return () => {
      live = false;
    };
  }, [props.cards.map((r) => r.kind + r.id).join()]);
  return (
    <div class="db-cards">
      {list.map((s, i) => (s ? <CardBody key={i} s={s} onUser={props.onUser} /> : <span key={i} class="db-card loading" aria-busy="true" />))}
    </div>
  );
}

/** CardChips are the cards about to be sent, each with a remove button. */
export function CardChips(props: { cards: CardSummary[]; onRemove: (i: number) => void }) {
  if (!props.cards.length) return null;
  return (
    <div class="card-chips">
      {props.cards.map((c, i) => (
        <span class="card-chip" key={c.kind + c.id}>
          <Icon k={c.kind} /> {c.title}
          <button class="icon-btn small" aria-label={t("app.tasks.cards.remove", { title: c.title || "" })} onClick={() => props.onRemove(i)}>
            ×
          </button>
        </span>
      ))}
    </div>
  );
}

/** CardPicker searches the records the sender may see and picks one. */
export function CardPicker(props: { onPick: (s: CardSummary) => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [res, setRes] = useState<CardSummary[] | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    if (!q.trim()) {
      setRes(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      get<CardSummary[]>(`/cards/search?q=${encodeURIComponent(q.trim())}`).then(
        (r) => live && setRes(r),
        () => live && setRes([]),
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [q]);
  return (
    <div class="card-picker popover" role="dialog" aria-label={t("app.tasks.cards.picker")}>
      <input
        ref={input}
        type="search"
        placeholder={t("app.tasks.cards.find")}
        aria-label={t("app.tasks.move.findRecord")}
        value={q}
        onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => e.key === "Escape" && props.onClose()}
      />
      <ul class="card-results" role="listbox">
        {res === null ? (
          <li class="muted">{t("app.tasks.cards.typeHint")}</li>
        ) : res.length === 0 ? (
          <li class="muted">{t("app.tasks.cards.none")}</li>
        ) : (
          res.map((s) => (
            <li key={s.kind + s.id} role="option">
              <button
                class="card-result"
                onClick={() => {
                  remember(s);
                  props.onPick(s);
                }}
              >
                <Icon k={s.kind} />
                <span>
                  <b>{s.title}</b>{" "}
                  <span class="muted">
                    {t(NOUN[s.kind])}
                    {s.subtitle ? " · " + s.subtitle : ""}
                  </span>
                </span>
              </button>
            </li>
          ))
        )}
      </ul>
    </div>
  );
}
