// Inline SVG icons (no icon font, no requests). Each takes an optional
// title, which also becomes its accessible name.

import type { JSX } from "preact";

type P = { title?: string; class?: string; size?: number };

function svg(paths: JSX.Element | JSX.Element[], { title, class: cls, size = 18 }: P, viewBox = "0 0 24 24") {
  return (
    <svg
      class={"icon " + (cls || "")}
      width={size}
      height={size}
      viewBox={viewBox}
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      role={title ? "img" : undefined}
      aria-label={title}
      aria-hidden={title ? undefined : "true"}
    >
      {title ? <title>{title}</title> : null}
      {paths}
    </svg>
  );
}

export const Plus = (p: P) => svg(<path d="M12 5v14M5 12h14" />, p);
export const Search = (p: P) => svg([<circle cx="11" cy="11" r="7" />, <path d="m20 20-3.5-3.5" />], p);
export const Close = (p: P) => svg(<path d="M18 6 6 18M6 6l12 12" />, p);
export const Back = (p: P) => svg(<path d="M15 18l-6-6 6-6" />, p);
export const Send = (p: P) => svg([<path d="M22 2 11 13" />, <path d="M22 2 15 22l-4-9-9-4 20-7z" />], p);
export const Clip = (p: P) =>
  svg(<path d="m21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />, p);
export const Smile = (p: P) =>
  svg([<circle cx="12" cy="12" r="10" />, <path d="M8 14s1.5 2 4 2 4-2 4-2" />, <path d="M9 9h.01M15 9h.01" />], p);
export const Mic = (p: P) =>
  svg([<rect x="9" y="2" width="6" height="12" rx="3" />, <path d="M5 10a7 7 0 0 0 14 0M12 17v5M8 22h8" />], p);
export const Play = (p: P) => svg(<path d="M7 4.5v15l12.5-7.5z" fill="currentColor" />, p);
export const Pause = (p: P) => svg([<rect x="6" y="5" width="4" height="14" rx="1" fill="currentColor" />, <rect x="14" y="5" width="4" height="14" rx="1" fill="currentColor" />], p);
export const Stop = (p: P) => svg(<rect x="6" y="6" width="12" height="12" rx="2" />, p);
export const Reply = (p: P) => svg([<path d="M9 14 4 9l5-5" />, <path d="M4 9h10a6 6 0 0 1 6 6v5" />], p);
export const More = (p: P) =>
  svg([<circle cx="12" cy="5" r="1" />, <circle cx="12" cy="12" r="1" />, <circle cx="12" cy="19" r="1" />], p);
export const Bell = (p: P) =>
  svg([<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />, <path d="M13.7 21a2 2 0 0 1-3.4 0" />], p);
export const Gear = (p: P) =>
  svg(
    [
      <circle cx="12" cy="12" r="3" />,
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />,
    ],
    p,
  );
export const File = (p: P) =>
  svg([<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />, <path d="M14 2v6h6" />], p);
export const Help = (p: P) =>
  svg([<circle cx="12" cy="12" r="10" />, <path d="M9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01" />], p);
export const Users = (p: P) =>
  svg(
    [
      <path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2" />,
      <circle cx="9" cy="7" r="4" />,
      <path d="M23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8" />,
    ],
    p,
  );
/** A pin: a customer's tag shown in the dialog list. */
export const Pin = (p: P) => svg([<path d="M9 4h6l-1 6 3 3H7l3-3z" />, <path d="M12 13v8" />], p);
/** Lightning: quick replies. */
export const Zap = (p: P) => svg(<path d="M13 2 3 14h9l-1 8 10-12h-9z" />, p);
export const Wifi = (p: P) =>
  svg([<path d="M1 1l22 22M16.7 11.1A10.9 10.9 0 0 1 19 12.5M5 12.5a11 11 0 0 1 5.2-2.4M10.7 5A16 16 0 0 1 22.6 9M1.4 9a16 16 0 0 1 4.7-2.9M8.5 16.1a6 6 0 0 1 7 0M12 20h.01" />], p);

/** Clock: a message waiting in the outbox. */
export const Clock = (p: P) => svg([<circle cx="12" cy="12" r="9" />, <path d="M12 7v5l3 2" />], { size: 14, ...p });
/** One tick: delivered. */
export const Tick = (p: P) => svg(<path d="M4 12.5l5 5L20 6.5" />, { size: 16, ...p });
/** Two ticks: read. */
export const Ticks = (p: P) => svg([<path d="M1.5 12.5l5 5L17.5 6.5" />, <path d="M11.5 16.5l1 1L23.5 6.5" />], { size: 18, ...p });
/** Cross: failed. */
export const Cross = (p: P) => svg([<circle cx="12" cy="12" r="9" />, <path d="m15 9-6 6M9 9l6 6" />], { size: 14, ...p });
/** Sent (committed, not yet delivered): a hollow tick. */
export const Sent = (p: P) => svg(<path d="M4 12.5l5 5L20 6.5" stroke-dasharray="2 2.5" />, { size: 16, ...p });
export const Db = (p: P) =>
  svg([<ellipse cx="12" cy="5" rx="8" ry="3" />, <path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5" />, <path d="M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3" />], p);
