// "What happened to our flags": the last 90 days of the organization whose EHR launched
// ValueLoop and of the whole system, from GET /api/v1/clinician/outcomes. Counts, actions and
// shareable replies only; a count the server suppressed reads "fewer than 11".

import { el } from "../shared/el.js";
import { api } from "./api.js";
import { formatDate } from "./dom.js";

function countText(count) {
  if (count.suppressed) return count.suppression === "complementary" ? "not shown" : "fewer than 11";
  return String(count.count);
}

function shareText(share, count) {
  return share === null || count.suppressed ? "not shown" : `${Math.round(share * 100)}%`;
}

function summaryBlock(title, summary, testid) {
  const facts = el(
    "ul",
    { class: "outcome-facts" },
    el("li", {}, el("strong", { text: countText(summary.flags) }), " flags received"),
    el("li", {}, el("strong", { text: shareText(summary.answered_share, summary.flags) }), " answered"),
    el("li", {}, el("strong", { text: countText(summary.caught_before) }), " caught before they were done"),
  );
  const actions = el(
    "ul",
    { class: "outcome-actions" },
    ...summary.actions.map((action) => el("li", {}, `${action.label}: `, el("strong", { text: countText(action.flags) }))),
  );
  const examples = summary.examples.length
    ? el(
        "ul",
        { class: "outcome-examples" },
        ...summary.examples.map((example) =>
          el(
            "li",
            { "data-testid": "outcome-example" },
            el("p", { class: "reply-meta", text: `${example.service} · ${example.reason}${example.closed_on ? ` · ${formatDate(example.closed_on)}` : ""}` }),
            el("p", { class: "reply-body", text: example.reply }),
          ),
        ),
      )
    : el("p", { class: "muted-inline", text: "No replies shared yet." });
  return el(
    "section",
    { class: "outcome", "data-testid": testid, "aria-label": title },
    el("h3", { text: title }),
    facts,
    el("h4", { text: "What became of them" }),
    actions,
    el("h4", { text: "You said, we did" }),
    examples,
  );
}

export class Outcomes {
  constructor(root) {
    this.button = root.querySelector('[data-action="outcomes"]');
    this.section = root.querySelector('[data-testid="outcomes"]');
    this.body = this.section.querySelector('[data-slot="outcomes-body"]');
    this.button.addEventListener("click", () => this.toggle());
  }

  async toggle() {
    const opening = this.section.hidden;
    this.section.hidden = !opening;
    this.button.setAttribute("aria-expanded", String(opening));
    if (!opening) return;
    this.body.replaceChildren(el("p", { text: "Loading…" }));
    const heading = this.section.querySelector("h2");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    try {
      const data = await api("/outcomes");
      const ours = data.organization.organization;
      this.body.replaceChildren(
        el("p", { class: "muted-inline", text: `The last 90 days, to ${formatDate(data.system.date_to)}.` }),
        summaryBlock(ours ? ours.name : "Your organization", data.organization, "outcomes-organization"),
        summaryBlock("Every organization", data.system, "outcomes-system"),
      );
    } catch (error) {
      const detail = (error.problem && error.problem.detail) || "This could not be loaded.";
      this.body.replaceChildren(el("p", { class: "error", text: detail }));
    }
  }
}
