// "Caught at ordering": each low-value rule's work in the CDS service (orders evaluated, cards
// shown, accepted, overridden with reasons) beside the flags clinicians raised on the orders it
// covers and the catches its accepted cards made (GET /api/v1/stats/cds).

import { el } from "../../shared/el.js";
import { formatCount, formatShare, plural } from "./format.js";
import { describeRange } from "./state.js";

// The reasons as the API gives them: ValueLoop's own code and label with a count. Users'
// free-text comments are never sent to this page (they may name a patient).
function reasonList(_, row) {
  if (row.override_reasons.length === 0) return "—";
  return el("ul", { class: "reason-list" }, row.override_reasons.map((reason) =>
    el("li", {}, `${reason.label}: ${formatCount(reason.count)}`)));
}

const reasonsValue = (row) =>
  row.override_reasons.map((reason) => `${reason.code ?? "none"}=${reason.count}`).join("; ");

const active = (row) => row.evaluated + row.shown + row.clinician_flags + row.catches > 0;

export const caughtAtOrdering = {
  id: "cds-rules",
  wide: true,
  title: "Rule hits beside clinician flags",
  note: "Per rule: draft orders it was judged on, cards shown and what clinicians did with them "
    + "(counted by the day the card was shown), beside the flags clinicians raised on orders "
    + "whose code is in the rule's code set and the catches its accepted cards made (by the "
    + "day the flag was created). Department and reason do not narrow these counts: they are "
    + "kept per rule and order code only.",
  path: "stats/cds",
  params: () => ({}),
  filters: (filters) => ({ created_from: filters.created_from, created_to: filters.created_to }),
  svg: false,
  columns: [
    {
      header: "Rule",
      rowHeader: true,
      value: (row) => row.rule_id,
      format: (_, row) => [
        row.title, " ",
        el("a", { href: row.source_url, class: "source-link" }, "Evidence",
          el("span", { class: "visually-hidden", text: `: ${row.source_title}` })),
      ],
    },
    { header: "Clinician flags", numeric: true, value: (row) => row.clinician_flags, format: formatCount },
    { header: "Catches", numeric: true, value: (row) => row.catches, format: formatCount },
    { header: "Orders evaluated", numeric: true, value: (row) => row.evaluated, format: formatCount },
    { header: "Cards shown", numeric: true, value: (row) => row.shown, format: formatCount },
    { header: "Accepted", numeric: true, value: (row) => row.accepted, format: formatCount },
    { header: "Overridden", numeric: true, value: (row) => row.overridden, format: formatCount },
    {
      header: "Acceptance rate",
      numeric: true,
      value: (row) => row.acceptance_rate,
      format: (rate) => (rate === null ? "—" : formatShare(rate)),
    },
    { header: "Override reasons", value: reasonsValue, format: reasonList },
  ],
  rows: (data) => data.rules.filter(active),
  key: (row) => row.rule_id,
  summary: (data) => {
    const rows = data.rules.filter(active);
    const sum = (field) => rows.reduce((total, row) => total + row[field], 0);
    const shown = sum("shown");
    return `${plural(shown, "card", "cards")} shown by ${plural(rows.filter((row) => row.shown > 0).length, "rule", "rules")}: `
      + `${formatCount(sum("accepted"))} accepted, ${formatCount(sum("overridden"))} overridden; `
      + `${plural(sum("catches"), "catch", "catches")}.`;
  },
  emptyText: "No rule was judged on an order, and no clinician flagged an order a rule covers, in this range.",
  caption: (view) => `Rule hits beside clinician flags, ${describeRange(view)}`,
};
