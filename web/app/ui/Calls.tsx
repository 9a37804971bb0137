// The always-loaded parts of calls: the Call / Video call /
// Videoconference buttons (a chat's header, the user panel), the "call in
// progress — Join" bar of a conversation, and the layer that shows the
// call window and the incoming call dialog above every page (their code
// loads on demand).

import { useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import * as calls from "../calls";
import { route } from "../router";
import { use } from "../sig";
import * as store from "../store";
import type { Conversation } from "../types";
import { lazy } from "./lazy";
import { UserPicker } from "./People";
import "../calls.css";

const CallWindow = lazy(() => import("../lazy/Call").then((m) => m.CallWindow));
const IncomingCall = lazy(() => import("../lazy/Call").then((m) => m.IncomingCall));

type P = { size?: number };
const icon = (d: preact.JSX.Element | preact.JSX.Element[], p: P) => (
  <svg class="icon" width={p.size || 18} height={p.size || 18} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    {d}
  </svg>
);
export const PhoneIcon = (p: P) =>
  icon(<path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z" />, p);
export const VideoIcon = (p: P) => icon([<path d="m23 7-7 5 7 5V7z" />, <rect x="1" y="5" width="15" height="14" rx="2" />], p);

/** callable: calls are for allowed direct chats and multi-chats (docs/calls.md, "Errors"). */
export function callable(c: Conversation): boolean {
  return (c.kind === "direct" && c.state === "allowed") || c.kind === "group";
}

/** CallLayer shows the call window and the incoming call dialog, whatever page is open. */
export function CallLayer() {
  const s = use(calls.session);
  const inc = use(calls.incoming);
  return (
    <>
      {s ? <CallWindow /> : null}
      {inc ? <IncomingCall call={inc} /> : null}
    </>
  );
}

const go = (convId: number, video: boolean) => calls.startCall(convId, video).catch(store.fail);

/** CallButtons: Call and Video call in a direct chat's header; Videoconference in a multi-chat's. */
export function CallButtons(props: { c: Conversation }) {
  const c = props.c;
  use(calls.callsV);
  if (!callable(c)) return null;
  if (c.kind === "group") {
    const under = calls.byConv.get(c.id);
    return (
      <button class="icon-btn call-btn" aria-label={under ? t("app.people.calls.joinConference") : t("app.people.calls.videoconference")}
        title={under ? t("app.people.calls.joinConference") : t("app.people.calls.startConference")} onClick={() => (under ? calls.join(under, true).catch(store.fail) : go(c.id, true))}>
        <VideoIcon />
      </button>
    );
  }
  return (
    <>
      <button class="icon-btn call-btn" aria-label={t("app.people.calls.call")} title={t("app.people.calls.voiceCall")} onClick={() => go(c.id, false)}>
        <PhoneIcon />
      </button>
      <button class="icon-btn call-btn" aria-label={t("app.people.calls.videoCall")} title={t("app.people.calls.videoCall")} onClick={() => go(c.id, true)}>
        <VideoIcon />
      </button>
    </>
  );
}

/**
 * PanelCallButtons: the user panel's Call, Video call and Videoconference
 * (seed 001). Call and Video call use the direct chat with the user (opened
 * if need be); Videoconference makes a multi-chat with them and whoever
 * else is picked, and starts a video call in it.
 */
export function PanelCallButtons(props: { userId: number; name: string; conv: Conversation }) {
  const [picking, setPicking] = useState(false);
  const me = store.me.value;
  if (!me || props.userId === me.id) return null;
  const direct = async (video: boolean) => {
    try {
      let id = props.conv.kind === "direct" && store.other(props.conv)?.user_id === props.userId ? props.conv.id : 0;
      if (!id) {
        await store.openDirect(props.userId);
        id = route.value.convId || 0;
      }
      const c = store.convs.get(id);
      if (c && c.state !== "allowed") {
        store.toast(t("app.people.calls.notAllowed", { name: props.name }), "error");
        return;
      }
      if (id) await calls.startCall(id, video);
    } catch (e) {
      store.fail(e);
    }
  };
  return (
    <>
      <button class="btn small" onClick={() => direct(false)}>
        <PhoneIcon size={14} /> {t("app.people.calls.call")}
      </button>
      <button class="btn small" onClick={() => direct(true)}>
        <VideoIcon size={14} /> {t("app.people.calls.videoCall")}
      </button>
      <button class="btn small" onClick={() => setPicking(true)}>
        {t("app.people.calls.videoconference")}
      </button>
      {picking ? (
        <UserPicker
          title={t("app.people.calls.videoconference")}
          confirm={t("app.people.calls.startTheConference")}
          askTitle
          exclude={[me.id, props.userId]}
          onClose={() => setPicking(false)}
          onPick={async (ids, title) => {
            await store.createGroup(title || t("app.people.calls.conferenceWith", { name: props.name }), [props.userId, ...ids]);
            setPicking(false);
            const id = route.value.convId;
            if (id) await calls.startCall(id, true);
          }}
        />
      ) : null}
    </>
  );
}

/** CallBar: "call in progress — Join" in a conversation with a call this device is not in. */
export function CallBar(props: { c: Conversation }) {
  use(calls.callsV);
  const s = use(calls.session);
  const call = calls.byConv.get(props.c.id);
  if (!call || call.state !== "active") return null;
  const n = call.participants?.length || 0;
  if (s && (s.callId === call.id || s.convId === props.c.id)) {
    return (
      <div class="call-bar in" role="status">
        <VideoIcon size={16} />
        <span>{t("app.people.calls.inThisCall")}</span>
        <button class="btn small" onClick={() => (calls.view.value = "float")}>
          {t("app.people.calls.showCall")}
        </button>
      </div>
    );
  }
  const me = store.me.value?.id;
  // A direct call between the two users only: the other device of a participant may take it over.
  if (call.kind === "direct" && !call.participants?.some((p) => p.user_id === me) && call.created_by !== me) return null;
  return (
    <div class="call-bar" role="status">
      <VideoIcon size={16} />
      <span>{t("app.people.calls.inProgress", { n })}</span>
      <button class="btn small primary" onClick={() => calls.join(call, true).catch(store.fail)}>
        {t("app.people.calls.join")}
      </button>
      <button class="btn small" onClick={() => calls.join(call, false).catch(store.fail)}>
        {t("app.people.calls.joinVoice")}
      </button>
    </div>
  );
}
