// HTTP calls to the widget API, on the script's own origin, with the
// visitor token as a bearer token. One error type for every failure.

import { parseJSON } from "../app/bidi";
import { t } from "../i18n/i18n";

export class ApiErr extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** Seconds to wait before retrying (Retry-After), when the server says. */
    public retry = 0,
  ) {
    super(message);
  }
}

export const net = { base: "", token: "" };

export async function call<T>(method: string, path: string, body?: unknown, raw?: Blob): Promise<T> {
  const headers: Record<string, string> = {};
  if (net.token) headers.Authorization = "Bearer " + net.token;
  if (raw) headers["Content-Type"] = raw.type || "application/octet-stream";
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(net.base + "/api/v1/widget/" + path, {
      method,
      headers,
      body: raw || (body === undefined ? undefined : JSON.stringify(body)),
      credentials: "omit",
    });
  } catch {
    throw new ApiErr(0, "network", t("widget.error.network"));
  }
  if (!res.ok) {
    let code = "http_" + res.status;
    let msg = res.statusText || t("widget.error.failed");
    try {
      const j = parseJSON(await res.text());
      if (j.error) {
        code = j.error.code || code;
        msg = j.error.message || msg;
      }
    } catch {
      /* not JSON */
    }
    throw new ApiErr(res.status, code, msg, Number(res.headers.get("Retry-After")) || 0);
  }
  return res.status === 204 ? (undefined as T) : (parseJSON(await res.text()) as T);
}

/** plain turns an error into a sentence for the visitor. */
export function plain(e: unknown): string {
  if (!(e instanceof ApiErr)) return t("widget.error.unknown");
  const s = e.message;
  const m = (/^\w+:\/\//.test(s) ? s : s.charAt(0).toUpperCase() + s.slice(1)) + (/[.!?]$/.test(s) ? "" : ".");
  // The server's 413 speaks in bytes; the caller says the limit in words.
  return e.status === 413
    ? t("widget.error.fileTooLarge")
    : e.status === 429
      ? t("widget.error.flood")
      : m;
}

export const fileURL = (id: number, thumb?: boolean) =>
  `${net.base}/api/v1/widget/files/${id}?token=${encodeURIComponent(net.token)}${thumb ? "&thumb=1" : ""}`;
