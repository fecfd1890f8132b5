// "Improvements live": the improvement work that went live in the range (by go-live date), the
// flags it resolved, a year of flagged orders at stake at the rate before go-live, and each
// one's measured change (GET /api/v1/stats/improvements: the same numbers as its own page).

import { el } from "../../shared/el.js";
import { formatCost, formatCount, formatDay, plural } from "./format.js";
import { describeRange } from "./state.js";

const ratio = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "0.42 (95% CI 0.25–0.71)", or why there is no ratio yet. */
export function describeChange(row) {
  if (!row.enough_data || row.rate_ratio === null) {
    return `Not enough data yet (${formatCount(row.before_flags)} before, ${formatCount(row.after_flags)} after)`;
  }
  const [low, high] = row.ci95;
  return `${ratio.format(row.rate_ratio)} (95% CI ${ratio.format(low)}–${ratio.format(high)})`;
}

export const improvementsLive = {
  id: "improvements",
  wide: true,
  title: "Improvements live",
  note: "Improvement work whose go-live date is in the range. Cost at stake: a year of the "
    + "flagged orders on its targets at the rate before go-live (orders without a known price "
    + "count as $0). Change: flags per day after go-live over before, with its 95% interval; "
    + "below 1 means fewer flags.",
  path: "stats/improvements",
  params: () => ({}),
  filters: (filters) => ({ created_from: filters.created_from, created_to: filters.created_to }),
  svg: false,
  columns: [
    {
      header: "Improvement",
      rowHeader: true,
      value: (row) => row.title,
      format: (_, row) => el("a", { href: `/dashboard/improvements/${row.id}` }, row.title),
    },
    { header: "Go-live", value: (row) => row.go_live, format: formatDay },
    { header: "Flags resolved", numeric: true, value: (row) => row.flags_resolved, format: formatCount },
    {
      header: "Cost at stake a year",
      numeric: true,
      value: (row) => row.annual_cost_at_stake,
      format: formatCost,
    },
    { header: "Change (rate ratio)", value: (row) => row.rate_ratio ?? "", format: (_, row) => describeChange(row) },
  ],
  rows: (data) => data.improvements,
  key: (row) => row.id,
  summary: (data) => `${plural(data.live, "improvement", "improvements")} went live: `
    + `${plural(data.flags_resolved, "flag", "flags")} resolved, `
    + `${formatCost(data.annual_cost_at_stake)} a year at stake.`,
  emptyText: "No improvement went live in this range. Start one from a flag's page.",
  caption: (view) => `Improvements live, ${describeRange(view)}`,
};
