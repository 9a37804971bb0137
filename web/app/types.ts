// The API's JSON shapes (see /api/v1/openapi.json and docs/api.md). Only the
// fields the app reads are listed.

export type Role = "admin" | "supervisor" | "agent" | "member";
export type Presence = "online" | "away" | "offline";

export interface GroupRef {
  id: number;
  name: string;
}

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  /** A bot account: acts through the API with a token (docs/webhooks.md). */
  bot?: boolean;
  photo_file_id?: number;
  /** Signs in with an authenticator code as well as the password. */
  two_factor?: boolean;
  last_client?: string;
  last_client_version?: string;
  created_at: string;
  updated_at: string;
  presence?: Presence;
  groups?: GroupRef[];
}

export interface Group {
  id: number;
  name: string;
  parent_id?: number;
  rights: string[];
  member_ids: number[];
  created_at: string;
}

export interface Settings {
  desktop_notifications: boolean;
  typing_notifications: boolean;
  send_on_enter: boolean;
  sound: boolean;
  always_scroll_to_end: boolean;
  /** The app's language: "en", "ru", "es", or "" for the browser's (app/lang.ts). */
  language: "" | "en" | "ru" | "es";
}

export interface ChatSettings {
  assistance_enabled: boolean;
  assistance_admin_id: number;
}

export interface Limits {
  max_message_length: number;
  max_file_size: number;
  max_files_per_message: number;
}

export type ConvKind = "direct" | "group" | "assistance" | "support";
/** cancelled: the requester withdrew the request; declined: the other user refused it. */
export type ConvState = "requested" | "allowed" | "cancelled" | "declined";

export interface Member {
  user_id: number;
  name: string;
  email: string;
  role: string;
  presence: Presence;
  active: boolean;
  photo_file_id?: number;
}

export interface Receipts {
  delivered_seq: number;
  read_seq: number;
}

export interface Conversation {
  id: number;
  kind: ConvKind;
  title?: string;
  state: ConvState;
  created_by: number;
  last_seq: number;
  last_message_at?: string;
  created_at: string;
  updated_at: string;
  members: Member[];
  receipts: Receipts;
  unread: number;
  marked_unread: boolean;
  read_seq: number;
  draft?: string;
  last_message?: Message;
  /** A declined direct request: how often, the last time, and when the requester may ask again (absent: never). */
  declines?: number;
  declined_at?: string;
  ask_again_at?: string;
  /** Your mute of this chat (muted_until absent: until you unmute) and your unread mentions in it. */
  muted?: boolean;
  muted_until?: string;
  mentions?: number;
}

export type MsgKind = "text" | "file" | "event" | "whisper";
export type MsgStatus = "queued" | "sent" | "delivered" | "read" | "failed";

export interface FileInfo {
  id: number;
  owner_id: number;
  conversation_id?: number;
  name: string;
  content_type: string;
  size: number;
  width?: number;
  height?: number;
  has_thumbnail?: boolean;
  created_at: string;
}

export interface Quote {
  id: number;
  sender_id: number;
  text: string;
  deleted?: boolean;
}

export interface SystemEvent {
  action: string;
  actor_id?: number;
  user_ids?: number[];
  title?: string;
  /** Support dialogs: the name the line is about (a consultant, a visitor). */
  name?: string;
  /** "routed" lines: the distribution's decision in brief (staff only); the whole is GET /messages/{id}/routing. */
  routing?: RoutingLine;
  /** call_* lines (docs/calls.md, "History"): the call, and its length in seconds when it ended. */
  call?: { id?: string; video?: boolean; duration?: number };
}

export interface Message {
  id: number;
  conversation_id: number;
  seq: number;
  sender_id?: number;
  /** Set on a visitor's message in a support dialog (sender_id is then 0). */
  contact_id?: number;
  kind: MsgKind;
  text: string;
  quote_id?: number;
  quote?: Quote;
  client_id?: string;
  files?: FileInfo[];
  created_at: string;
  edited_at?: string;
  deleted_at?: string;
  event?: SystemEvent;
  /** A reply to a channel's customer: what its channel reported (otherwise computed from receipts). */
  status?: MsgStatus;
  /** Why the channel failed to carry it, in the service's words. */
  status_error?: string;
  /** Team-chat basics (chat.ts): the thread a reply is in, whether it was also sent to the chat, who it mentions, its thread's summary, its reactions. */
  thread_id?: number;
  in_channel?: boolean;
  mentions?: { user_ids?: number[]; all?: boolean };
  thread?: { replies: number; last_reply_at: string; user_ids: number[] };
  reactions?: { emoji: string; count: number; user_ids: number[] }[];
  /** The preview of its first web link, fetched by the server after it was sent (hidden: the sender removed it). */
  preview?: LinkPreview;
  /** Records it refers to: each reader asks for the card's summary (GET /api/v1/cards/{kind}/{id}). */
  cards?: CardRef[];
}

