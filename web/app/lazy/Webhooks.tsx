// Administration → Webhooks and Bots (docs/webhooks.md, loaded on demand),
// for those with the chat settings right (the API refuses the rest).
//
// Webhooks: the list (URL, scope, events, state, last error in red with
// its time, how far delivered), "Add a webhook" (a project's dialog
// events or every project's; a bot's webhook is made with the bot), the
// secret shown once, and one webhook's page: change the URL and events,
// Pause / Resume, Remove, and its delivery log, newest first, with Resend.
//
// Bots: the bot accounts (users with `bot`) with their webhooks, and
// "Create a bot", which shows the bot's API token and its webhook's secret
// once, with how a bot uses them.

import { useEffect, useRef, useState } from "preact/hooks";
import { date, t, tp } from "../../i18n/i18n";
import * as api from "../api";
import { ApiError } from "../api";
import * as inbox from "../inbox";
import { navigate, onLink } from "../router";
import * as store from "../store";
import type { CreatedBot, Project, User, Webhook, WebhookDelivery } from "../types";
import { Avatar, Confirm, Spinner } from "../ui/common";
import { CopyRow, FieldRow } from "../ui/fields";
import { fullTime } from "../util";

const LIST = "/admin/webhooks";
const BOTS = "/admin/bots";
const whURL = (id: number) => `${LIST}/${id}`;
/** The delivery log's page (the server's default). */
const PAGE = 50;
/** How often an open webhook's state and log are asked again. */
const POLL_MS = 3000;

/** The event types a webhook may choose (webhooks.eventTypes), with the key of what each says. */
const EVENTS: [string, string][] = [
  ["message.created", "app.admin.events.messageCreated"],
  ["message.updated", "app.admin.events.messageUpdated"],
  ["conversation.updated", "app.admin.events.conversationUpdated"],
  ["conversation.removed", "app.admin.events.conversationRemoved"],
  ["conversation.receipts", "app.admin.events.conversationReceipts"],
  ["dialog.updated", "app.admin.events.dialogUpdated"],
  ["dialog.deleted", "app.admin.events.dialogDeleted"],
  ["read_state", "app.admin.events.readState"],
  ["draft", "app.admin.events.draft"],
  ["reminder.due", "app.admin.events.reminderDue"],
  ["reminder.updated", "app.admin.events.reminderUpdated"],
  ["user.updated", "app.admin.events.userUpdated"],
  ["tag.updated", "app.admin.events.tagUpdated"],
  ["tag.deleted", "app.admin.events.tagDeleted"],
  ["settings.updated", "app.admin.events.settingsUpdated"],
];

/**
 * The secret of the webhook just created, from the one answer that holds
 * it: kept here, not in the page's state, because creating navigates to
 * the webhook's page. Forgotten when that page closes.
 */
let fresh: Webhook | null = null;

