// The Insights page: where low-value care concentrates, what it costs and how well the loop
// closes, for a date range and optional department and reason. About services, reasons and
// departments, never a ranking of named clinicians: the API offers no such breakdown.
//
// The state is the URL (state.js); every change pushes a history entry and reloads
// only the figures whose request changed, so Back and bookmarks work without a page reload.

import { el } from "../../shared/el.js";
import { get, query } from "../api.js";
import { toast } from "../common.js";
import { InsightFigure } from "./figure.js";
import {
  formatCost, formatCount, formatDay, formatHours, formatShare, plural,
} from "./format.js";
import { KpiTiles } from "./kpis.js";
import { improvementsLive } from "./improvements.js";
import { caughtAtOrdering } from "./ordering.js";
import {
  apiFilters, describeRange, PRESETS, readState, resolveDates, writeState,
} from "./state.js";

const form = document.getElementById("insights-filters");
const rangeSelect = form.elements.range;
const customDates = document.getElementById("custom-dates");
const rangeError = document.getElementById("range-error");
const heading = document.getElementById("range-heading");
const status = document.getElementById("insights-status");

const REVERSED_DATES = "The start date is after the end date. Change one of them.";

let state = readState();

// --- the figures -----------------------------------------------------------------------------

// Order codes in a form people read: "CPT 82306" rather than the system URL.
const SYSTEMS = {
  "http://www.ama-assn.org/go/cpt": "CPT",
  "http://loinc.org": "LOINC",
  "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
  "http://snomed.info/sct": "SNOMED CT",
};
function codeText(key) {
  const [system, code] = key.includes("|") ? key.split("|") : ["", key];
  return SYSTEMS[system] ? `${SYSTEMS[system]} ${code}` : code;
}

const measure = (view, by) => (view.sort[by] === "cost" ? "estimated cost" : "flags");

function paretoColumns(by, labelHeader) {
  return [
    {
      header: labelHeader,
      rowHeader: true,
      value: (row) => row.label,
      // A service's code beside its name: two services can share a display name.
      format: by === "service"
        ? (label, row) => (row.key ? [label, " ", el("span", { class: "code", text: codeText(row.key) })] : label)
        : null,
    },
    { header: "Flags", numeric: true, value: (row) => row.count, format: formatCount },
    { header: "Share of flags", numeric: true, value: (row) => row.share, format: formatShare },
    {
      header: (view) => `Cumulative share of ${measure(view, by)}`,
      numeric: true,
      value: (row) => row.cumulative_share,
      format: formatShare,
    },
    { header: "Estimated cost", numeric: true, value: (row) => row.estimated_cost, format: formatCost },
  ];
}

const MAX_CHART_BARS = 15; // app/kit/charts.py folds the rest into "Other"

function paretoSummary(noun) {
  return (data) => {
    const reach = data.rows.findIndex((row) => row.cumulative_share >= 0.8) + 1;
    const what = data.sort === "cost" ? "the estimated cost" : "the flags";
    let text = `${plural(data.total_count, "flag", "flags")}, ${formatCost(data.total_estimated_cost)} estimated.`;
    if (reach > 0 && data.rows.length > 1) {
      text += ` The top ${plural(reach, noun.one, noun.many)} of ${formatCount(data.rows.length)} account for 80% of ${what}.`;
    }
    if (data.rows.length > MAX_CHART_BARS) {
      text += ` The chart groups the smallest ${formatCount(data.rows.length - MAX_CHART_BARS + 1)} as “Other”; the table lists every one.`;
    }
    return text;
  };
}

const PARETO_NOTE = "Largest first. The line is the running share; the dashed line marks 80%.";
const SORTS = [["count", "By count"], ["cost", "By estimated cost"]];

