// The flag page's read-only parts: the header (what was flagged, where the review stands) and
// the snapshot sections (order, encounter, patient, reporter, note). Everything is rebuilt from
// the latest FlagDetail after each write, so what is shown is always what the server holds.

import { el } from "../../shared/el.js";
import { words } from "../../shared/text.js";
import {
  ageElement,
  costText,
  formatDateTime,
  orderCodeText,
  ownerText,
  priorityBadge,
  statusBadge,
  timeElement,
} from "../flag-format.js";

const TIMING = {
  before: "Before the order was carried out (a good catch)",
  after: "After the order was carried out",
};
const RESOURCE = { ServiceRequest: "Service request", MedicationRequest: "Medication request" };
const notRecorded = () => el("span", { class: "muted-text", text: "Not recorded" });

/** A <dl> row; an empty value says "Not recorded" rather than leaving a hole. */
function fact(term, value) {
  const empty = value === null || value === undefined || value === "";
  return el("div", { class: "fact" }, el("dt", { text: term }), el("dd", {}, empty ? notRecorded() : value));
}

export function displayOf(flag) {
  return (flag.order && flag.order.code && flag.order.code.display) || "Unnamed order";
}

function costFact(cost) {
  if (!cost) return el("span", { class: "muted-text", text: "Not estimated" });
  const basis = [cost.source, cost.year].filter(Boolean).join(", ");
  return el("span", {}, costText(cost), basis ? el("span", { class: "fact-note", text: ` (${basis})` }) : null);
}

/**
 * Whether a low-value rule agreed with the reporter when the order was flagged (recorded by the
 * server from its own evaluation): each rule's title with its published source, or that none
 * did. A flag no rule was run on (made before rules were checked) leaves the fact out.
 */
function ruleFact(agreement) {
  if (agreement === null || agreement === undefined) return null;
  if (!agreement.length) {
    return fact("Rules", el("span", { "data-testid": "rule-agreement", text: "No rule judged this order" }));
  }
  const rules = agreement.map((rule) =>
    el(
      "span",
      { class: "rule-agreed" },
      `A rule agreed: ${rule.title}`,
      rule.source_url
        ? [
            " (",
            el("a", { href: rule.source_url, target: "_blank", rel: "noopener noreferrer" },
              rule.source_title || "source",
              el("span", { class: "visually-hidden", text: " (opens in a new tab)" })),
            ")",
          ]
        : null,
    ),
  );
  return fact("Rules", el("span", { "data-testid": "rule-agreement" }, rules));
}

/** h1, code, badges and the key facts a reviewer decides by. */
export function renderHeader(header, flag, catalog, hrefForFlag) {
  header.querySelector("h1").textContent = displayOf(flag);
  const code = orderCodeText(flag.order);
  const codeSlot = header.querySelector('[data-slot="code"]');
  codeSlot.textContent = code ? `${RESOURCE[flag.order.resource_type] || flag.order.resource_type} · ${code}` : "";
  header.querySelector('[data-slot="badges"]').replaceChildren(
    el("span", { class: "visually-hidden", text: "Status: " }),
    statusBadge(flag.status, catalog),
    " ",
    el("span", { class: "visually-hidden", text: "Priority: " }),
    priorityBadge(flag.priority, catalog),
  );
  const owner = ownerText(flag.owner);
  const facts = [
    fact("Reason", catalog.label("reasons", flag.reason)),
    fact("Suspected driver", flag.driver ? catalog.label("drivers", flag.driver) : null),
    fact("Timing", TIMING[flag.timing] || words(flag.timing || "")),
    fact("Estimated cost", costFact(flag.estimated_cost)),
    fact("Department", flag.department),
    fact("Created", timeElement(flag.created_at)),
    fact("Age", ageElement(flag, catalog)),
    fact("Owner", owner || el("span", { class: "muted-text", text: "Unassigned" })),
    flag.first_reply_at ? fact("First reply", timeElement(flag.first_reply_at)) : null,
    flag.duplicate_of
      ? fact("Duplicate of", el("a", { href: hrefForFlag(flag.duplicate_of), text: `Flag ${flag.duplicate_of.slice(0, 8)}` }))
      : null,
    flag.tags && flag.tags.length ? fact("Tags", flag.tags.join(", ")) : null,
    ruleFact(flag.rule_agreement),
  ];
  // replaceChildren would turn a null into the text "null": leave the absent facts out.
  header.querySelector('[data-slot="facts"]').replaceChildren(...facts.filter(Boolean));
}

function orderFacts(order) {
  return [
    fact("Resource type", RESOURCE[order.resource_type] || order.resource_type),
    fact("FHIR id", order.fhir_id ? el("code", { text: order.fhir_id }) : null),
    fact("Code", order.code && order.code.code
      ? el("code", { text: [order.code.system, order.code.code].filter(Boolean).join(" | ") }) : null),
    fact("Status", order.status ? words(order.status) : null),
    fact("Intent", order.intent ? words(order.intent) : null),
    fact("Authored", order.authored_on ? timeElement(order.authored_on) : null),
    fact("Requester role", order.requester_role),
  ];
}

function period(encounter) {
  if (!encounter.start && !encounter.end) return null;
  const start = encounter.start ? formatDateTime(encounter.start) : "unknown";
  const end = encounter.end ? formatDateTime(encounter.end) : "ongoing";
  return `${start} – ${end}`;
}

function encounterFacts(encounter) {
  return [
    fact("Class", encounter.class_code),
    fact("Type", encounter.type),
    fact("Department", encounter.department),
    fact("Period", period(encounter)),
  ];
}

function patientFacts(patient) {
  // The registry keeps only what a flag needs: no name, no birth date, no record number.
  return [fact("Age band", patient.age_band), fact("Sex", patient.sex ? words(patient.sex) : null)];
}

/**
 * The reporter. A confidential reporter's identity is kept by the registry but hidden from
 * readers; an anonymous one was never stored. Either way only the role is shown, and we say why.
 */
function reporterFacts(reporter, catalog) {
  const rows = [fact("Role", catalog.label("reporter_roles", reporter.role))];
  if (reporter.identity_hidden) {
    const why = reporter.anonymity === "anonymous" ? "(anonymous)" : "Identity hidden (confidential)";
    rows.push(fact("Identity", el("span", { class: "muted-text", text: why })));
  } else {
    // Flags from an EHR launch name the reporter by their FHIR user (the id_token's fhirUser);
    // that reference is what the EHR's directory knows them by when no name came with it.
    rows.push(
      fact("Name", reporter.display),
      fact("Email", reporter.email),
      fact("EHR user", reporter.fhir_user),
      fact("Department", reporter.department),
    );
  }
  return rows;
}

export function renderSections(root, flag, catalog) {
  const slot = (name) => root.querySelector(`[data-slot="${name}"]`);
  slot("order").replaceChildren(...orderFacts(flag.order || {}));
  slot("encounter").replaceChildren(...encounterFacts(flag.encounter || {}));
  slot("patient").replaceChildren(...patientFacts(flag.patient || {}));
  slot("reporter").replaceChildren(...reporterFacts(flag.reporter || {}, catalog));
  slot("note").replaceChildren(
    flag.note
      ? el("blockquote", { class: "note" }, el("p", { text: flag.note }))
      : el("p", { class: "muted-text", text: "The reporter left no note." }),
  );
}
