// The dashboard's only door to the server: the same REST API (/api/v1) that other clients use,
// authenticated by the staff-session cookie. Writes carry the session's CSRF token; RFC 9457
// problem+json errors become ApiError; a lost session sends the user to the sign-in page.
// Signing in is the one call whose 401 means something else (a wrong token): its caller asks
// for the error instead (`signedIn: false`) and says so on the page.

import { ApiError, send } from "../shared/http.js";

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const csrfToken = csrfMeta ? csrfMeta.content : "";
const SAFE = new Set(["GET", "HEAD"]);

const SIGN_IN_PATH = "/dashboard/sign-in";

function signInAgain() {
  // Already on the sign-in page: going "back" to it after signing in would be a loop.
  if (location.pathname.startsWith(SIGN_IN_PATH)) return;
  const here = location.pathname + location.search;
  location.assign(`${SIGN_IN_PATH}?next=${encodeURIComponent(here)}`);
}

/**
 * Call the API. Returns { data, etag, response }. `ifMatch` sends the ETag a write is based on;
 * `raw` returns the Response untouched (for CSV or SVG bodies). `signedIn: false` is for the
 * sign-in call itself: a 401 there is a wrong token, thrown as ApiError with the server's
 * words, not a lost session that sends the page away.
 */
export async function request(
  path, { method = "GET", body, ifMatch, accept, raw = false, signedIn = true } = {},
) {
  const headers = { Accept: accept || "application/json" };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken;
  if (ifMatch) headers["If-Match"] = ifMatch;
  const url = path.startsWith("/") ? path : `/api/v1/${path}`;
  const response = await send(url, { method, headers, body });
  if (response.status === 401 && signedIn) {
    signInAgain();
    throw new ApiError(401, { detail: "Signed out." });
  }
  if (raw && response.ok) return { data: null, etag: response.headers.get("ETag"), response };
  const type = response.headers.get("content-type") || "";
  const data = response.status === 204 ? null
    : type.includes("json") ? await response.json().catch(() => null)
    : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : null);
  return { data, etag: response.headers.get("ETag"), response };
}

export async function get(path) {
  return (await request(path)).data;
}

/** Query string from an object: arrays repeat the key, empty values are left out. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((item) => item !== "" && search.append(key, item));
    else if (value !== undefined && value !== null && value !== "") search.append(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const staff = {
  role: document.body.dataset.role || "",
  permissions: new Set((document.body.dataset.permissions || "").split(" ").filter(Boolean)),
  replySlaHours: Number(document.body.dataset.replySlaHours || 72),
  can(permission) {
    return this.permissions.has(permission);
  },
};