function pareto(by, title, labelHeader, noun, note, wide = false) {
  return {
    id: by,
    wide,
    title,
    note: `${note} ${PARETO_NOTE}`,
    path: "stats/breakdown",
    params: (view) => ({ by, sort: view.sort[by] }),
    sorts: SORTS,
    svg: true,
    columns: paretoColumns(by, labelHeader),
    rows: (data) => data.rows,
    key: (row) => row.key,
    summary: paretoSummary(noun),
    caption: (view) => `${title} by ${measure(view, by)}, ${describeRange(view)}`,
  };
}

const FIGURES = {
  concentration: [
    pareto("service", "Flags by service", "Service (order)", { one: "service", many: "services" },
      "The ordered test or treatment.", true),
    pareto("reason", "Flags by reason", "Reason", { one: "reason", many: "reasons" },
      "Why the reporter judged the order low-value."),
    pareto("department", "Flags by department", "Department", { one: "department", many: "departments" },
      "Where the encounter took place."),
  ],
  ordering: [caughtAtOrdering],
  improvements: [improvementsLive],
  loop: [
    {
      id: "weekly",
      wide: true,
      title: "Flags per week",
      note: "Weeks start on Monday (UTC); a week without flags shows as zero.",
      path: "stats/weekly",
      params: () => ({}),
      svg: true,
      columns: [
        { header: "Week starting", rowHeader: true, value: (row) => row.week_start, format: formatDay },
        { header: "Flags", numeric: true, value: (row) => row.count, format: formatCount },
        { header: "Estimated cost", numeric: true, value: (row) => row.estimated_cost, format: formatCost },
      ],
      // Empty weeks are real zeros, but a range with no flags at all is simply empty.
      rows: (data) => (data.weeks.some((week) => week.count > 0) ? data.weeks : []),
      key: (row) => row.week_start,
      summary: (data) => {
        const busiest = data.weeks.reduce((top, week) => (week.count > top.count ? week : top));
        return `${plural(data.weeks.length, "week", "weeks")}; the busiest began ${formatDay(busiest.week_start)} with ${plural(busiest.count, "flag", "flags")}.`;
      },
      emptyText: "No flags in this range, so there are no weeks to show.",
      caption: (view) => `Flags per week, ${describeRange(view)}`,
    },
    {
      id: "reply-times",
      title: "Time to first reply",
      note: "From the flag to the quality team's first reply to the reporter. Flags still waiting count as unanswered.",
      path: "stats/reply-times",
      params: () => ({}),
      svg: true,
      columns: [
        { header: "Time to first reply", rowHeader: true, value: (row) => row.label },
        { header: "Flags", numeric: true, value: (row) => row.count, format: formatCount },
      ],
      rows: (data) => (data.buckets.some((bucket) => bucket.count > 0) ? data.buckets : []),
      key: (row) => row.key,
      summary: (data) => (data.median_hours === null
        ? "No flag in this range has had a reply yet."
        : `Median time to first reply: ${formatHours(data.median_hours)} (${data.median_hours} hours).`),
      caption: (view) => `Time to first reply, ${describeRange(view)}`,
    },
    {
      id: "close-times",
      title: "Time to close",
      note: "From the flag to the end of its review (closed, not low-value or duplicate), by reason. Reopened flags count once they end again.",
      path: "stats/close-times",
      params: () => ({}),
      svg: true,
      columns: [
        { header: "Reason", rowHeader: true, value: (row) => row.label },
        { header: "Reviews ended", numeric: true, value: (row) => row.closed, format: formatCount },
        { header: "Median time to close", numeric: true, value: (row) => row.median_hours, format: formatHours },
      ],
      rows: (data) => data.by_reason,
      key: (row) => row.reason,
      summary: (data) => (data.median_hours === null
        ? "No review has ended in this range yet."
        : `Median time to close: ${formatHours(data.median_hours)} over ${plural(data.closed, "ended review", "ended reviews")}.`),
      emptyText: "No review has ended in this range yet.",
      caption: (view) => `Time to close by reason, ${describeRange(view)}`,
    },
    {
      id: "cycle-time",
      title: "Time in each status",
      note: "Median time a flag spent in a status before it moved on, per stay, from the timeline's status changes. The current stay is not counted until it ends.",
      path: "stats/cycle-time",
      params: () => ({}),
      svg: true,
      columns: [
        { header: "Status", rowHeader: true, value: (row) => row.label },
        { header: "Stays ended", numeric: true, value: (row) => row.stays, format: formatCount },
        { header: "Median time in status", numeric: true, value: (row) => row.median_hours, format: formatHours },
      ],
      rows: (data) => data.statuses.filter((row) => row.stays > 0),
      key: (row) => row.status,
      summary: (data) => {
        const slowest = data.statuses.filter((row) => row.stays > 0)
          .reduce((top, row) => (top === null || row.median_hours > top.median_hours ? row : top), null);
        return slowest
          ? `Flags wait longest in “${slowest.label}”: a median of ${formatHours(slowest.median_hours)}.`
          : "No flag has changed status in this range yet.";
      },
      emptyText: "No flag has changed status in this range yet.",
      caption: (view) => `Time in each status, ${describeRange(view)}`,
    },
    {
      id: "outcomes",
      title: "Outcomes of reviews",
      note: "Where the flags created in this range stand now.",
      path: "stats/outcomes",
      params: () => ({}),
      svg: false,
      columns: [
        { header: "Status", rowHeader: true, value: (row) => row.label },
        { header: "Flags", numeric: true, value: (row) => row.count, format: formatCount },
      ],
      rows: (data) => (data.by_status.some((row) => row.count > 0) ? data.by_status : []),
      key: (row) => row.status,
      summary: (data) => (data.closed_with_action_share === null
        ? "No review has ended in this range yet."
        : `${plural(data.ended, "review", "reviews")} ended; ${formatCount(data.closed_with_action)} closed with an action taken (${formatShare(data.closed_with_action_share)}).`),
      caption: (view) => `Outcomes of reviews, ${describeRange(view)}`,
    },
  ],
};