export interface LinkPreview {
  url: string;
  title?: string;
  description?: string;
  site_name?: string;
  /** Parley's thumbnail of the page's image: /api/v1/link-images/{image}. */
  image?: string;
  hidden?: boolean;
}

export interface CardRef {
  kind: "user" | "contact" | "case" | "conversation";
  id: number;
}

export interface Reminder {
  id: number;
  user_id: number;
  message_id: number;
  conversation_id: number;
  remind_at: string;
  fired_at?: string;
  created_at: string;
  message?: Message;
}

export interface Unread {
  messages: number;
  conversations: number;
}

export interface LoginOutput {
  token: string;
  csrf_token: string;
  user: User;
}

/** A frame the server sends on the WebSocket. */
export interface Frame {
  type: string;
  id?: number;
  conversation_id?: number;
  seq?: number;
  data?: any;
  at?: string;
  req?: number;
  cursor?: number;
  resync?: boolean;
  user?: User;
  message?: Message;
  error?: { code: string; message: string };
}

// ---- live chat (docs/livechat.md) ----------------------------------------

export interface DayHours {
  weekday: number;
  from: string;
  to: string;
}

export interface WorkingHours {
  time_zone: string;
  days: DayHours[];
}

export interface Shortcut {
  name: string;
  text: string;
}

export interface ChatMessages {
  greeting: string;
  offline: string;
  waiting: string;
  shortcuts: Shortcut[];
}

export interface PrechatField {
  name: string;
  label: string;
  required: boolean;
}

export interface Project {
  id: number;
  name: string;
  key: string;
  secret?: string;
  origins: string[];
  chat_enabled: boolean;
  hours: WorkingHours;
  messages: ChatMessages;
  prechat_fields: PrechatField[];
  case_template_id: number;
  reply_limits?: { warn_s: number; limit_s: number; channels?: Record<string, { warn_s: number; limit_s: number }> };
  /** Per channel; a channel not listed has its defaults. */
  attachment_limits?: Record<string, AttachmentLimits>;
  /** Auto-distribution of dialogs (docs/routing.md); PATCH replaces it whole. */
  distribution?: Distribution;
  /** Dialogs closed longer ago are deleted with their files (0: kept forever). */
  retention_days?: number;
  created_at: string;
  updated_at: string;
}

export interface MyProject {
  project: Project;
  level: number;
}

export interface Specialist {
  id: number;
  project_id: number;
  user_id?: number;
  group_id?: number;
  level: number;
  name: string;
  created_at: string;
}

export interface Contact {
  id: number;
  project_id: number;
  external_id?: string;
  name: string;
  email?: string;
  phone?: string;
  page_url?: string;
  referrer?: string;
  utm_source?: string;
  attributes?: Record<string, string>;
  /** Blocked customers can neither write nor be written to. */
  blocked?: boolean;
  /** The customer's tags, pinned first (the list shows the pinned ones). */
  tags?: ContactTag[];
  created_at: string;
  last_seen_at: string;
  /** When the customer's personal data was erased (docs/inbox.md). */
  erased_at?: string;
}

/** An entry of the audit log (docs/api.md#the-audit-log). */
export interface AuditEntry {
  id: number;
  at: string;
  actor_id?: number;
  actor_name: string;
  action: string;
  target_type?: string;
  target_id?: number;
  detail: Record<string, unknown>;
  client_addr?: string;
}

// ---- the support inbox (docs/inbox.md) ------------------------------------

export interface Tag {
  id: number;
  name: string;
  color: string;
  /** Dialogs under the list's other filters whose customer has the tag. */
  dialogs: number;
}

export interface ContactTag {
  tag_id: number;
  name: string;
  color: string;
  pinned: boolean;
}

export interface QuickReply {
  /** Set on the user's own (editable) quick replies. */
  id?: number;
  owner_id?: number;
  /** Set on a project's shortcuts. */
  project_id?: number;
  shortcut: string;
  text: string;
}

