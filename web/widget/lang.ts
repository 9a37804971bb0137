// The widget's language (docs/livechat.md, "Language"): the embed snippet's
// data-lang (or ParleySettings.lang) wins, then the host page's <html lang>,
// then the visitor's browser languages; English otherwise. English is built
// into widget.js; another language's catalogue is its own small script,
// widget-<lang>.js next to widget.js (vite.widget.config.ts), loaded before
// the widget draws anything. If it does not come, the widget speaks English.

import { choose, use, type Catalog, type Lang } from "../i18n/i18n";
import en from "../i18n/widget/en";

/** pick chooses the widget's language from the snippet, the page and the browser. */
export function pick(me: HTMLScriptElement, settings?: { lang?: unknown }): Lang {
  return choose(me.dataset.lang, typeof settings?.lang === "string" ? settings.lang : "", document.documentElement.lang, navigator.languages);
}

/** load makes l the language of t(): at once for English, else once its catalogue has loaded from base (5 s at most). */
export function load(l: Lang, base: string): Promise<void> {
  use("en", en, en);
  if (l === "en") return Promise.resolve();
  const w = window as any;
  return new Promise<void>((done) => {
    const s = document.createElement("script");
    const end = () => {
      clearTimeout(timer);
      s.remove();
      done();
    };
    const timer = setTimeout(end, 5000);
    w.ParleyWidgetLocale = (got: string, m: Catalog) => {
      if (got === l && m && typeof m === "object") use(l, m, en);
    };
    s.src = base + "/widget-" + l + ".js";
    s.async = true;
    s.onload = s.onerror = end;
    document.head.append(s);
  });
}
