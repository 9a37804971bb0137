// The staff app's language (docs/decisions.md, "Languages"): the user's
// setting (Settings.language) when there is one, else the browser's languages,
// else English. English is in the main bundle (the source and the
// fallback); Russian and Spanish are chunks of their own, loaded before the
// first render. The language last used on this device is kept in
// localStorage so that the first screen, before the server says who the
// user is, is already in it.

import { choose, locale, use, type Lang } from "../i18n/i18n";
import en from "../i18n/app/en";

const KEY = "parley.language";

// English from the start: what runs before the first render (sign-in
// check, its errors) already has its texts.
use("en", en, en);

/** start loads the language to draw the first screen in. */
export async function start(): Promise<void> {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    // storage refused (a privacy mode): the browser's language then.
  }
  await load(choose(saved, navigator.languages));
}

/** chosen is the language this page was started in (even if its chunk did not load). */
let chosen: Lang = "en";

/** load makes l the language of t(), falling back to English if its chunk does not load. */
async function load(l: Lang): Promise<void> {
  chosen = l;
  use("en", en, en);
  try {
    if (l === "ru") use(l, (await import("../i18n/app/ru")).default, en);
    else if (l === "es") use(l, (await import("../i18n/app/es")).default, en);
  } catch {
    // a chunk that did not come (a deploy in between): English.
  }
  document.documentElement.lang = locale();
}

/**
 * follow applies the signed-in user's setting ("" for the browser's): it is
 * remembered on this device, and the page reloads if it changes the
 * language, so that every screen is drawn again in it.
 */
export function follow(setting: string | undefined): void {
  try {
    localStorage.setItem(KEY, setting || "");
  } catch {
    // not remembered: the next start asks the browser again.
  }
  // Against the language chosen, not the one loaded: a chunk that failed
  // must not reload the page again and again.
  if (choose(setting, navigator.languages) !== chosen) location.reload();
}