const arr = <T,>(res: unknown, key: string): T[] => {
  if (Array.isArray(res)) return res as T[];
  const v = (res as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
};

/** logTime: an attempt's time to the second (retries are seconds apart); the full date is its title. */
const logTime = (iso: string) => date(iso, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit" });

/** dotted: an event type that may break at its dots only. */
const dotted = (type: string) => type.split(".").flatMap((part, i) => (i ? [".", <wbr key={i} />, part] : [part]));

/** Names: the projects and bots a webhook's scope names. */
interface Names {
  projects: Project[];
  bots: User[];
}

function useNames(): [Names | null, () => void] {
  const [n, setN] = useState<Names | null>(null);
  const load = () =>
    Promise.all([api.get<unknown>("/projects").then((r) => arr<Project>(r, "projects")), inbox.loadBots(0).catch(() => [] as User[])]).then(
      ([projects, bots]) => setN({ projects, bots }),
      () => setN({ projects: [], bots: [] }),
    );
  useEffect(() => {
    load();
  }, []);
  return [n, load];
}

/** scopeText: whose events a webhook delivers, in words. */
function scopeText(w: Webhook, n: Names | null): string {
  if (w.user_id) return t("app.admin.webhooks.scopeBot", { name: n?.bots.find((b) => b.id === w.user_id)?.name || `#${w.user_id}` });
  if (w.project_id) return t("app.admin.webhooks.scopeProject", { name: n?.projects.find((p) => p.id === w.project_id)?.name || `#${w.project_id}` });
  return t("app.admin.webhooks.allProjects");
}

function eventsText(w: Webhook): string {
  const e = w.events || [];
  if (!e.length) return t("app.admin.webhooks.allEvents");
  return e.length > 3 ? `${e.slice(0, 3).join(", ")} +${e.length - 3}` : e.join(", ");
}

// ---- Webhooks ------------------------------------------------------------------

export function WebhooksTab(props: { id?: number }) {
  if (props.id) return <WebhookPage key={props.id} id={props.id} />;
  return <WebhookList />;
}

function WebhookList() {
  const [names] = useNames();
  const [list, setList] = useState<Webhook[] | null>(null);
  const [err, setErr] = useState("");
  const [adding, setAdding] = useState(false);
  useEffect(() => {
    api.get<{ webhooks: Webhook[] | null }>("/webhooks").then(
      (r) => setList(r.webhooks || []),
      (e) => setErr(e.message),
    );
  }, []);
  if (adding)
    return (
      <section class="card">
        <h2 class="ch-form-title">{t("app.admin.webhooks.add")}</h2>
        {names ? (
          <WebhookForm
            projects={names.projects}
            onSaved={(w) => {
              fresh = w;
              navigate(whURL(w.id));
            }}
            onCancel={() => setAdding(false)}
          />
        ) : (
          <Spinner />
        )}
      </section>
    );
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.tabs.webhooks")}</h2>
        <button class="btn primary" onClick={() => setAdding(true)} disabled={!!err}>
          {t("app.admin.webhooks.add")}
        </button>
      </div>
      <p class="muted small">
        {tp("app.admin.webhooks.intro", {
          bots: (
            <a href={BOTS} onClick={onLink}>
              {t("app.admin.tabs.bots")}
            </a>
          ),
        })}
      </p>
      {err ? <p class="form-error">{err}</p> : null}
      {list === null ? (
        err ? null : <Spinner />
      ) : !list.length ? (
        <p class="muted">{t("app.admin.webhooks.empty")}</p>
      ) : (
        <ul class="group-list wh-list" aria-label={t("app.admin.tabs.webhooks")}>
          {list.map((w) => (
            <li key={w.id}>
              <a class="group-row wh-row" href={whURL(w.id)} onClick={onLink} data-webhook={w.id}>
                <span class="wh-row-main">
                  <strong class="wh-url">{w.url}</strong>
                  <span class="muted small wh-meta">
                    <span class="wh-scope">{scopeText(w, names)}</span> · <span class="wh-events">{eventsText(w)}</span> ·{" "}
                    {t("app.admin.webhooks.deliveredUpTo", { cursor: String(w.cursor) })}
                  </span>
                </span>
                <StatePill w={w} />
                {w.last_error ? <WebhookError w={w} /> : null}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function StatePill(props: { w: Webhook }) {
  const { w } = props;
  if (!w.active) return <span class="pill">{t("app.admin.common.paused")}</span>;
  if (w.last_error) return <span class="pill bad">{t("app.admin.webhooks.failing")}</span>;
  return <span class="pill on">{t("app.admin.common.active")}</span>;
}

function WebhookError(props: { w: Webhook }) {
  return (
    <span class="ch-error form-error small" role="status">
      {props.w.last_error}
      {props.w.error_at ? <span class="ch-error-at"> · {fullTime(props.w.error_at)}</span> : null}
    </span>
  );
}

// ---- the form ------------------------------------------------------------------

/** The events picked: all of them (the API's empty list), or some. */
interface Picked {
  all: boolean;
  some: string[];
}

const pickedOf = (events: string[] | null | undefined): Picked => ({ all: !events?.length, some: events || [] });

/** EventsPicker: "All events", or checkboxes for each type. */
function EventsPicker(props: { id: string; value: Picked; onChange: (v: Picked) => void; error?: string; disabled?: boolean }) {
  const { value } = props;
  return (
    <fieldset class={"wh-events-pick" + (props.error ? " has-error" : "")} disabled={props.disabled} aria-describedby={props.error ? props.id + "-err" : undefined}>
      <legend>{t("app.admin.webhooks.events")}</legend>
      <label class="toggle">
        <input type="checkbox" checked={value.all} onChange={(e) => props.onChange({ ...value, all: e.currentTarget.checked })} />
        <span class="toggle-text">
          {t("app.admin.webhooks.allEvents")}
          <small>{t("app.admin.webhooks.allEventsHint")}</small>
        </span>
      </label>
      {!value.all ? (
        <ul class="wh-event-list" aria-label={t("app.admin.webhooks.eventTypes")}>
          {EVENTS.map(([type, hint]) => (
            <li key={type}>
              <label class="wh-event">
                <input
                  type="checkbox"
                  checked={value.some.includes(type)}
                  onChange={(e) =>
                    props.onChange({ ...value, some: e.currentTarget.checked ? [...value.some, type] : value.some.filter((x) => x !== type) })
                  }
                />
                <span>
                  <code>{type}</code>
                  <small class="muted">{t(hint)}</small>
                </span>
              </label>
            </li>
          ))}
        </ul>
      ) : null}
      {props.error ? (
        <span class="field-error" id={props.id + "-err"} role="alert">
          {props.error}
        </span>
      ) : null}
    </fieldset>
  );
}

/** The events to send: [] for all; null when none is picked (the form says so). */
const eventsOf = (p: Picked): string[] | null => (p.all ? [] : p.some.length ? EVENTS.map(([type]) => type).filter((type) => p.some.includes(type)) : null);

/** fieldOf: the form field an API error names ("url", "events", "project_id", ...), or "". */
function fieldOf(e: unknown, known: string[]): { key: string; msg: string } {
  const msg = (e as Error).message || t("app.admin.common.notSaved");
  if (e instanceof ApiError && e.field && known.includes(e.field)) return { key: e.field, msg };
  return { key: "", msg };
}

/**
 * WebhookForm adds a webhook (for a project, every project, or the given
 * bot), or changes one's URL and events (w).
 */
function WebhookForm(props: { projects: Project[]; w?: Webhook; bot?: User; onSaved: (w: Webhook) => void; onCancel?: () => void }) {
  const { w, projects } = props;
  const [scope, setScope] = useState<"project" | "all">(projects.length ? "project" : "all");
  const [projectId, setProjectId] = useState(projects[0]?.id || 0);
  const [url, setUrl] = useState(w?.url || "");
  const [events, setEvents] = useState<Picked>(pickedOf(w?.events));
  const [err, setErr] = useState<{ key: string; msg: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const saving = useRef(false); // a second click lands before the button is disabled
  const [saved, setSaved] = useState(false);
  const idBase = `wh-${w ? w.id : props.bot ? "bot" + props.bot.id : "new"}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (saving.current) return;
    const list = eventsOf(events);
    if (!list) {
      setErr({ key: "events", msg: t("app.admin.webhooks.chooseEvent") });
      return;
    }
    saving.current = true;
    setBusy(true);
    setErr(null);
    setSaved(false);
    try {
      const out = w
        ? await api.patch<Webhook>(`/webhooks/${w.id}`, { url: url.trim(), events: list })
        : await api.post<Webhook>("/webhooks", {
            url: url.trim(),
            events: list,
            project_id: !props.bot && scope === "project" ? projectId : 0,
            user_id: props.bot?.id || 0,
          });
      setSaved(true);
      props.onSaved(out);
    } catch (x) {
      setErr(fieldOf(x, ["url", "events", "project_id"]));
    } finally {
      saving.current = false;
      setBusy(false);
    }
  };
  const errFor = (key: string) => (err && err.key === key ? err.msg : "");
  // The field the server named gets the focus, so its error is read out and in view.
  useEffect(() => {
    if (err?.key === "url") document.getElementById(idBase + "-url")?.focus();
  }, [err]);
  return (
    <form class="ch-form wh-form" onSubmit={submit}>
      {w ? null : props.bot ? (
        <p class="small">{t("app.admin.webhooks.botScope")}</p>
      ) : (
        <fieldset class={"wh-scope-pick" + (errFor("project_id") ? " has-error" : "")}>
          <legend>{t("app.admin.webhooks.whose")}</legend>
          <label class="toggle">
            <input type="radio" name={idBase + "-scope"} checked={scope === "project"} disabled={!projects.length} onChange={() => setScope("project")} />
            <span class="toggle-text">
              {t("app.admin.webhooks.oneProject")}
              <small>{projects.length ? t("app.admin.webhooks.oneProjectHint") : t("app.admin.webhooks.noProjects")}</small>
            </span>
          </label>
          {scope === "project" && projects.length ? (
            <select
              class="input wh-project"
              aria-label={t("app.admin.webhooks.project")}
              value={String(projectId)}
              onChange={(e) => setProjectId(Number(e.currentTarget.value))}
            >
              {projects.map((p) => (
                <option key={p.id} value={String(p.id)}>
                  {p.name}
                </option>
              ))}
            </select>
          ) : null}
          <label class="toggle">
            <input type="radio" name={idBase + "-scope"} checked={scope === "all"} onChange={() => setScope("all")} />
            <span class="toggle-text">
              {t("app.admin.webhooks.allProjects")}
              <small>{t("app.admin.webhooks.allProjectsHint")}</small>
            </span>
          </label>
          <p class="muted small wh-scope-note">
            {tp("app.admin.webhooks.botNote", {
              bots: (
                <a href={BOTS} onClick={onLink}>
                  {t("app.admin.tabs.bots")}
                </a>
              ),
            })}
          </p>
          {errFor("project_id") ? (
            <span class="field-error" role="alert">
              {errFor("project_id")}
            </span>
          ) : null}
        </fieldset>
      )}
      <FieldRow id={idBase + "-url"} label={t("app.admin.webhooks.url")} required help={t("app.admin.webhooks.urlHelp")} error={errFor("url")}>
        {(a) => (
          <input
            class={"input" + (errFor("url") ? " invalid" : "")}
            {...a}
            required
            inputMode="url"
            spellcheck={false}
            placeholder="https://example.com/parley" // i18n-ignore: an example URL
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        )}
      </FieldRow>
      <EventsPicker id={idBase + "-events"} value={events} onChange={setEvents} error={errFor("events")} />
      {err && !err.key ? (
        <p class="form-error" role="alert">
          {err.msg}
        </p>
      ) : null}
      <div class="row-end">
        {saved && w ? (
          <span class="ok-text save-state" role="status">
            {t("app.admin.common.saved")}
          </span>
        ) : null}
        {props.onCancel ? (
          <button type="button" class="btn" onClick={props.onCancel}>
            {t("app.admin.common.cancel")}
          </button>
        ) : null}
        <button class="btn primary" disabled={busy}>
          {busy ? <Spinner label={t("app.admin.common.saving")} /> : null}
          {w ? t("app.admin.common.save") : t("app.admin.common.add")}
        </button>
      </div>
    </form>
  );
}

// ---- one webhook -------------------------------------------------------------------

/** visible: the page is in view (polling stops in a background tab). */
const visible = () => document.visibilityState === "visible";

function WebhookPage(props: { id: number }) {
  const { id } = props;
  const [names] = useNames();
  const [w, setW] = useState<Webhook | null>(fresh && fresh.id === id ? fresh : null);
  const [secret] = useState(fresh && fresh.id === id ? fresh.secret || "" : "");
  const [err, setErr] = useState("");
  // A change made here wins over a poll that left before it.
  const gen = useRef(0);
  const change = (x: Webhook) => {
    gen.current++;
    setW(x);
  };
  // There is no GET /webhooks/{id}: the list holds it.
  const load = async () => {
    const g = gen.current;
    const r = await api.get<{ webhooks: Webhook[] | null }>("/webhooks");
    const found = (r.webhooks || []).find((x) => x.id === id);
    if (!found) throw new ApiError(404, "not_found", t("app.admin.webhooks.notFound"));
    if (g === gen.current) setW(found);
  };
  useEffect(() => {
    fresh = null;
    load().catch((e) => setErr(e.message));
    // Its state (last error, how far delivered) follows deliveries.
    const timer = setInterval(() => {
      if (visible()) load().catch(() => {});
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [id]);
  if (err && !w)
    return (
      <section class="card">
        <p class="form-error">{err}</p>
        <a href={LIST} onClick={onLink}>
          {t("app.admin.webhooks.all")}
        </a>
      </section>
    );
  if (!w || !names)
    return (
      <section class="card">
        <Spinner />
      </section>
    );
  return (
    <>
      <WebhookHead w={w} names={names} onChange={change} />
      {secret ? <NewSecret secret={secret} /> : null}
      <DeliveryLog w={w} />
      <section class="card">
        <h2>{t("app.admin.common.settings")}</h2>
        <WebhookForm key={w.id} projects={names.projects} w={w} onSaved={change} />
      </section>
    </>
  );
}

/** WebhookHead: the URL, whose events, its state and last error, Pause or Resume, Remove. */
function WebhookHead(props: { w: Webhook; names: Names; onChange: (w: Webhook) => void }) {
  const { w } = props;
  const [busy, setBusy] = useState("");
  const [removing, setRemoving] = useState(false);
  const run = (what: string, fn: () => Promise<void>) => async () => {
    if (busy) return;
    setBusy(what);
    try {
      await fn();
    } catch (e) {
      store.fail(e);
    } finally {
      setBusy("");
    }
  };
  const pause = run("pause", async () => props.onChange(await api.patch<Webhook>(`/webhooks/${w.id}`, { active: !w.active })));
  const remove = run("remove", async () => {
    await api.del(`/webhooks/${w.id}`);
    setRemoving(false);
    store.toast(t("app.admin.webhooks.removed"));
    navigate(LIST);
  });
  return (
    <section class="card ch-head wh-head">
      <a class="link-back small" href={LIST} onClick={onLink}>
        ‹ {t("app.admin.webhooks.all")}
      </a>
      <div class="ch-title">
        <span class="ch-row-main">
          <h2 class="wh-title">{w.url}</h2>
          <span class="muted small">
            {t("app.admin.webhooks.meta", { scope: scopeText(w, props.names), events: eventsText(w), time: fullTime(w.created_at) })}
          </span>
        </span>
        <StatePill w={w} />
      </div>
      {w.user_id ? (
        <p class="muted small">
          {t("app.admin.webhooks.botHook")}{" "}
          <a href={BOTS} onClick={onLink}>
            {t("app.admin.tabs.bots")}
          </a>
        </p>
      ) : null}
      {!w.active ? <p class="muted small">{t("app.admin.webhooks.pausedNote")}</p> : null}
      {w.last_error ? (
        <p class="ch-error form-error" role="status">
          <strong>{t("app.admin.common.lastError")}</strong> {w.last_error}
          {w.error_at ? <span class="ch-error-at"> · {fullTime(w.error_at)}</span> : null}
        </p>
      ) : null}
      <p class="muted small wh-cursor">{t("app.admin.webhooks.cursor", { cursor: String(w.cursor) })}</p>
      <div class="row-start">
        <button class="btn" onClick={pause} disabled={!!busy}>
          {busy === "pause" ? <Spinner label={t("app.admin.common.saving")} /> : null}
          {w.active ? t("app.admin.common.pause") : t("app.admin.common.resume")}
        </button>
        <span class="grow" />
        <button class="btn danger" onClick={() => setRemoving(true)} disabled={!!busy}>
          {t("app.admin.common.remove")}
        </button>
      </div>
      {removing ? (
        <Confirm title={t("app.admin.webhooks.removeTitle")} action={t("app.admin.common.remove")} onConfirm={remove} onClose={() => setRemoving(false)}>
          <p>
            {w.user_id
              ? tp("app.admin.webhooks.removeBodyBot", { url: <code class="wh-confirm-url">{w.url}</code> })
              : tp("app.admin.webhooks.removeBody", { url: <code class="wh-confirm-url">{w.url}</code> })}
          </p>
          <p>{t("app.admin.webhooks.removeLog")}</p>
        </Confirm>
      ) : null}
    </section>
  );
}

/** NewSecret: the signing secret, from the one answer that holds it, and how to check a call with it. */
function NewSecret(props: { secret: string }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => ref.current?.scrollIntoView({ block: "nearest" }), []);
  return (
    <section ref={ref} class="card ch-secrets" aria-label={t("app.admin.webhooks.newSecret")}>
      <h2>{t("app.admin.webhooks.copySecret")}</h2>
      <p class="small">
        <strong>{t("app.admin.common.notShownAgain")}</strong> {t("app.admin.webhooks.keepsSecret")}
      </p>
      <CopyRow label={t("app.admin.webhooks.signingSecret")} value={props.secret} />
      <SignatureHelp />
    </section>
  );
}

function SignatureHelp() {
  return (
    <p class="small">
      <SignatureText />
    </p>
  );
}

function SignatureText() {
  return (
    <>
      {tp("app.admin.webhooks.signature", {
        header: <code>{t("app.admin.webhooks.signatureHeader")}</code>,
        payload: <code>{t("app.admin.webhooks.signaturePayload")}</code>,
      })}
    </>
  );
}

// ---- the delivery log ----------------------------------------------------------------

function DeliveryLog(props: { w: Webhook }) {
  const { w } = props;
  const [rows, setRows] = useState<WebhookDelivery[] | null>(null);
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [err, setErr] = useState("");
  const [note, setNote] = useState<{ id: number; msg: string } | null>(null);
  // The delivery being sent again: one at a time, so a double click sends once.
  const [resending, setResending] = useState(0);
  const busy = useRef(false);
  const rowsRef = useRef<WebhookDelivery[] | null>(null);
  rowsRef.current = rows;

  const fetchPage = (before = 0) =>
    api.get<{ deliveries: WebhookDelivery[] | null }>(`/webhooks/${w.id}/deliveries` + api.qs({ before, limit: PAGE })).then((r) => r.deliveries || []);

  /** refresh puts the newest attempts on top (all of them, or the newest page when more came than a page holds). */
  const refresh = async () => {
    const page = await fetchPage();
    const cur = rowsRef.current;
    if (!cur || !cur.length || (page.length && page[page.length - 1].id > cur[0].id)) {
      setRows(page);
      setMore(page.length === PAGE);
      return;
    }
    const top = cur[0].id;
    const add = page.filter((d) => d.id > top);
    if (add.length) setRows([...add, ...cur]);
  };
  useEffect(() => {
    refresh().catch((e) => setErr(e.message));
    const timer = setInterval(() => {
      if (visible() && !busy.current) refresh().catch(() => {});
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [w.id]);

  const older = async () => {
    if (!rows?.length || loadingMore) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage(rows[rows.length - 1].id);
      setRows((cur) => [...(cur || []), ...page.filter((d) => !(cur || []).some((x) => x.id === d.id))]);
      setMore(page.length === PAGE);
    } catch (e) {
      store.fail(e);
    } finally {
      setLoadingMore(false);
    }
  };

  const resend = async (d: WebhookDelivery) => {
    if (busy.current) return;
    busy.current = true;
    setResending(d.id);
    setNote(null);
    try {
      const out = await api.post<WebhookDelivery>(`/webhooks/${w.id}/deliveries/${d.id}/resend`);
      setRows((cur) => [out, ...(cur || []).filter((x) => x.id !== out.id)]);
      setNote({
        id: out.id,
        msg: out.ok
          ? t("app.admin.log.resentOk", { status: String(out.status_code) })
          : t("app.admin.log.resentFailed", { error: out.error || String(out.status_code) }),
      });
    } catch (e) {
      const msg =
        e instanceof ApiError && e.status === 409
          ? t("app.admin.log.gone", { id: String(d.event_id) })
          : (e as Error).message;
      setNote({ id: 0, msg });
    } finally {
      busy.current = false;
      setResending(0);
    }
  };

  return (
    <section class="card wh-log-card">
      <div class="card-head">
        <h2>{t("app.admin.log.title")}</h2>
        <span class="muted small">{t("app.admin.log.sub")}</span>
      </div>
      {err ? <p class="form-error">{err}</p> : null}
      {note ? (
        <p class={note.id ? "small wh-note" : "form-error wh-note"} role={note.id ? "status" : "alert"}>
          {note.msg}
        </p>
      ) : null}
      {rows === null ? (
        err ? null : <Spinner />
      ) : !rows.length ? (
        <p class="muted">{t("app.admin.log.empty")}</p>
      ) : (
        <div class="table-wrap">
          <table class="table wh-log" aria-label={t("app.admin.log.label")}>
            <thead>
              <tr>
                <th class="wh-time">{t("app.admin.log.time")}</th>
                <th>{t("app.admin.log.event")}</th>
                <th class="wh-num wh-att">{t("app.admin.log.attempt")}</th>
                <th class="wh-result">{t("app.admin.log.result")}</th>
                <th class="wh-num wh-status">{t("app.admin.log.http")}</th>
                <th class="wh-num wh-dur">{t("app.admin.log.duration")}</th>
                <th class="wh-act">
                  <span class="sr">{t("app.admin.log.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-delivery={d.id} data-ok={d.ok ? "true" : "false"} class={d.ok ? "" : "failed"}>
                  <td class="wh-time" data-label={t("app.admin.log.time")}>
                    <time dateTime={d.created_at} title={fullTime(d.created_at)}>
                      {logTime(d.created_at)}
                    </time>
                  </td>
                  <td data-label={t("app.admin.log.event")} class="wh-event-cell">
                    <code>{dotted(d.event_type)}</code> <span class="muted small">#{d.event_id}</span>
                  </td>
                  <td class="wh-num wh-att" data-label={t("app.admin.log.attempt")}>
                    {d.attempt}
                  </td>
                  <td class="wh-result" data-label={t("app.admin.log.result")}>
                    {d.ok ? <span class="pill on">{t("app.admin.log.ok")}</span> : <span class="pill bad">{t("app.admin.log.failed")}</span>}
                    {d.error ? <span class="form-error small wh-error">{d.error}</span> : null}
                  </td>
                  <td class="wh-num wh-status" data-label={t("app.admin.log.http")}>
                    {d.status_code || "—"}
                  </td>
                  <td class="wh-num wh-dur" data-label={t("app.admin.log.duration")}>
                    {t("app.admin.log.ms", { ms: d.duration_ms })}
                  </td>
                  <td class="wh-act">
                    <button
                      class="btn small"
                      onClick={() => resend(d)}
                      disabled={!!resending}
                      aria-label={t("app.admin.log.resendLabel", { id: String(d.event_id), attempt: d.attempt })}
                      title={t("app.admin.log.resendTitle")}
                    >
                      {resending === d.id ? <Spinner label={t("app.admin.log.sending")} /> : null}
                      {t("app.admin.log.resend")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {more ? (
            <button class="btn small center-btn" onClick={older} disabled={loadingMore}>
              {loadingMore ? <Spinner /> : null}
              {t("app.admin.log.older")}
            </button>
          ) : null}
        </div>
      )}
    </section>
  );
}

// ---- Bots ------------------------------------------------------------------------------

export function BotsTab() {
  const [names, reloadNames] = useNames();
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [err, setErr] = useState("");
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedBot | null>(null);
  const [hookFor, setHookFor] = useState<User | null>(null);
  const canCreate = store.canManageUsers(store.me.value);
  const loadHooks = () =>
    api.get<{ webhooks: Webhook[] | null }>("/webhooks").then(
      (r) => setHooks(r.webhooks || []),
      (e) => setErr(e.message),
    );
  useEffect(() => {
    loadHooks();
  }, []);
  // The token and secret are gone once this screen is left; the list is read again.
  if (created)
    return (
      <BotCreated
        b={created}
        projects={names?.projects || []}
        onDone={() => {
          setCreated(null);
          setCreating(false);
          reloadNames();
          loadHooks();
        }}
      />
    );
  if (creating)
    return (
      <section class="card">
        <h2 class="ch-form-title">{t("app.admin.bots.create")}</h2>
        <BotForm onCreated={setCreated} onCancel={() => setCreating(false)} />
      </section>
    );
  if (hookFor)
    return (
      <section class="card">
        <h2 class="ch-form-title">{t("app.admin.bots.hookFor", { name: hookFor.name })}</h2>
        <WebhookForm
          projects={[]}
          bot={hookFor}
          onSaved={(w) => {
            fresh = w;
            navigate(whURL(w.id));
          }}
          onCancel={() => setHookFor(null)}
        />
      </section>
    );
  const bots = names?.bots || null;
  return (
    <section class="card">
      <div class="card-head">
        <h2>{t("app.admin.tabs.bots")}</h2>
        <button class="btn primary" onClick={() => setCreating(true)} disabled={!canCreate}>
          {t("app.admin.bots.create")}
        </button>
      </div>
      <p class="muted small">
        {t("app.admin.bots.intro")}
        {canCreate ? "" : " " + t("app.admin.bots.introNoRight")}
      </p>
      {err ? <p class="form-error">{err}</p> : null}
      {bots === null || hooks === null ? (
        err ? null : <Spinner />
      ) : !bots.length ? (
        <p class="muted">{t("app.admin.bots.empty")}</p>
      ) : (
        <ul class="group-list wh-bots" aria-label={t("app.admin.tabs.bots")}>
          {bots.map((b) => {
            const mine = hooks.filter((w) => w.user_id === b.id);
            return (
              <li key={b.id} class="wh-bot" data-bot={b.id}>
                <Avatar id={b.id} name={b.name} photo={b.photo_file_id} size={32} />
                <span class="ch-row-main">
                  <strong class="ellipsis">{b.name}</strong>
                  <span class="muted small">{t("app.admin.bots.added", { time: fullTime(b.created_at) })}</span>
                </span>
                {b.active ? <span class="pill on">{t("app.admin.common.active")}</span> : <span class="pill">{t("app.admin.bots.deactivated")}</span>}
                <div class="wh-bot-hooks">
                  {mine.length ? (
                    mine.map((w) => (
                      <a key={w.id} class="wh-bot-hook small" href={whURL(w.id)} onClick={onLink}>
                        <span class="ellipsis">{t("app.admin.bots.webhook", { url: w.url })}</span>
                        <StatePill w={w} />
                      </a>
                    ))
                  ) : (
                    <span class="muted small">
                      {t("app.admin.bots.noWebhook")}{" "}
                      <button class="link" onClick={() => setHookFor(b)}>
                        {t("app.admin.bots.addOne")}
                      </button>
                    </span>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function BotForm(props: { onCreated: (b: CreatedBot) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<Picked>({ all: true, some: [] });
  const [err, setErr] = useState<{ key: string; msg: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const saving = useRef(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (saving.current) return;
    const list = eventsOf(events);
    if (url.trim() && !list) {
      setErr({ key: "events", msg: t("app.admin.webhooks.chooseEvent") });
      return;
    }
    saving.current = true;
    setBusy(true);
    setErr(null);
    try {
      const b = await api.post<CreatedBot>("/bots", { name: name.trim(), webhook_url: url.trim(), events: url.trim() ? list : [] });
      inbox.loadBots(0).catch(() => {});
      props.onCreated(b);
    } catch (x) {
      setErr(fieldOf(x, ["name", "webhook_url", "events"]));
    } finally {
      saving.current = false;
      setBusy(false);
    }
  };
  const errFor = (key: string) => (err && err.key === key ? err.msg : "");
  useEffect(() => {
    if (err?.key === "name" || err?.key === "webhook_url") document.getElementById("bot-" + err.key)?.focus();
  }, [err]);
  return (
    <form class="ch-form wh-form" onSubmit={submit}>
      <FieldRow id="bot-name" label={t("app.admin.common.name")} required help={t("app.admin.bots.nameHelp")} error={errFor("name")}>
        {(a) => <input class="input" {...a} required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </FieldRow>
      <FieldRow
        id="bot-webhook_url"
        label={t("app.admin.common.webhookUrl")}
        help={t("app.admin.bots.webhookHelp")}
        error={errFor("webhook_url")}
      >
        {(a) => (
          <input
            class={"input" + (errFor("webhook_url") ? " invalid" : "")}
            {...a}
            inputMode="url"
            spellcheck={false}
            placeholder="https://bot.example.com/parley" // i18n-ignore: an example URL
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        )}
      </FieldRow>
      {url.trim() ? <EventsPicker id="bot-events" value={events} onChange={setEvents} error={errFor("events")} /> : null}
      {err && !err.key ? (
        <p class="form-error" role="alert">
          {err.msg}
        </p>
      ) : null}
      <div class="row-end">
        <button type="button" class="btn" onClick={props.onCancel}>
          {t("app.admin.common.cancel")}
        </button>
        <button class="btn primary" disabled={busy}>
          {busy ? <Spinner label={t("app.admin.common.creating")} /> : null}
          {t("app.admin.common.create")}
        </button>
      </div>
    </form>
  );
}

/** BotCreated: the token and the webhook's secret, shown this once, and how a bot uses them. */
function BotCreated(props: { b: CreatedBot; projects: Project[]; onDone: () => void }) {
  const { b } = props;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => ref.current?.scrollIntoView({ block: "nearest" }), []);
  const apiBase = location.origin + "/api/v1";
  return (
    <>
      <section ref={ref} class="card ch-secrets" aria-label={t("app.admin.bots.newBot")}>
        <h2>{b.webhook ? t("app.admin.bots.readyBoth", { name: b.user.name }) : t("app.admin.bots.readyToken", { name: b.user.name })}</h2>
        <p class="small">
          <strong>{b.webhook ? t("app.admin.bots.notShownBoth") : t("app.admin.common.notShownAgain")}</strong> {t("app.admin.bots.tokenNote")}
        </p>
        <CopyRow label={t("app.admin.bots.apiToken")} value={b.token} />
        {b.webhook?.secret ? <CopyRow label={t("app.admin.bots.hookSecret")} value={b.webhook.secret} /> : null}
        <div class="row-end">
          <button class="btn primary" onClick={props.onDone}>
            {t("app.admin.bots.done")}
          </button>
        </div>
      </section>
      <section class="card wh-howto">
        <h2>{t("app.admin.bots.howTitle")}</h2>
        <ol class="small">
          <li>
            {tp("app.admin.bots.howApi", {
              base: <code>{apiBase}</code>,
              header: <code>{t("app.admin.bots.authHeader")}</code>,
              list: <code>{"GET /dialogs"}</code>,
              connect: <code>{"POST /dialogs/{id}/connect"}</code>,
              answer: <code>{"POST /conversations/{id}/messages"}</code>,
              reassign: <code>{"POST /dialogs/{id}/reassign"}</code>,
            })}
          </li>
          <li>
            {tp(props.projects.length > 5 ? "app.admin.bots.howSpecialistMore" : "app.admin.bots.howSpecialist", {
              name: <strong>{b.user.name}</strong>,
              where: props.projects.length ? (
                props.projects.slice(0, 5).map((p, i) => (
                  <span key={p.id}>
                    {i ? ", " : ""}
                    <a href={`/admin/projects/${p.id}/specialists`} onClick={onLink}>
                      {t("app.admin.bots.projectTab", { project: p.name })}
                    </a>
                  </span>
                ))
              ) : (
                <a href="/admin/projects" onClick={onLink}>
                  {t("app.admin.bots.anyProjectTab")}
                </a>
              ),
            })}
          </li>
          {b.webhook ? (
            <li>
              {tp("app.admin.bots.howWebhook", { url: <code>{b.webhook.url}</code> })} <SignatureText />
            </li>
          ) : null}
          <li>{t("app.admin.bots.howReassign")}</li>
        </ol>
      </section>
    </>
  );
}
