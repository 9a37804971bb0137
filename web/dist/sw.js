// Parley's service worker: it shows the pushes the server sends while no
// Parley tab is open (docs/webapp.md, "Notifications"), and a click on one
// focuses a Parley window on the conversation, or opens one. It caches
// nothing: Parley needs the server to be useful.
/* global self, clients */

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("push", (e) => {
  let p = {};
  try {
    p = e.data ? e.data.json() : {};
  } catch {
    p = { body: e.data ? e.data.text() : "" };
  }
  const url = typeof p.url === "string" && p.url.startsWith("/") ? p.url : "/";
  e.waitUntil(
    self.registration.showNotification(p.title || "Parley", {
      body: p.body || "",
      tag: p.tag || undefined,
      renotify: Boolean(p.tag),
      requireInteraction: p.kind === "call",
      icon: "/icon-192.png",
      badge: "/icon-192.png",
      data: { url },
    }),
  );
});

self.addEventListener("notificationclick", (e) => {
  e.notification.close();
  const path = (e.notification.data && e.notification.data.url) || "/";
  const url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin) return;
  e.waitUntil(
    (async () => {
      const wins = await clients.matchAll({ type: "window", includeUncontrolled: true });
      const win = wins.find((w) => new URL(w.url).origin === url.origin);
      if (win) {
        await win.focus();
        win.postMessage({ type: "parley.open", url: url.pathname + url.search });
        return;
      }
      await clients.openWindow(url.href);
    })(),
  );
});