const kpis = new KpiTiles(document.getElementById("kpis"));
const figures = [];
for (const [slot, configs] of Object.entries(FIGURES)) {
  const container = document.querySelector(`[data-slot="${slot}"]`);
  for (const config of configs) {
    const figure = new InsightFigure(config, { onSort: changeSort });
    figures.push(figure);
    container.append(figure.element);
  }
}

// --- state, URL and controls ------------------------------------------------------------------

/** The heading that names the range and filters; it also heads the printed report. */
function describeFilters() {
  const { from, to } = resolveDates(state);
  const parts = [from || to ? `Flags created ${describeRange(state)}` : "All flags, any date"];
  if (state.department) parts.push(`department: ${state.department}`);
  if (state.reason) {
    const option = [...form.elements.reason.options].find((o) => o.value === state.reason);
    parts.push(`reason: ${option ? option.textContent : state.reason}`);
  }
  return parts.join(" · ");
}

/** Put the state into the controls (on load and when Back restores an earlier view). */
function syncControls() {
  rangeSelect.value = state.range;
  customDates.hidden = state.range !== "custom";
  form.elements.created_from.value = state.from;
  form.elements.created_to.value = state.to;
  ensureOption(form.elements.department, state.department);
  ensureOption(form.elements.reason, state.reason);
  form.elements.department.value = state.department;
  form.elements.reason.value = state.reason;
  // A hand-edited link can still carry reversed dates; say so beside the fields as well.
  const reversed = state.range === "custom" && state.from && state.to && state.from > state.to;
  showRangeError(reversed ? REVERSED_DATES : "");
}

// A bookmarked value the option lists do not (yet) hold must still show as selected.
function ensureOption(select, value) {
  if (value && ![...select.options].some((option) => option.value === value)) {
    select.append(el("option", { value, text: value }));
  }
}

