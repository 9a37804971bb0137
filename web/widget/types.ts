// The widget API's JSON shapes (docs/livechat.md, "Widget API").

export interface WFile {
  id: number;
  name: string;
  content_type: string;
  size: number;
  width?: number;
  height?: number;
  has_thumbnail?: boolean;
}

export interface WMsg {
  id: number;
  seq: number;
  kind: string;
  text: string;
  from: "visitor" | "consultant" | "system";
  name?: string;
  files?: WFile[] | null;
  created_at: string;
  edited_at?: string;
  deleted?: boolean;
  event?: { action: string; name?: string; to?: string; text?: string } | null;
  /** The visitor's own messages carry the client_id they were sent with. */
  client_id?: string;
  /** The conversation the message belongs to (from the frame or the fetch); not sent by the server. */
  c?: number;
}

export interface WConv {
  id: number;
  status: "open" | "closed";
  last_seq: number;
  read_seq: number;
  consultants: { name: string }[] | null;
  rated: boolean;
  /** Someone can answer this dialog now: a consultant connected, or one it alerts online (level 2 after a transfer). */
  online?: boolean;
}

export interface PrechatField {
  name: string;
  label: string;
  required: boolean;
}

export interface WProject {
  name: string;
  online: boolean;
  chat_enabled: boolean;
  messages: { greeting?: string; offline?: string; waiting?: string } | null;
  prechat_fields: PrechatField[] | null;
  /** The limits of what a visitor may send: characters, and bytes per file. */
  max_message_length?: number;
  max_file_size?: number;
  /** Per kind of file, in bytes, when the channel has its own limits (else max_file_size). */
  attachment_limits?: Partial<Record<Kind, number>> | null;
}

/** The kinds of file with their own size limit. */
export type Kind = "image" | "audio" | "video" | "other";

export interface Frame {
  type: string;
  id?: number;
  conversation_id?: number;
  cursor?: number;
  resync?: boolean;
  data?: any;
}

/** A message on its way: shown at once, sent (and retried) with the same client_id until the server has it. */
export interface Out {
  cid: string;
  text: string;
  file?: File;
  /** The uploaded file's id, once uploaded (an item with it survives a reload). */
  fid?: number;
  name?: string;
  fail?: string;
  /** The server refused it for good (too long, too large): it is kept as failed, never sent again by itself, and cannot be retried. */
  perm?: 1;
  at: number;
}
