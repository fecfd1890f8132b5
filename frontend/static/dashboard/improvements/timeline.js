// An improvement's timeline: every event in order, who did it and when, what it changed. The
// go-live reply (every linked reporter sees it) is marked as a reply in words and with a marker,
// as on a flag's timeline, so it is never mistaken for a note that stays inside the team.

import { el } from "../../shared/el.js";
import { plural, words } from "../../shared/text.js";
import { timeElement } from "../flag-format.js";
import { dayText } from "./format.js";

const STAFF_ROLES = { analyst: "Analyst", lead: "Lead", admin: "Admin" };
export const NO_ENDPOINT_HINT =
  "No webhook endpoint subscribes to change requests; an admin can add one under Admin.";

function arrow(from, to) {
  return [
    `${from} `,
    el("span", { "aria-hidden": "true", text: "→ " }),
    el("span", { class: "visually-hidden", text: "to " }),
    el("strong", { text: to }),
  ];
}

function valueText(value) {
  if (value === null || value === undefined || value === "") return "none";
  return String(value);
}

/** An update's details: { field: { from, to } }, or the new owners' names. */
function updateLines(details) {
  return Object.entries(details || {}).map(([field, change]) => {
    if (field === "owners") {
      return el("p", { text: `Owners: ${change.clinical_lead} (clinical) + ${change.operational_lead} (operational)` });
    }
    const name = field === "ticket_reference" ? "Ticket reference" : words(field);
    if (change && typeof change === "object" && "to" in change) {
      return el("p", {}, `${name}: `, ...arrow(valueText(change.from), valueText(change.to)));
    }
    return el("p", { text: `${name} changed` });
  });
}

function statusLines(event) {
  const details = event.details || {};
  const lines = [];
  if (details.go_live) lines.push(el("p", { text: `Go-live: ${dayText(details.go_live)}` }));
  if (details.flags_replied !== undefined) {
    lines.push(el("p", {
      text: `Replied on ${plural(details.flags_replied, "linked flag")} (${plural(details.reporters, "identified reporter")}); ` +
        `${plural(details.flags_moved, "flag")} moved on to Action taken.`,
    }));
  }
  return lines;
}

function detailLines(event, catalog) {
  const details = event.details || {};
  switch (event.kind) {
    case "created":
      return [
        details.kind ? el("p", { text: `Kind: ${catalog.kindLabel(details.kind)}` }) : null,
        details.clinical_lead
          ? el("p", { text: `Owners: ${details.clinical_lead} (clinical) + ${details.operational_lead} (operational)` })
          : null,
      ];
    case "flags_linked":
      return [el("p", { text: `${plural(details.count || 0, "flag")} linked` })];
    case "update":
      return updateLines(details);
    case "change_requested":
      return [details.endpoints
        ? el("p", { text: `Sent to ${plural(details.endpoints, "webhook endpoint")}.` })
        : el("p", { class: "hint-text", "data-testid": "no-endpoint", text: `Nothing was sent. ${NO_ENDPOINT_HINT}` })];
    case "status_change":
      return statusLines(event);
    default:
      return [];
  }
}

function headline(event, catalog) {
  if (event.kind !== "status_change") return [el("strong", { text: event.label })];
  return [
    el("span", { class: "kind", text: "Status: " }),
    ...arrow(catalog.statusLabel(event.from_status) || "—", catalog.statusLabel(event.to_status)),
  ];
}

function body(event) {
  if (!event.body) return null;
  if (event.to_status === "live") {
    return [
      el("p", { class: "event-head" }, el("span", { class: "event-tag tag-reply" },
        el("span", { "aria-hidden": "true", text: "✉ " }), "Reply to every linked reporter (visible to them)")),
      el("p", { class: "event-body", text: event.body }),
    ];
  }
  const label = event.to_status === "declined" ? "Reason: " : "";
  return el("p", { class: "event-body" }, label, event.body);
}

function eventItem(event, catalog) {
  const role = STAFF_ROLES[event.actor_role] || words(event.actor_role || "");
  const reply = event.to_status === "live" && event.body;
  return el(
    "li",
    { class: reply ? "event event-reply" : `event event-${event.kind}`, "data-kind": event.kind },
    el("p", { class: "event-head" }, ...headline(event, catalog)),
    el("p", { class: "event-meta" }, role ? `${event.actor_name} (${role})` : event.actor_name, " · ", timeElement(event.at)),
    ...detailLines(event, catalog),
    body(event),
  );
}

export function renderTimeline(list, improvement, catalog) {
  const events = improvement.timeline;
  list.replaceChildren(...events.map((event) => eventItem(event, catalog)));
  if (!events.length) list.append(el("li", { class: "muted-text", text: "No events yet." }));
}
