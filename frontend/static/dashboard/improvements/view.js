// The improvement page's read-only parts: the header (what it is, where it stands, what it aims
// at), the evidence its linked flags make up, and the table of those flags. Rebuilt from the
// latest ImprovementDetail after every write.

import { el } from "../../shared/el.js";
import { plural } from "../../shared/text.js";
import { formatDate, statusBadge as flagStatusBadge, timeElement } from "../flag-format.js";
import { aimTexts, dayElement, moneyText, statusBadge } from "./format.js";

/** A <dl> row; an empty value says so rather than leaving a hole. */
export function fact(term, value, emptyText = "Not recorded") {
  const empty = value === null || value === undefined || value === "";
  return el("div", { class: "fact" }, el("dt", { text: term }),
    el("dd", {}, empty ? el("span", { class: "muted-text", text: emptyText }) : value));
}

export function renderHeader(header, improvement, catalog) {
  header.querySelector("h1").textContent = improvement.title;
  header.querySelector('[data-slot="badges"]').replaceChildren(
    el("span", { class: "visually-hidden", text: "Status: " }),
    statusBadge(improvement.status, catalog),
    " ",
    el("span", { class: "badge kind-badge" },
      el("span", { class: "visually-hidden", text: "Kind: " }), catalog.kindLabel(improvement.kind)),
  );
  const aims = aimTexts(improvement, catalog);
  header.querySelector('[data-slot="facts"]').replaceChildren(...[
    fact("Aims at", aims.length ? el("ul", { class: "plain-list" }, aims.map((text) => el("li", { text }))) : null),
    fact("Flags", plural(improvement.flag_count, "flag")),
    fact("Cost at stake", `${moneyText(improvement.cost_at_stake)} at stake`),
    fact("Go-live", improvement.go_live ? dayElement(improvement.go_live) : null, "Not live yet"),
    improvement.requested_at ? fact("Change request sent", timeElement(improvement.requested_at)) : null,
    fact("Proposed", timeElement(improvement.created_at)),
  ].filter(Boolean));
}

function countList(title, counts, label) {
  const items = counts.map((count) =>
    el("li", { "data-value": count.value }, `${label(count.value)}: `, el("strong", { text: String(count.count) })));
  return el("div", { class: "evidence-list" },
    el("h3", { text: title }),
    items.length ? el("ul", { class: "plain-list" }, items) : el("p", { class: "muted-text", text: "None recorded" }));
}

export function renderEvidence(slot, evidence, flagCatalog) {
  const notes = evidence.example_notes.length
    ? evidence.example_notes.map((note) => el("blockquote", { class: "note" }, el("p", { text: note })))
    : [el("p", { class: "muted-text", text: "No reporter note was marked shareable when its flag was linked." })];
  slot.replaceChildren(
    el("dl", { class: "facts" },
      fact("Linked flags", String(evidence.flag_count)),
      fact("Cost at stake", moneyText(evidence.cost_at_stake))),
    el("div", { class: "evidence-lists" },
      countList("Reasons", evidence.reasons, (value) => flagCatalog.label("reasons", value)),
      countList("Suspected drivers", evidence.drivers, (value) => flagCatalog.label("drivers", value)),
      countList("Departments", evidence.departments, (value) => value || "Not recorded")),
    el("h3", { text: "Example notes" }),
    ...notes,
  );
}

function flagRow(flag, flagCatalog) {
  const display = (flag.order && flag.order.code && flag.order.code.display) || "Unnamed order";
  return el("tr", { "data-id": flag.id, "data-status": flag.status },
    el("th", { scope: "row" }, el("a", { href: `/dashboard/flags/${encodeURIComponent(flag.id)}`, text: display })),
    el("td", {}, flagStatusBadge(flag.status, flagCatalog)),
    el("td", { text: flagCatalog.label("reasons", flag.reason) }),
    el("td", { text: flag.department || "Not recorded" }),
    el("td", {}, el("time", { datetime: flag.created_at, text: formatDate(flag.created_at) })));
}

export function renderFlags(slot, flags, flagCatalog) {
  if (!flags.length) {
    slot.replaceChildren(el("p", { class: "muted-text",
      text: "No flags are linked yet. Link one from its page: Improvement, then “Link to an improvement”." }));
    return;
  }
  const head = ["Order", "Status", "Reason", "Department", "Flagged"].map((text) => el("th", { scope: "col", text }));
  slot.replaceChildren(el("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": "Linked flags" },
    el("table", { class: "linked-flags" },
      el("caption", { class: "visually-hidden", text: `${plural(flags.length, "linked flag")}, newest first` }),
      el("thead", {}, el("tr", {}, head)),
      el("tbody", {}, flags.map((flag) => flagRow(flag, flagCatalog))))));
}
