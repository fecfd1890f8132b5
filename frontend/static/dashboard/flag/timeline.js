// The flag's timeline: every event in order, who did it and when. What the reporter can see
// (replies) and what stays inside the team (internal notes) must never be confused, so each
// says which it is in words and with a marker, not only by colour.

import { el } from "../../shared/el.js";
import { words } from "../../shared/text.js";
import { timeElement } from "../flag-format.js";

const STAFF_ROLES = { analyst: "Analyst", lead: "Lead", admin: "Admin" };

function actorText(actor, catalog) {
  if (!actor) return "Unknown";
  const role = STAFF_ROLES[actor.role] || catalog.label("reporter_roles", actor.role) || "";
  return role ? `${actor.name} (${role})` : actor.name;
}

/** "Triaged → Accepted", with the arrow spoken as "to". */
function statusChange(from, to, catalog) {
  return el(
    "span",
    { class: "status-change" },
    catalog.label("statuses", from) || "—",
    el("span", { "aria-hidden": "true", text: " → " }),
    el("span", { class: "visually-hidden", text: " to " }),
    el("strong", { text: catalog.label("statuses", to) }),
  );
}

function ownerChange(details) {
  if (!details) return "Owner changed";
  if (details.lead) return `Assigned to ${details.lead}`;
  return `Assigned to ${details.clinical_lead} (clinical) + ${details.operational_lead} (operational)`;
}

/** An update's details are { field: { from, to } }; say each change in words. */
function updateLines(details, catalog) {
  if (!details) return [];
  return Object.entries(details).map(([field, change]) => {
    const value = (v) => (field === "priority" ? catalog.label("priorities", v)
      : Array.isArray(v) ? (v.length ? v.join(", ") : "none") : String(v ?? "none"));
    if (change && typeof change === "object" && "to" in change) {
      return el("p", {}, `${words(field)}: ${value(change.from)} `,
        el("span", { "aria-hidden": "true", text: "→ " }),
        el("span", { class: "visually-hidden", text: "to " }),
        value(change.to));
    }
    return el("p", { text: `${words(field)} changed` });
  });
}

function headline(event, catalog, hrefForFlag) {
  switch (event.kind) {
    case "created":
      return [el("strong", { text: "Flag submitted" })];
    case "status_change": {
      const parts = [el("span", { class: "kind", text: "Status: " }), statusChange(event.from_status, event.to_status, catalog)];
      const original = event.details && event.details.duplicate_of;
      if (original) {
        parts.push(" (duplicate of ", el("a", { href: hrefForFlag(original), text: `flag ${String(original).slice(0, 8)}` }), ")");
      }
      return parts;
    }
    case "reply":
      return [
        el("span", { class: "event-tag tag-reply" },
          el("span", { "aria-hidden": "true", text: "✉ " }), "Reply to reporter (visible to the reporter)"),
        event.details && event.details.shareable
          ? el("span", { class: "event-tag tag-shareable", text: "May be shared in the transparency report" })
          : null,
      ].filter(Boolean);
    case "comment":
      return [
        el("span", { class: "event-tag tag-internal" },
          el("span", { "aria-hidden": "true", text: "✎ " }), "Internal note (team only)"),
      ];
    case "assignment":
      return [el("strong", { text: ownerChange(event.details) })];
    case "update":
      return [el("strong", { text: "Updated" })];
    case "reclassification":
      return [el("strong", { text: "Reclassified" })];
    default:
      return [el("strong", { text: words(event.kind || "event") })];
  }
}

/** A reclassification's details are { reason|driver: { from, to } }, in the catalog's words. */
function classificationLines(details, catalog) {
  const kinds = { reason: ["Reason", "reasons"], driver: ["Suspected driver", "drivers"] };
  return Object.entries(details || {}).map(([field, change]) => {
    const [label, vocabulary] = kinds[field] || [words(field), null];
    const value = (v) => (v ? (vocabulary ? catalog.label(vocabulary, v) : String(v)) : "not known");
    return el("p", { "data-field": field }, `${label}: ${value(change.from)} `,
      el("span", { "aria-hidden": "true", text: "→ " }),
      el("span", { class: "visually-hidden", text: "to " }),
      value(change.to));
  });
}

function eventItem(event, catalog, hrefForFlag) {
  const body = [];
  if (event.kind === "update") body.push(...updateLines(event.details, catalog));
  if (event.kind === "reclassification") body.push(...classificationLines(event.details, catalog));
  if (event.body) body.push(el("p", { class: "event-body", text: event.body }));
  return el(
    "li",
    { class: `event event-${event.kind}`, "data-kind": event.kind, "data-event-id": event.id },
    el("p", { class: "event-head" }, ...headline(event, catalog, hrefForFlag)),
    el("p", { class: "event-meta" }, actorText(event.actor, catalog), " · ", timeElement(event.at)),
    ...body,
  );
}

export function renderTimeline(list, flag, catalog, hrefForFlag) {
  // The API sends the events in order; sorting again (time, then id) keeps same-second events
  // such as "assigned" and "accepted" in the order they were written.
  const events = [...(flag.timeline || [])].sort(
    (a, b) => new Date(a.at) - new Date(b.at) || a.id - b.id,
  );
  list.replaceChildren(...events.map((event) => eventItem(event, catalog, hrefForFlag)));
  if (!events.length) list.append(el("li", { class: "muted-text", text: "No events yet." }));
}
