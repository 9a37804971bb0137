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
  photo_file_id?: number;
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
export type ConvState = "requested" | "allowed" | "cancelled";

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
}

export interface Message {
  id: number;
  conversation_id: number;
  seq: number;
  sender_id?: number;
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
  status?: MsgStatus;
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
