// The web app's rendering of a formatted message text (see ../markup.ts):
// Preact elements and text nodes only, never HTML. Search words are marked
// in the text pieces, as the plain Text component marks them.

import type { ComponentChildren } from "preact";
import { del } from "../api";
import { parse, type Block, type Inline } from "../markup";
import { toast } from "../store";
import type { LinkPreview, Message } from "../types";
import { t } from "../../i18n/i18n";

/** Mark renders a piece of plain text (search words marked, mentions as chips). */
export type Mark = (s: string, key: string) => ComponentChildren;

export function marker(highlight?: string): Mark {
  const words = highlight
    ?.toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (!words?.length) return (s) => s;
  const re = new RegExp("(" + words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "gi");
  return (s, k) => s.split(re).map((part, i) => (i % 2 ? <mark key={k + "-" + i}>{part}</mark> : part));
}

function inlines(xs: Inline[], mark: Mark, key: string): ComponentChildren[] {
  return xs.map((x, i) => {
    const k = key + "." + i;
    switch (x.t) {
      case "text":
        return mark(x.s, k);
      case "code":
        return <code key={k}>{x.s}</code>;
      case "link":
        return (
          <a key={k} href={x.href} target="_blank" rel="noopener noreferrer">
            {x.s}
          </a>
        );
      case "b":
        return <strong key={k}>{inlines(x.c, mark, k)}</strong>;
      case "i":
        return <em key={k}>{inlines(x.c, mark, k)}</em>;
      case "s":
        return <del key={k}>{inlines(x.c, mark, k)}</del>;
    }
  });
}

function blocks(bs: Block[], mark: Mark, key: string): ComponentChildren[] {
  return bs.map((b, i) => {
    const k = key + "/" + i;
    switch (b.t) {
      case "p":
        return <p key={k}>{inlines(b.c, mark, k)}</p>;
      case "pre":
        return (
          <pre key={k}>
            <code>{b.s}</code>
          </pre>
        );
      case "quote":
        return <blockquote key={k}>{blocks(b.c, mark, k)}</blockquote>;
      case "ul":
        return (
          <ul key={k}>
            {b.items.map((it, j) => (
              <li key={j}>{inlines(it, mark, k + "-" + j)}</li>
            ))}
          </ul>
        );
      case "ol":
        return (
          <ol key={k} start={b.start}>
            {b.items.map((it, j) => (
              <li key={j}>{inlines(it, mark, k + "-" + j)}</li>
            ))}
          </ol>
        );
    }
  });
}

/** Formatted renders a message text with its formatting. */
export function Formatted(props: { text: string; highlight?: string; mark?: Mark }) {
  return <>{blocks(parse(props.text), props.mark || marker(props.highlight), "m")}</>;
}

/** PreviewCard is a message's link preview: the page's site, title, description and image, all kept by Parley. */
export function PreviewCard(props: { m: Message; p: LinkPreview; mine: boolean }) {
  const { m, p } = props;
  const host = (() => {
    try {
      return new URL(p.url).host;
    } catch {
      return "";
    }
  })();
  return (
    <div class="link-card">
      <a class="link-card-body" href={p.url} target="_blank" rel="noopener noreferrer">
        <span class="link-card-site">{p.site_name || host}</span>
        {p.title ? <span class="link-card-title">{p.title}</span> : null}
        {p.description ? <span class="link-card-desc">{p.description}</span> : null}
      </a>
      {p.image ? <img class="link-card-img" src={"/api/v1/link-images/" + encodeURIComponent(p.image)} alt="" loading="lazy" /> : null}
      {props.mine ? (
        <button
          class="icon-btn small link-card-x"
          title={t("app.chat.preview.remove")}
          aria-label={t("app.chat.preview.remove")}
          onClick={() => del(`/messages/${m.id}/preview`).catch((e) => toast(String(e?.message || e), "error"))}
        >
          ×
        </button>
      ) : null}
    </div>
  );
}