/** Bytes per kind of attachment, for the dialog's channel. */
export interface AttachmentLimits {
  image: number;
  audio: number;
  video: number;
  other: number;
}

export interface DialogFile {
  id: number;
  name: string;
  size: number;
  content_type: string;
  message_id: number;
  created_at: string;
  width?: number;
  height?: number;
  has_thumbnail?: boolean;
}

export interface CustomerCard {
  contact: Contact;
  dialogs: Dialog[];
  cases: Case[];
}

export interface Support {
  project_id: number;
  contact_id: number;
  status: "open" | "closed";
  level: number;
  transfer_to?: number;
  contact_read_seq: number;
  closed_at?: string;
  /** The manager in charge (0 or absent: nobody). */
  assignee_id?: number;
  /** How the customer writes: "widget", "telegram", "whatsapp", "email", ... */
  channel?: string;
  /** The connected channel the customer writes through (absent for the widget). */
  channel_id?: number;
  activity_at?: string;
  last_from?: "customer" | "manager" | "";
  /** When the customer's first unanswered message was sent (absent once answered). */
  waiting_since?: string;
}

export interface Dialog {
  conversation: Conversation;
  support: Support;
  /** null once the customer was unpinned from the dialog. */
  contact: Contact | null;
  consultants: { id: number; name: string }[] | null;
  waiting: boolean;
  last_message?: Message | null;
  unread: number;
  /** Some answers name the project; the app fills it in from its own list otherwise. */
  project?: { id: number; name: string };
  rating?: Rating | null;
  assignee?: { id: number; name: string } | null;
  /** When the wait passes the project's warning and limit (yellow, then red). */
  reply_warn_at?: string;
  reply_due_at?: string;
  /** The viewer's own unsent text (answers to the viewer only). */
  draft?: string;
  attachment_limits?: AttachmentLimits;
  /** The name administrators gave its connected channel (shown beside its icon). */
  channel_name?: string;
  /** Open, nobody in charge, and the distribution found nobody for its level: why ("all 4 managers at capacity"). */
  queue_note?: string;
}

// ---- connected channels (docs/channels.md) ----------------------------------

/** One setting or secret a kind of channel takes. */
export interface ChannelField {
  name: string;
  label: string;
  help?: string;
  required: boolean;
  /** Pre-filled; on a secret, "(generated)" means Parley makes it when left empty. */
  default?: string;
  options?: string[];
}

/** A kind of channel the server connects (GET /channel-kinds). */
export interface ChannelKind {
  kind: string;
  label: string;
  settings: ChannelField[];
  secrets: ChannelField[];
  /** The service calls the channel's webhook URL. */
  webhook: boolean;
  /** Messages a second the queue sends at most. */
  rate: number;
  statuses: MsgStatus[];
  limits: AttachmentLimits;
}

/** A connected channel as administrators see it: secrets' names, never their values. */
export interface Channel {
  id: number;
  project_id: number;
  kind: string;
  name: string;
  paused: boolean;
  auto_case: boolean;
  settings: Record<string, string> | null;
  secrets_set: string[] | null;
  last_error?: string;
  error_at?: string;
  created_at: string;
  updated_at: string;
  webhook_url: string;
  /** The secrets Parley generated, in the one answer that made them. */
  new_secrets?: Record<string, string>;
}

export interface ChannelTest {
  ok: boolean;
  detail?: string;
  error?: string;
}

// ---- bots and outgoing webhooks (docs/webhooks.md) ----------------------------

/** An outgoing webhook: a project's dialog events, every project's (no project_id), or a bot's own (user_id). */
export interface Webhook {
  id: number;
  project_id?: number;
  user_id?: number;
  url: string;
  /** The event types delivered; empty means all. */
  events: string[] | null;
  active: boolean;
  /** The stream position delivered up to. */
  cursor: number;
  last_error?: string;
  error_at?: string;
  created_at: string;
  updated_at: string;
  /** Only in the answer that created it. */
  secret?: string;
}

/** One attempt to deliver an event: a webhook's log. */
export interface WebhookDelivery {
  id: number;
  webhook_id: number;
  event_id: number;
  event_type: string;
  attempt: number;
  ok: boolean;
  status_code?: number;
  duration_ms: number;
  error?: string;
  created_at: string;
}

/** A created bot (POST /bots): its token and its webhook's secret are in this answer only. */
export interface CreatedBot {
  user: User;
  token: string;
  webhook?: Webhook;
}

export interface CaseField {
  name: string;
  label: string;
  required: boolean;
  default?: string;
}

