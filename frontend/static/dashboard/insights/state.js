// The Insights page's state lives in the URL query string, so a view can be bookmarked or sent
// to a colleague and the Back button walks through earlier views. Presets are stored by name
// ("range=12w"), not as dates, so a bookmarked "last 12 weeks" moves on with time.

import { formatDay } from "./format.js";

export const PRESETS = {
  "4w": { label: "Last 4 weeks, to today", weeks: 4 },
  "12w": { label: "Last 12 weeks, to today", weeks: 12 },
  "52w": { label: "Last 52 weeks, to today", weeks: 52 },
  all: { label: "All time" },
  custom: { label: "Custom dates" },
};
export const DEFAULT_RANGE = "12w";
export const BREAKDOWNS = ["service", "reason", "department"];
const SORTS = new Set(["count", "cost"]);
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

const validDay = (value) =>
  ISO_DAY.test(value || "") && !Number.isNaN(new Date(`${value}T00:00:00Z`).getTime());

/** Read the state from a query string; anything unknown falls back to the default. */
export function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const from = validDay(params.get("created_from")) ? params.get("created_from") : "";
  const to = validDay(params.get("created_to")) ? params.get("created_to") : "";
  let range = params.get("range");
  // Hand-written links may carry dates without saying "custom"; dates win over the default.
  if (!(range in PRESETS)) range = from || to ? "custom" : DEFAULT_RANGE;
  const sort = {};
  for (const by of BREAKDOWNS) {
    const value = params.get(`sort_${by}`);
    sort[by] = SORTS.has(value) ? value : "count";
  }
  return {
    range,
    from: range === "custom" ? from : "",
    to: range === "custom" ? to : "",
    department: params.get("department") || "",
    reason: params.get("reason") || "",
    sort,
  };
}

/** The query string for a state; defaults are left out to keep links short. */
export function writeState(state) {
  const params = new URLSearchParams();
  if (state.range !== DEFAULT_RANGE) params.set("range", state.range);
  if (state.range === "custom") {
    if (state.from) params.set("created_from", state.from);
    if (state.to) params.set("created_to", state.to);
  }
  if (state.department) params.set("department", state.department);
  if (state.reason) params.set("reason", state.reason);
  for (const by of BREAKDOWNS) if (state.sort[by] !== "count") params.set(`sort_${by}`, state.sort[by]);
  const text = params.toString();
  return text ? `?${text}` : "";
}

const isoDay = (date) => date.toISOString().slice(0, 10);

/**
 * The dates a state stands for. Presets run from a Monday to today (UTC, as the API counts days
 * and ISO weeks): the current week is included so far, so today's flags show by default; the
 * weekly trend's last week is then a part week.
 */
export function resolveDates(state, now = new Date()) {
  if (state.range === "custom") return { from: state.from, to: state.to };
  const preset = PRESETS[state.range];
  if (!preset.weeks) return { from: "", to: "" };
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const sinceMonday = (today.getUTCDay() + 6) % 7;
  const thisMonday = new Date(today.getTime() - sinceMonday * 86400000);
  const firstMonday = new Date(thisMonday.getTime() - (preset.weeks - 1) * 7 * 86400000);
  return { from: isoDay(firstMonday), to: isoDay(today) };
}

/** The API filters every statistic of the page shares. */
export function apiFilters(state) {
  const { from, to } = resolveDates(state);
  return {
    created_from: from,
    created_to: to,
    department: state.department,
    reason: state.reason,
  };
}

/** The range in words, for the heading that also heads the printed page. */
export function describeRange(state) {
  const { from, to } = resolveDates(state);
  if (from && to) return `${formatDay(from)} – ${formatDay(to)}`;
  if (from) return `from ${formatDay(from)}`;
  if (to) return `up to ${formatDay(to)}`;
  return "all time";
}
