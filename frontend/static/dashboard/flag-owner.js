// The "who owns this" fields: one lead, or a clinical + operational dyad, each picked from the
// staff directory (GET /api/v1/staff) with a type-ahead. The same fields appear in the queue's
// bulk Assign dialog, the flag page's Assign form and its "Accept" move, so they are built (and
// validated) here once, in the shape PUT /flags/{id}/owner takes: staff ids.
//
// Each name is a staff-picker.js type-ahead.

import { el } from "../shared/el.js";
import { staffPicker } from "./staff-picker.js";

let counter = 0;

/**
 * Build the fields. Returns { element, read(), set(owner), focus() }; read() gives
 * { owner } (staff ids, plus `names` for messages) or { error, input }.
 */
export function ownerFields({ legend = "Owner" } = {}) {
  const id = `owner-${++counter}`;
  const kindName = `${id}-kind`;
  const radio = (value, text) => {
    const input = el("input", { type: "radio", name: kindName, id: `${kindName}-${value}`, value });
    return { input, wrap: el("div", { class: "check" }, input, el("label", { for: input.id, text })) };
  };
  const leadChoice = radio("lead", "One lead");
  const dyadChoice = radio("dyad", "A dyad (clinical + operational lead)");
  leadChoice.input.checked = true;
  const lead = staffPicker(`${id}-lead`, "Lead's name");
  const clinical = staffPicker(`${id}-clinical`, "Clinical lead's name");
  const operational = staffPicker(`${id}-operational`, "Operational lead's name");
  const dyadBox = el("div", { class: "dyad-fields" }, clinical.wrap, operational.wrap);

  // Only the chosen kind's inputs are shown, so nobody fills in a name that will be ignored.
  const sync = () => {
    const dyad = dyadChoice.input.checked;
    lead.wrap.hidden = dyad;
    dyadBox.hidden = !dyad;
  };
  leadChoice.input.addEventListener("change", sync);
  dyadChoice.input.addEventListener("change", sync);
  sync();

  const element = el(
    "fieldset",
    { class: "owner-fields" },
    el("legend", { text: legend }),
    el("div", { class: "kind-choice" }, leadChoice.wrap, dyadChoice.wrap),
    lead.wrap,
    dyadBox,
  );
  const missing = (picker, who) => ({
    error: `Pick the ${who} from the list (type a name or email, then choose with the arrow keys and Enter).`,
    input: picker.input,
  });

  return {
    element,
    read() {
      if (dyadChoice.input.checked) {
        if (!clinical.value) return missing(clinical, "clinical lead");
        if (!operational.value) return missing(operational, "operational lead");
        if (clinical.value.id === operational.value.id) {
          return { error: "A dyad is two different people.", input: operational.input };
        }
        return {
          owner: { clinical_lead: clinical.value.id, operational_lead: operational.value.id },
          names: { kind: "dyad", clinical_lead: clinical.value, operational_lead: operational.value },
        };
      }
      if (!lead.value) return missing(lead, "lead");
      return { owner: { lead: lead.value.id }, names: { kind: "lead", lead: lead.value } };
    },
    /** Start from the current owner (people as the API shows them). */
    set(owner) {
      const dyad = owner && owner.kind === "dyad";
      dyadChoice.input.checked = Boolean(dyad);
      leadChoice.input.checked = !dyad;
      lead.value = owner && !dyad ? owner.lead : null;
      clinical.value = dyad ? owner.clinical_lead : null;
      operational.value = dyad ? owner.operational_lead : null;
      sync();
    },
    clear() {
      this.set(null);
    },
    focus() {
      (dyadChoice.input.checked ? clinical.input : lead.input).focus();
    },
  };
}

/** The owner's name(s) for a sentence, from read().names or an API owner. */
export function ownerSentence(owner) {
  if (owner.lead) return owner.lead.name;
  return `${owner.clinical_lead.name} (clinical) and ${owner.operational_lead.name} (operational)`;
}
