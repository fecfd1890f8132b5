// The queue's whole view (filters, sort, page size and page) lives in the page's URL, so a view
// can be bookmarked, shared or reloaded, and the Back button walks through earlier views.
// The URL uses the API's own parameter names: what you see in the address bar is the query.
//
// Paging is keyset (no totals), so "Previous page" needs the cursors that led here: `cursor` is
// this page's cursor and `prev` (repeated) the cursors of the pages between the first and this
// one. The first page has no cursor, so it never appears in `prev`.

export const STATUSES = [
  "submitted", "triaged", "accepted", "action_taken", "closed", "needs_info", "not_low_value", "duplicate",
];
export const SORTS = [
  { value: "new_first", label: "New first" },
  { value: "-created_at", label: "Newest" },
  { value: "created_at", label: "Oldest" },
  { value: "-updated_at", label: "Recently updated" },
];
export const DEFAULT_SORT = "new_first";
export const PAGE_SIZES = [25, 50, 100];
export const DEFAULT_LIMIT = 50;

// Single-valued filters, in the order they appear in the URL.
const SINGLE = [
  "reason", "order_code", "department", "reporter_role", "created_from", "created_to",
  "owner", "assigned", "answered", "q", "organization",
];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// `owner` is a staff id; an older link that names a person (free text) is dropped.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function emptyFilters() {
  const filters = { status: [] };
  for (const key of SINGLE) filters[key] = "";
  return filters;
}

/**
 * Parse the URL into a view. Values the API would refuse (an unknown status, a one-letter
 * search, a malformed date) are dropped here, so a hand-edited or old link still opens.
 */
export function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const filters = emptyFilters();
  filters.status = [...new Set(params.getAll("status"))].filter((s) => STATUSES.includes(s));
  for (const key of SINGLE) filters[key] = (params.get(key) || "").trim();
  if (filters.q.length < 2) filters.q = "";
  for (const key of ["assigned", "answered"]) {
    if (!["true", "false"].includes(filters[key])) filters[key] = "";
  }
  for (const key of ["created_from", "created_to"]) {
    if (!DATE.test(filters[key])) filters[key] = "";
  }
  if (!UUID.test(filters.owner)) filters.owner = "";
  // An organization's code (system-level staff only: the API scopes everyone else anyway).
  if (!/^[a-z0-9-]{1,20}$/.test(filters.organization)) filters.organization = "";
  const sort = params.get("sort");
  const limit = Number(params.get("limit"));
  const cursor = params.get("cursor") || "";
  return {
    filters,
    sort: SORTS.some((s) => s.value === sort) ? sort : DEFAULT_SORT,
    limit: PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT,
    cursor,
    // Without a cursor we are on the first page, whatever `prev` says.
    prev: cursor ? params.getAll("prev").filter(Boolean) : [],
  };
}

/** The filters as API parameters (arrays repeat the key; empty values are left out). */
export function filterParams(state) {
  const params = { status: state.filters.status };
  for (const key of SINGLE) if (state.filters[key]) params[key] = state.filters[key];
  return params;
}

/** Everything GET /flags needs for this page. */
export function listParams(state) {
  return {
    ...filterParams(state),
    sort: state.sort,
    limit: state.limit,
    cursor: state.cursor || undefined,
  };
}

/** The page URL's query string ("" for the default view), defaults left out to keep it short. */
export function stateToSearch(state) {
  const params = new URLSearchParams();
  for (const status of state.filters.status) params.append("status", status);
  for (const key of SINGLE) if (state.filters[key]) params.append(key, state.filters[key]);
  if (state.sort !== DEFAULT_SORT) params.append("sort", state.sort);
  if (state.limit !== DEFAULT_LIMIT) params.append("limit", String(state.limit));
  if (state.cursor) {
    params.append("cursor", state.cursor);
    for (const cursor of state.prev) params.append("prev", cursor);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** How many filters narrow the list (for the collapsed filter panel's summary). */
export function activeFilterCount(state) {
  return (state.filters.status.length ? 1 : 0) + SINGLE.filter((key) => state.filters[key]).length;
}

export function pageNumber(state) {
  return state.cursor ? state.prev.length + 2 : 1;
}

/** The view of the next page: this page's cursor joins the stack. */
export function nextPage(state, nextCursor) {
  const prev = state.cursor ? [...state.prev, state.cursor] : [];
  return { ...state, cursor: nextCursor, prev };
}

/** The view of the previous page: the top of the stack, or the first page. */
export function previousPage(state) {
  if (!state.cursor) return state;
  const prev = [...state.prev];
  const cursor = prev.pop() || "";
  return { ...state, cursor, prev };
}

/** New filters, sort or page size start again from the first page. */
export function withFilters(state, changes) {
  return { ...state, ...changes, cursor: "", prev: [] };
}
