// The distribution, the manager's side (seed 003's auto-distribution bot):
// whether the signed-in user takes dialogs from it (available, busy, on a
// break), kept current on every device by agent.updated; and the words the
// app uses for the distribution's policies, availabilities and reasons.
// The queue view and the "Why?" explanation are loaded on demand
// (lazy/Queue.tsx, lazy/Routing.tsx).

import { t } from "../i18n/i18n";
import * as api from "./api";
import { ApiError } from "./api";
import { Sig } from "./sig";
import * as store from "./store";
import type { Agent, Availability } from "./types";

/** The user's availability; null until known, or when the server has no distribution. */
export const availability = new Sig<Agent | null>(null);

/** The availabilities with their words (getters: read in the language in use, at render time). */
export const AVAILABILITIES: { value: Availability; readonly label: string; readonly hint: string }[] = [
  {
    value: "available",
    get label() {
      return t("app.projects.availability.available");
    },
    get hint() {
      return t("app.projects.availability.availableHint");
    },
  },
  {
    value: "busy",
    get label() {
      return t("app.projects.availability.busy");
    },
    get hint() {
      return t("app.projects.availability.busyHint");
    },
  },
  {
    value: "break",
    get label() {
      return t("app.projects.availability.break");
    },
    get hint() {
      return t("app.projects.availability.breakHint");
    },
  },
];

export function availabilityLabel(a: string | undefined): string {
  return AVAILABILITIES.find((x) => x.value === a)?.label || a || "";
}

/** Changes at every sign-in and sign-out, so late answers of an old session are dropped. */
let epoch = 0;
/** The last change this device asked for, not yet answered: events older than it do not undo it. */
let pending: Availability | "" = "";

async function load() {
  const e = epoch;
  try {
    const a = await api.get<Agent>("/me/availability");
    if (e === epoch && !pending) availability.value = a;
  } catch (err) {
    // A server without the distribution: no selector.
    if (e === epoch && err instanceof ApiError && (err.status === 404 || err.status === 403)) availability.value = null;
  }
}

/** setAvailability says whether the user takes dialogs; the selector shows the choice at once. */
export async function setAvailability(a: Availability) {
  const prev = availability.value;
  const e = epoch;
  pending = a;
  availability.value = { ...(prev || { user_id: store.me.value?.id || 0 }), availability: a };
  try {
    const out = await api.put<Agent>("/me/availability", { availability: a });
    if (e === epoch && pending === a) availability.value = out;
  } catch (err) {
    if (e === epoch && pending === a) availability.value = prev;
    store.fail(err);
  } finally {
    if (pending === a) pending = "";
  }
}

store.loadHooks.push(load);
store.eventHooks.add((f) => {
  if (f.type !== "agent.updated" || !f.data) return;
  const a = f.data as Agent;
  if (a.user_id !== store.me.value?.id || pending) return;
  availability.value = a;
});
store.me.subscribe(() => {
  if (store.me.value) return;
  epoch++;
  pending = "";
  availability.value = null;
});
