// The HTTP side of the API: JSON in and out, the CSRF header on every
// request that changes something, and one error type for every failure.

import { parseJSON } from "./bidi";
import { t } from "../i18n/i18n";

declare const __APP_VERSION__: string;
export const APP_VERSION: string = typeof __APP_VERSION__ === "string" ? __APP_VERSION__ : "dev";
export const CLIENT = "web/" + APP_VERSION;

/** An API error: the server's {"error":{code,message,field}}, or "network". */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
    /** rate_limited: seconds until a retry can succeed (Retry-After). */
    public retryAfter?: number,
  ) {
    super(message);
  }
}

let unauthorized: () => void = () => {};
let setupRequired: () => void = () => {};

/** onUnauthorized registers what happens when the session is gone (401). */
export function onUnauthorized(fn: () => void) {
  unauthorized = fn;
}

/**
 * onSetupRequired registers what happens when the server refuses a call
 * because the organisation requires this administrator to set up
 * two-factor sign-in first (403 two_factor_setup_required).
 */
export function onSetupRequired(fn: () => void) {
  setupRequired = fn;
}

let csrfToken = "";

/** setCSRF remembers the token returned by sign-in (the parley_csrf cookie holds it too). */
export function setCSRF(token: string) {
  csrfToken = token;
}

function csrf(): string {
  const m = document.cookie.match(/(?:^|;\s*)parley_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : csrfToken;
}

export function headers(extra?: Record<string, string>): Record<string, string> {
  return { "X-CSRF-Token": csrf(), "X-Parley-Client": CLIENT, ...extra };
}

async function failure(res: Response): Promise<ApiError> {
  let code = "http_" + res.status;
  let message = res.statusText || t("app.core.api.failed");
  let field: string | undefined;
  try {
    const body = parseJSON(await res.text());
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
      field = body.error.field;
    }
  } catch {
    /* not JSON */
  }
  const retry = Number(res.headers.get("Retry-After"));
  return new ApiError(res.status, code, message, field, retry > 0 ? retry : undefined);
}

export async function request<T>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch("/api/v1" + path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? headers() : headers({ "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", t("app.core.api.unreachable"));
  }
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401 && !opts.quiet401 && err.code !== "two_factor_required") unauthorized();
    if (err.code === "two_factor_setup_required") setupRequired();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return parseJSON(await res.text()) as T;
}

export const get = <T>(path: string, opts?: { quiet401?: boolean }) => request<T>("GET", path, undefined, opts);
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});
export const put = <T>(path: string, body?: unknown) => request<T>("PUT", path, body ?? {});
export const patch = <T>(path: string, body?: unknown) => request<T>("PATCH", path, body ?? {});
export const del = <T>(path: string) => request<T>("DELETE", path);

/** qs builds a query string from the defined values. */
export function qs(params: Record<string, string | number | undefined | null | false>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === false || v === "") continue;
    parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(String(v)));
  }
  return parts.length ? "?" + parts.join("&") : "";
}

export const fileURL = (id: number) => `/api/v1/files/${id}`;
export const thumbURL = (id: number) => `/api/v1/files/${id}/thumbnail`;

export interface Upload {
  promise: Promise<import("./types").FileInfo>;
  abort(): void;
}

/**
 * upload sends a file as the raw body of POST /files?name=... with
 * XMLHttpRequest, which (unlike fetch) reports upload progress.
 */
export function upload(file: Blob, name: string, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<import("./types").FileInfo>((resolve, reject) => {
    xhr.open("POST", "/api/v1/files" + qs({ name }));
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    if (file.type) xhr.setRequestHeader("Content-Type", file.type);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: any = null;
      try {
        body = parseJSON(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else {
        if (xhr.status === 401) unauthorized();
        const e = body?.error;
        reject(new ApiError(xhr.status, e?.code || "http_" + xhr.status, e?.message || t("app.core.upload.failed"), e?.field));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", t("app.core.upload.unreachable")));
    xhr.onabort = () => reject(new ApiError(0, "aborted", t("app.core.upload.cancelled")));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
