// The only module that talks to the server. It adds the app-session handle to every call and
// turns RFC 9457 problem+json bodies into ApiError, so callers deal in one error shape.

import { ApiError, send } from "../shared/http.js";

// The handle is rendered into the page by the launch callback. It stays in this module's
// memory only: EHR frames may block cookies, and web storage (local or session) may throw there
// (and would outlive the launch or leak to other tabs).
const meta = document.querySelector('meta[name="valueloop-session"]');
const handle = meta ? meta.content : "";

const BASE = "/api/v1/clinician";

export async function api(path, { method = "GET", body, keepalive = false } = {}) {
  const headers = { "X-ValueLoop-Session": handle, Accept: "application/json" };
  // keepalive lets a pending flag leave even while the EHR closes the panel.
  const response = await send(BASE + path, { method, headers, body, keepalive });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A fresh idempotency key: 32 hex characters (the API accepts [A-Za-z0-9_-]). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  // randomUUID needs a secure context; plain-http demos inside a frame may lack it.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
