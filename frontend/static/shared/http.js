// What both API clients (the dashboard's and the in-EHR page's) do the same way: send a request
// to our own server, and turn an RFC 9457 problem+json body, or no answer at all, into ApiError.

export class ApiError extends Error {
  /** status 0 means the request never got an answer (network down, EHR frame torn down). */
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `Request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
  }

  /** Someone else changed the record since it was loaded (If-Match failed). */
  get conflict() {
    return this.status === 412;
  }

  /** The session is gone: the clinician must open ValueLoop again from the EHR. */
  get expired() {
    return this.status === 401;
  }

  /** Worth trying again with the same request (and the same idempotency key). */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/**
 * fetch() with a JSON body (when there is one), same-origin credentials and no caching; a
 * request that gets no answer at all throws ApiError with status 0.
 */
export async function send(url, { method, headers, body, keepalive }) {
  try {
    return await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, {
      title: "No connection",
      detail: "ValueLoop could not be reached. Check the connection and try again.",
    });
  }
}