function showRangeError(message) {
  rangeError.textContent = message;
  rangeError.hidden = !message;
  for (const input of [form.elements.created_from, form.elements.created_to]) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** Load every figure for the current state; each skips the request if its URL is unchanged. */
async function refresh() {
  heading.textContent = describeFilters();
  document.title = `Insights: ${describeRange(state)} · ValueLoop`;
  const filters = apiFilters(state);
  const loads = [kpis.load(filters), ...figures.map((figure) => figure.load(filters, state))];
  await Promise.all(loads);
  const failed = figures.filter((figure) => ["error", "partial"].includes(figure.element.dataset.state));
  status.textContent = failed.length
    ? `${plural(failed.length, "figure", "figures")} could not be loaded completely; the others are up to date.`
    : `Figures updated: ${describeFilters()}.`;
}

function commit(next) {
  state = next;
  const search = writeState(state);
  if (search !== location.search) history.pushState(null, "", `${location.pathname}${search}`);
  refresh();
}

function changeSort(by, value) {
  commit({ ...state, sort: { ...state.sort, [by]: value } });
}

/** Read the controls into a new state; custom dates are checked before anything is fetched. */
function onControlsChange(event) {
  const range = rangeSelect.value;
  let from = form.elements.created_from.value;
  let to = form.elements.created_to.value;
  if (event.target === rangeSelect && range === "custom" && !from && !to) {
    // Start custom dates from the range the reader was looking at, not from blank fields.
    ({ from, to } = resolveDates(state));
    form.elements.created_from.value = from;
    form.elements.created_to.value = to;
  }
  customDates.hidden = range !== "custom";
  if (range === "custom" && from && to && from > to) {
    showRangeError(REVERSED_DATES);
    return;
  }
  showRangeError("");
  commit({
    ...state,
    range,
    from: range === "custom" ? from : "",
    to: range === "custom" ? to : "",
    department: form.elements.department.value,
    reason: form.elements.reason.value,
  });
}

form.addEventListener("change", onControlsChange);
form.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("print-report").addEventListener("click", () => window.print());

window.addEventListener("popstate", () => {
  state = readState();
  syncControls();
  refresh();
});

// --- filter options ---------------------------------------------------------------------------

/** Reasons from the catalog (their labels' single copy); departments from the values flags
 * carry (GET /api/v1/filter-options: an index walk, not a statistics run). */
async function loadOptions() {
  const reasonSelect = form.elements.reason;
  const departmentSelect = form.elements.department;
  const [catalog, departments] = await Promise.allSettled([
    get("catalog"),
    get("filter-options"),
  ]);
  let reasons = catalog.status === "fulfilled" ? catalog.value.reasons : null;
  if (!reasons) {
    // Without the catalog, the reasons that occur in the data still make a usable list.
    const fallback = await get(`stats/breakdown${query({ by: "reason" })}`).catch(() => ({ rows: [] }));
    reasons = fallback.rows.filter((row) => row.key).map((row) => ({ value: row.key, label: row.label }));
  }
  setOptions(reasonSelect, reasons.map((reason) => [reason.value, reason.label]), state.reason);
  if (departments.status === "fulfilled") {
    const options = departments.value.departments;
    setOptions(departmentSelect, options.map((option) => [option.value, option.label]), state.department);
  } else {
    toast(`The list of departments could not be loaded: ${departments.reason.message}`);
  }
}

/** Replace a select's options after its "All …" option, keeping the current choice. */
function setOptions(select, entries, current) {
  const all = select.options[0];
  select.replaceChildren(all, ...entries.map(([value, label]) => el("option", { value, text: label })));
  ensureOption(select, current);
  select.value = current;
}

for (const [value, preset] of Object.entries(PRESETS)) {
  rangeSelect.append(el("option", { value, text: preset.label }));
}
syncControls();
refresh();
loadOptions().then(() => {
  // Reason labels arrived: the heading can name the reason in words.
  heading.textContent = describeFilters();
});
