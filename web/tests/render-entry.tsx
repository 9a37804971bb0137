// The message text renderers, bundled on their own for
// tests/render.test.mjs: the web app's Text component (Preact) and the
// widget's text().
import { h, render } from "preact";
import { Text } from "../app/ui/Messages";
import { Formatted } from "../app/ui/Markup";
import { text } from "../widget/view";

/** appText renders a message text as the web app does, into a new element. */
export function appText(t: string, highlight?: string): HTMLElement {
  const el = document.createElement("p");
  render(h(Text, { text: t, highlight }), el);
  return el;
}

/** widgetText renders a message text as the widget does. */
export function widgetText(t: string): HTMLElement {
  const el = document.createElement("div");
  text(el, t);
  return el;
}

/** appFormatted renders a message text as the web app's message rows do: formatted. */
export function appFormatted(t: string, highlight?: string): HTMLElement {
  const el = document.createElement("div");
  render(h(Formatted, { text: t, highlight }), el);
  return el;
}
