// How a flag reads on the queue and on its own page: the catalog's labels, its age and whether
// the reporter has waited too long, its owner and its cost. Both pages import this one copy so
// "overdue" or a status's label can never mean two things on two screens.

import { el } from "../shared/el.js";
import { words } from "../shared/text.js";
import { get, staff } from "./api.js";

// The review is over in these states, so nobody owes the reporter a reply any more. The
// catalog's end_state flags are the source; this copy only covers a catalog that failed to load.
const FALLBACK_END_STATES = ["closed", "not_low_value", "duplicate"];

let catalogPromise = null;

/** The catalog, fetched once per page (labels and workflow rules change only with a deploy). */
export function loadCatalog() {
  if (!catalogPromise) {
    catalogPromise = get("catalog").then(indexCatalog);
    // A failed fetch must not be cached: the page's "Try again" has to be able to retry it.
    catalogPromise.catch(() => {
      catalogPromise = null;
    });
  }
  return catalogPromise;
}

function indexCatalog(raw) {
  const byValue = (list) => new Map((list || []).map((entry) => [entry.value, entry]));
  const maps = {
    reasons: byValue(raw.reasons),
    drivers: byValue(raw.drivers),
    statuses: byValue(raw.statuses),
    reporter_roles: byValue(raw.reporter_roles),
    priorities: byValue(raw.priorities),
  };
  const endStates = new Set(
    raw.statuses ? raw.statuses.filter((s) => s.end_state).map((s) => s.value) : FALLBACK_END_STATES,
  );
  return {
    raw,
    /** The entries of one vocabulary, in the catalog's order (the order people expect). */
    list: (kind) => raw[kind] || [],
    entry: (kind, value) => maps[kind].get(value) || null,
    /** A value's label; an unknown value still reads as words rather than a code. */
    label(kind, value) {
      if (value === null || value === undefined || value === "") return "";
      const entry = maps[kind].get(value);
      return entry ? entry.label : words(value);
    },
    isEnd: (status) => endStates.has(status),
  };
}

/** "35 min", "5 h", "3 d 4 h": short enough for a table cell, exact enough to triage by. */
export function formatAge(milliseconds) {
  const minutes = Math.max(0, Math.floor(milliseconds / 60000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/**
 * The flag's age and whether the reporter is still waiting for an answer past the reply SLA.
 * Only a flag that is still open and has had no reply can be overdue: once someone answered, or
 * the review ended (which always carries a reply), the loop is closed.
 */
export function ageOf(flag, catalog, now = Date.now()) {
  const elapsed = now - new Date(flag.created_at).getTime();
  const unanswered = !flag.first_reply_at && !catalog.isEnd(flag.status);
  const overdue = unanswered && elapsed > staff.replySlaHours * 3600 * 1000;
  return { text: formatAge(elapsed), unanswered, overdue };
}

/**
 * The age as an element. Overdue is said in words and with an icon as well as the highlight
 * colour, because colour alone is lost on many readers (WCAG 1.4.1).
 */
export function ageElement(flag, catalog) {
  const age = ageOf(flag, catalog);
  const node = el("span", { class: age.overdue ? "age overdue" : "age" }, el("span", { text: age.text }));
  if (age.overdue) {
    node.append(
      " ",
      el(
        "span",
        { class: "overdue-marker" },
        el("span", { "aria-hidden": "true", text: "⚠ " }),
        "Overdue",
        el("span", { class: "visually-hidden", text: `: no reply within ${staff.replySlaHours} hours` }),
      ),
    );
  } else if (age.unanswered) {
    node.append(" ", el("span", { class: "age-note", text: "no reply yet" }));
  }
  return node;
}

/** "Dr. A" or "Dr. A (clinical) + B. Ops (operational)"; null when nobody owns the flag. */
export function ownerText(owner) {
  if (!owner) return null;
  if (owner.kind === "dyad") {
    return `${owner.clinical_lead.name} (clinical) + ${owner.operational_lead.name} (operational)`;
  }
  return owner.lead.name;
}

const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });

/** "$1,234.00"; the API sends decimals as strings so cents are never rounded on the way. */
export function costText(cost) {
  if (!cost) return null;
  const amount = Number(cost.amount);
  if (Number.isNaN(amount)) return `${cost.amount} ${cost.currency || ""}`.trim();
  return cost.currency && cost.currency !== "USD"
    ? `${cost.amount} ${cost.currency}`
    : money.format(amount);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDateTime(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateTime.format(date);
}

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateOnly.format(date);
}

/** A <time> element: machine-readable for assistive tech and tests, local time for people. */
export function timeElement(value, { withTime = true } = {}) {
  if (!value) return el("span", { class: "muted-text", text: "Not recorded" });
  return el("time", { datetime: value, text: withTime ? formatDateTime(value) : formatDate(value) });
}

// Code systems people recognise by a short name; any other system shows only the code.
const SYSTEM_NAMES = [
  ["ama-assn.org/go/cpt", "CPT"],
  ["rxnorm", "RxNorm"],
  ["loinc.org", "LOINC"],
  ["snomed.info", "SNOMED CT"],
  ["hcpcs", "HCPCS"],
];

/** The order's code as people read it: "CPT 72148" (the system URL is noise in a table). */
export function orderCodeText(order) {
  const code = order && order.code;
  if (!code || !code.code) return "";
  const known = SYSTEM_NAMES.find(([fragment]) => (code.system || "").includes(fragment));
  return known ? `${known[1]} ${code.code}` : code.code;
}

/** A status badge: the label is the signal; the class only adds colour. */
export function statusBadge(status, catalog) {
  return el("span", { class: `badge status-${status}`, text: catalog.label("statuses", status) });
}

export function priorityBadge(priority, catalog) {
  return el("span", { class: `badge priority-${priority}`, text: catalog.label("priorities", priority) });
}

/** Short human description of a flag, for messages that name several flags. */
export function flagName(flag) {
  const display = flag.order && flag.order.code ? flag.order.code.display : "Flag";
  return `${display} (${String(flag.id).slice(0, 8)})`;
}