export interface CaseTemplate {
  id: number;
  name: string;
  fields: CaseField[];
  created_at: string;
}

export interface Case {
  id: number;
  project_id: number;
  conversation_id: number;
  contact_id: number;
  source: "offline" | "conversation";
  status: "open" | "closed";
  title: string;
  description: string;
  fields: Record<string, string> | null;
  created_by?: number;
  created_at: string;
  closed_at?: string;
  closed_by?: number;
}

export interface CaseComment {
  id: number;
  case_id: number;
  author_id?: number;
  contact_id?: number;
  text: string;
  created_at: string;
}

export interface Rating {
  conversation_id: number;
  contact_id: number;
  score: number;
  comment?: string;
  created_at: string;
}

export interface SpecialistMetrics {
  user_id: number;
  name: string;
  conversations: number;
  median_first_response_ms: number;
  median_handling_ms: number;
  ratings: number;
  average_rating: number;
}

// ---- the distribution (routing; seed 003's auto-distribution bot) ------------

export type Policy = "off" | "round_robin" | "fewest_open";
export type Availability = "available" | "busy" | "break";

export interface ManagerCapacity {
  user_id: number;
  capacity: number;
}

/** A project's distribution settings. Capacities: 0 is no limit. */
export interface Distribution {
  policy: Policy;
  capacity: number;
  managers: ManagerCapacity[] | null;
  project_capacity: number;
  burst: number;
  /** Channel kind → the only managers who get its dialogs. */
  channels: Record<string, number[]> | null;
  reassign_overdue: boolean;
}

/** A manager's distribution state (GET /me/availability, agent.updated). */
export interface Agent {
  user_id: number;
  availability: Availability;
  updated_at?: string;
  last_assigned_at?: string;
}

export interface RoutingCandidate {
  user_id: number;
  name: string;
  level: number;
  online: boolean;
  availability: string;
  load: number;
  capacity: number;
  last_assigned_at?: string;
  burst: number;
}

export interface RoutingSnapshot {
  trigger: string;
  policy: string;
  at: string;
  level: number;
  channel: string;
  transfer_to?: number;
  exclude?: number[];
  channel_managers?: number[];
  project_load: number;
  project_capacity: number;
  burst: number;
  candidates: RoutingCandidate[] | null;
}

export interface RoutingVerdict {
  user_id: number;
  /** Why they were skipped; absent for the chosen one. */
  skip?: string;
  detail: string;
}

export interface RoutingDecision {
  snapshot: RoutingSnapshot;
  chosen_id?: number;
  verdicts: RoutingVerdict[] | null;
  tie_break?: string;
  summary: string;
}

/** A routed line's decision in brief. */
export interface RoutingLine {
  trigger: string;
  policy: string;
  chosen_id?: number;
  summary: string;
  tie_break?: string;
  candidates: number;
  /** Candidates passed over, per skip reason. */
  skipped?: Record<string, number>;
}

export interface QueuedDialog {
  id: number;
  contact_name: string;
  channel: string;
  level: number;
  transfer_to?: number;
  queued_at: string;
  waiting_since?: string;
}

export interface ManagerLoad {
  user_id: number;
  name: string;
  level: number;
  online: boolean;
  availability: string;
  load: number;
  capacity: number;
  last_assigned_at?: string;
}

/** GET /projects/{id}/queue: the supervisors' view. */
export interface QueueView {
  project_id: number;
  policy: Policy;
  project_load: number;
  project_capacity: number;
  waiting: Record<string, number> | null;
  dialogs: QueuedDialog[] | null;
  notes: Record<string, string> | null;
  managers: ManagerLoad[] | null;
  at: string;
}

/** A browser session or an API token of the signed-in user (GET /me/tokens). */
export interface SessionInfo {
  id: number;
  kind: "session" | "token";
  name?: string;
  created_at: string;
  last_used_at: string;
  expires_at?: string;
  /** The browser's User-Agent and the address it signed in from. */
  client?: string;
  addr?: string;
  /** The session this list was asked through: this device. */
  current?: boolean;
}

export interface TwoFactorStatus {
  enabled: boolean;
  recovery_codes_left: number;
  /** The organisation requires it of this user (an administrator). */
  required: boolean;
}

/** A change of credentials: the session's new token and CSRF token; recovery codes when two-factor sign-in was turned on. */
export interface Rotated {
  token: string;
  csrf_token: string;
  recovery_codes?: string[];
}
