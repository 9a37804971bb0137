// The app's frame: sign-in (or the two-factor set-up an administrator
// must go through first) or the signed-in layout (sidebar + the pane for
// the current route), the connection banner, toasts, and the unread total
// in the title and favicon.

import { useEffect, useState } from "preact/hooks";
import { route } from "../router";
import { use } from "../sig";
import * as store from "../store";
import * as notify from "../notify";
import "../tasks";
import { messagePreview } from "../util";
import { SignIn, Logo, linkPage } from "./Auth";
import { Spinner } from "./common";
import { ConversationView } from "./Conversation";
import { DialogView } from "./Dialog";
import { Bell, Close, Wifi } from "./icons";
import { InboxSide } from "./Inbox";
import { lazy } from "./lazy";
import { SettingsPage } from "./Settings";
import { Sidebar } from "./Sidebar";
import { CallLayer } from "./Calls";
import { t } from "../../i18n/i18n";

const AdminPage = lazy(() => import("../lazy/Admin").then((m) => m.AdminPage));
const CasesPage = lazy(() => import("../lazy/Cases").then((m) => m.CasesPage));
const TasksPage = lazy(() => import("../lazy/Tasks").then((m) => m.TasksPage));
const QueuePage = lazy(() => import("../lazy/Queue").then((m) => m.QueuePage));
const PeoplePage = lazy(() => import("../lazy/Contacts").then((m) => m.PeoplePage));
const ForcedSetup = lazy(() => import("../lazy/Security").then((m) => m.ForcedSetup));

export function App() {
  const me = use(store.me);
  const setup = use(store.mustSetUpTwoFactor);
  if (me === undefined)
    return (
      <div class="splash">
        <Logo />
        <Spinner />
      </div>
    );
  return (
    <>
      {me === null || linkPage() ? <SignIn /> : setup ? <ForcedSetup /> : <Main />}
      <Toasts />
    </>
  );
}

function Main() {
  const r = use(route);
  const ready = use(store.ready);
  const unread = use(store.unreadTotal);
  useEffect(() => notify.showUnread(unread), [unread]);
  useEffect(() => () => notify.showUnread(0), []);
  let pane;
  switch (r.name) {
    case "conv":
      pane = <ConversationView id={r.convId!} messageId={r.messageId} snooze={r.snooze} />;
      break;
    case "settings":
      pane = <SettingsPage />;
      break;
    case "admin":
      pane = <AdminPage tab={r.tab || "chat"} route={r} />;
      break;
    case "dialog":
      pane = <DialogView id={r.id!} />;
      break;
    case "cases":
      pane = <CasesPage id={r.id} status={r.section || "open"} />;
      break;
    case "queue":
      pane = <QueuePage id={r.id} />;
      break;
    case "people":
      pane = <PeoplePage tab={r.tab === "org" ? "org" : "friends"} />;
      break;
    case "tasks":
      pane = <TasksPage id={r.id} role={r.tab || "assigned"} status={r.section || "active"} />;
      break;
    case "inbox":
      pane = r.id ? (
        <DialogView id={r.id} />
      ) : (
        <section class="pane empty-pane welcome">
          <Logo />
          <h1>{t("app.account.frame.inbox")}</h1>
          <p class="muted">{t("app.account.frame.inboxHint")}</p>
        </section>
      );
      break;
    default:
      pane = (
        <section class="pane empty-pane welcome">
          <Logo />
          {/* i18n-ignore: the product's name */}
          <h1>Parley</h1>
          <p class="muted">{t("app.account.frame.homeHint")}</p>
        </section>
      );
  }
  return (
    <div class={"layout " + (r.name === "home" || (r.name === "inbox" && !r.id) ? "at-list" : "at-pane")}>
      <Connection />
      <CallLayer />
      {ready ? (
        <>
          {r.name === "inbox" || r.name === "queue" ? <InboxSide /> : <Sidebar />}
          <main class="main">{pane}</main>
        </>
      ) : (
        <div class="splash">
          <Spinner label={t("app.account.frame.loadingConversations")} />
        </div>
      )}
    </div>
  );
}

/** Connection shows plainly when the app is offline and when it will try again. */
function Connection() {
  const info = use(store.rt.info);
  const [, tick] = useState(0);
  const queued = use(store.outboxV) && store.outbox.filter((p) => p.status === "queued").length;
  useEffect(() => {
    if (info.state !== "offline") return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [info.state]);
  if (info.state === "online" || info.state === "stopped") return null;
  if (info.state === "connecting" && info.attempts === 0) return null;
  const secs = info.retryAt ? Math.max(0, Math.ceil((info.retryAt - Date.now()) / 1000)) : 0;
  return (
    <div class="conn-banner" role="status" aria-live="polite">
      <Wifi size={16} />
      <span>
        {info.fatal
          ? info.fatal
          : info.state === "connecting"
            ? t("app.account.conn.reconnecting")
            : secs
              ? t("app.account.conn.offlineIn", { n: secs })
              : t("app.account.conn.offline")}
        {queued ? " " + t("app.account.conn.queued", { n: queued }) : ""}
      </span>
      {info.state === "offline" && !info.fatal ? (
        <button class="btn small" onClick={() => store.rt.retryNow()}>
          {t("app.account.conn.retry")}
        </button>
      ) : null}
    </div>
  );
}

function Toasts() {
  const list = use(store.toasts);
  if (!list.length) return null;
  return (
    <div class="toasts" aria-live="polite">
      {list.map((toast) =>
        toast.kind === "reminder" && toast.reminder ? (
          <div key={toast.id} class="toast reminder" role="alert">
            <Bell size={18} />
            <div class="toast-body">
              <button class="toast-main" onClick={() => notify.openReminder(toast.reminder!)} title={t("app.account.toast.openMessage")}>
                <strong>{t("app.account.toast.reminder")}</strong>
                <span class="toast-text">{toast.reminder.message ? messagePreview(toast.reminder.message) : toast.text}</span>
              </button>
              <div class="toast-actions">
                <button
                  class="btn small"
                  onClick={() => {
                    store.dismiss(toast.id);
                    store.snoozeReminder(toast.reminder!.message_id, 1).catch(store.fail);
                  }}
                >
                  {t("app.account.toast.snoozeHour")}
                </button>
                <button class="btn small primary" onClick={() => notify.openReminder(toast.reminder!)}>
                  {t("app.account.toast.open")}
                </button>
              </div>
            </div>
            <button class="icon-btn small" aria-label={t("app.account.toast.dismiss")} onClick={() => store.dismiss(toast.id)}>
              <Close size={14} />
            </button>
          </div>
        ) : toast.open ? (
          <div key={toast.id} class={"toast " + toast.kind} role="status">
            <button
              class="toast-main"
              onClick={() => {
                store.dismiss(toast.id);
                toast.open!();
              }}
              title={t("app.account.toast.open")}
            >
              <span class="toast-text">{toast.text}</span>
            </button>
            <button class="icon-btn small" aria-label={t("app.account.toast.dismiss")} onClick={() => store.dismiss(toast.id)}>
              <Close size={14} />
            </button>
          </div>
        ) : (
          <div key={toast.id} class={"toast " + toast.kind} role={toast.kind === "error" ? "alert" : "status"}>
            <span class="toast-text">{toast.text}</span>
            <button class="icon-btn small" aria-label={t("app.account.toast.dismiss")} onClick={() => store.dismiss(toast.id)}>
              <Close size={14} />
            </button>
          </div>
        ),
      )}
    </div>
  );
}
