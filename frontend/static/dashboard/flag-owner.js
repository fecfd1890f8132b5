// The "who owns this" fields: one lead, or a clinical + operational dyad. The same fields appear
// in the queue's bulk Assign dialog, the flag page's Assign form and its "Accept" move, so they
// are built (and validated) here once, in the shape PUT /flags/{id}/owner takes.

import { el } from "../shared/el.js";

const NAME_MAX = 200; // NAME_MAX_LENGTH on the server
let counter = 0;

function textField(id, labelText, autocomplete = "off") {
  const input = el("input", { id, type: "text", maxlength: NAME_MAX, autocomplete, spellcheck: "false" });
  return { wrap: el("div", { class: "field" }, el("label", { for: id, text: labelText }), input), input };
}

/**
 * Build the fields. Returns { element, read(), set(owner), focus() }; read() gives
 * { owner } or { error, input } so the caller can show the message next to its own form.
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
  const lead = textField(`${id}-lead`, "Lead's name");
  const clinical = textField(`${id}-clinical`, "Clinical lead's name");
  const operational = textField(`${id}-operational`, "Operational lead's name");
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

  return {
    element,
    read() {
      if (dyadChoice.input.checked) {
        const clinicalLead = clinical.input.value.trim();
        const operationalLead = operational.input.value.trim();
        if (!clinicalLead) return { error: "Enter the clinical lead's name.", input: clinical.input };
        if (!operationalLead) {
          return { error: "Enter the operational lead's name.", input: operational.input };
        }
        return { owner: { clinical_lead: clinicalLead, operational_lead: operationalLead } };
      }
      const name = lead.input.value.trim();
      if (!name) return { error: "Enter the lead's name.", input: lead.input };
      return { owner: { lead: name } };
    },
    /** Start from the current owner, so changing one dyad member is one edit, not three. */
    set(owner) {
      const dyad = owner && owner.kind === "dyad";
      dyadChoice.input.checked = Boolean(dyad);
      leadChoice.input.checked = !dyad;
      lead.input.value = owner && !dyad ? owner.lead || "" : "";
      clinical.input.value = dyad ? owner.clinical_lead || "" : "";
      operational.input.value = dyad ? owner.operational_lead || "" : "";
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

/** The owner's name(s) for a sentence: "Dr. A" or "Dr. A and B. Ops". */
export function ownerSentence(owner) {
  if (owner.lead) return owner.lead;
  return `${owner.clinical_lead} (clinical) and ${owner.operational_lead} (operational)`;
}
