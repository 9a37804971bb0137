// "My friends" (seed 001): the signed-in user's personal list, shared by
// the People page, the contact tree and the user panel. Loaded on first
// use; adding and removing update it at once.

import * as api from "./api";
import { t } from "../i18n/i18n";
import { Sig } from "./sig";
import * as store from "./store";
import type { Presence, Role, User } from "./types";

/** friends is the list (null until loaded). */
export const friends = new Sig<User[] | null>(null);
let loading: Promise<void> | null = null;

export function loadFriends(force = false): Promise<void> {
  if (!loading || force)
    loading = api.get<{ users: User[] }>("/friends").then(
      (r) => {
        friends.value = r.users;
      },
      (e) => {
        loading = null;
        throw e;
      },
    );
  return loading;
}

export function isFriend(id: number): boolean {
  return !!friends.value?.some((u) => u.id === id);
}

export async function addFriend(u: User) {
  await api.put(`/friends/${u.id}`);
  if (!isFriend(u.id)) friends.value = [...(friends.value || []), u].sort((a, b) => a.name.localeCompare(b.name));
  store.toast(t("app.people.friends.added", { name: u.name }));
}

export async function removeFriend(u: User) {
  await api.del(`/friends/${u.id}`);
  friends.value = (friends.value || []).filter((f) => f.id !== u.id);
  store.toast(t("app.people.friends.removed", { name: u.name }));
}

/** presence is the live presence when the app hears it, else what the directory said. */
export function presence(u: User): Presence {
  return store.presence.get(u.id) || u.presence || "offline";
}

const PRESENCE = { online: "app.people.presence.online", away: "app.people.presence.away", offline: "app.people.presence.offline" } as const;

/** ROLES are the roles, lowest first, with their names' keys (read at render time). */
export const ROLES = [
  ["member", "app.admin.roles.member"],
  ["agent", "app.admin.roles.agent"],
  ["supervisor", "app.admin.roles.supervisor"],
  ["admin", "app.admin.roles.admin"],
] as const satisfies readonly (readonly [Role, string])[];

/** roleLabel is a role's name in the app's language (the code for one it does not know). */
export function roleLabel(r: string): string {
  const k = ROLES.find(([x]) => x === r)?.[1];
  return k ? t(k) : r;
}

/** presenceLabel is a presence in words ("online"), in the app's language. */
export function presenceLabel(p: Presence): string {
  return PRESENCE[p] ? t(PRESENCE[p]) : p;
}

// A new sign-in starts from the server's list again.
store.loadHooks.push(() => {
  loading = null;
  friends.value = null;
});
