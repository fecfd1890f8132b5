// The one error shape of both API clients (the dashboard's and the in-EHR page's): an RFC 9457
// problem+json body, or no answer at all, becomes an ApiError.

export class ApiError extends Error {
  /** status 0 means the request never got an answer (network down, EHR frame torn down). */
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `Request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
  }

  /** For a fetch that never got an answer. */
  static noConnection() {
    return new ApiError(0, {
      title: "No connection",
      detail: "ValueLoop could not be reached. Check the connection and try again.",
    });
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
