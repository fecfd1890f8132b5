// Renders the patient banner and this encounter's orders. Every order is shown with its
// status, stopped or completed ones too: real EHR data is untidy, and hiding what does not
// fit would hide exactly the orders a clinician may want to flag.

import { el } from "../shared/el.js";
import { words } from "../shared/text.js";
import { formatDate } from "./dom.js";

const RESOURCE_WORDS = { MedicationRequest: "Medication", ServiceRequest: "Service" };

export function renderBanner(slot, patient) {
  slot.replaceChildren();
  // The EHR asks for a banner only when it does not show the patient itself.
  if (!patient) return;
  const item = (label, value) =>
    el("div", {}, el("dt", { text: label }), el("dd", { text: value || "Not recorded" }));
  slot.append(
    el(
      "section",
      { "aria-label": "Patient", "data-testid": "patient-banner", class: "banner" },
      el("p", { class: "banner-name", text: patient.name || "Name not recorded" }),
      el(
        "dl",
        {},
        item("Age", patient.age_band),
        item("Sex", patient.sex ? words(patient.sex) : null),
        item("MRN", patient.mrn),
      ),
    ),
  );
}

export function renderWarnings(list, warnings) {
  list.replaceChildren(...(warnings || []).map((text) => el("li", { text })));
}

/**
 * What the low-value rules say of an order (context order.low_value, absent when none judges
 * it): the rule's short label, its reason in plain words, and the published evidence one
 * click away in a new tab. The page stays quiet otherwise.
 */
function renderMarkers(markerId, markers) {
  return el(
    "div",
    { class: "low-value", id: markerId, "data-testid": "low-value" },
    markers.map((marker) =>
      el(
        "div",
        { class: "low-value-rule", "data-rule-id": marker.rule_id },
        el(
          "p",
          { class: "low-value-label" },
          el("span", { class: "low-value-tag", text: "Likely low-value" }),
          " ",
          marker.label,
        ),
        el("p", { class: "low-value-reason", text: marker.reason }),
        el(
          "a",
          {
            class: "low-value-evidence",
            href: marker.source_url,
            target: "_blank",
            rel: "noopener noreferrer",
          },
          `Evidence: ${marker.source_title}`,
          el("span", { class: "visually-hidden", text: " (opens in a new tab)" }),
        ),
      ),
    ),
  );
}

/**
 * One <li> per order. onFlag(li, order, button) opens the flag form in place, so the
 * clinician never leaves the order they were looking at.
 */
export function renderOrders(list, orders, onFlag) {
  list.replaceChildren(
    ...orders.map((order) => {
      const id = `${order.resource_type}/${order.fhir_id}`;
      const marked = Array.isArray(order.low_value) && order.low_value.length > 0;
      const markerId = `low-value-${id.replace(/[^A-Za-z0-9_-]/g, "-")}`;
      const button = el("button", {
        type: "button",
        class: "flag-button",
        "data-action": "flag",
        "aria-label": `Flag ${order.display} as low-value`,
        "aria-expanded": "false",
        text: "Flag",
      });
      const li = el(
        "li",
        { "data-order-id": id, class: "order" },
        el(
          "div",
          { class: "order-head" },
          el(
            "div",
            { class: "order-text" },
            el("p", { class: "order-display", text: order.display }),
            el(
              "p",
              { class: "order-meta" },
              `${RESOURCE_WORDS[order.resource_type] || order.resource_type} · `,
              el("span", { "data-field": "status", text: order.status ? words(order.status) : "Unknown" }),
              ` · ${formatDate(order.authored_on)}`,
            ),
            el("p", { class: "order-meta", text: `Ordered by ${order.requester || "unknown"}` }),
          ),
          button,
        ),
        marked ? renderMarkers(markerId, order.low_value) : null,
        el("div", { class: "order-slot", "data-slot": "order" }),
      );
      if (marked) {
        li.dataset.lowValue = "true";
        // The Flag button says why the rules think so, for whoever reaches it by keyboard.
        button.setAttribute("aria-describedby", markerId);
      }
      button.addEventListener("click", () => onFlag(li, order, button));
      if (order.flagged_by_you) {
        // Flagged in an earlier launch: say so instead of offering a second flag.
        li.dataset.flagged = "true";
        button.hidden = true;
        li.querySelector('[data-slot="order"]').append(
          el("p", { class: "flagged-text", text: "You flagged this order earlier" }),
        );
      }
      return li;
    }),
  );
}
