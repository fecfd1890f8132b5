// The improvement's details the team edits: its owners (a clinical lead + operational lead
// dyad, each picked from the staff directory with the same type-ahead as a flag's owners), the
// informatics ticket reference and the notes. Each is a PATCH of the improvement. A field a
// person has edited is not overwritten by the next version the page shows.

import { toast } from "../common.js";
import { staffPicker } from "../staff-picker.js";
import { ownersText } from "./format.js";
import { showError, submitting } from "./forms.js";

const TICKET_HELP = {
  ehr_build: "The informatics team's ticket for this change request: approving an EHR build sends " +
    "them the request, and the ticket they open goes here so both sides can find the work.",
  other: "A ticket in whatever tracker follows this work, if it has one (optional).",
};

/** Track whether a form was edited since the last version it showed. */
function dirtyTracker(form) {
  const state = { dirty: false };
  form.addEventListener("input", () => { state.dirty = true; });
  form.addEventListener("change", () => { state.dirty = true; });
  return state;
}

function ownersForm(ctx) {
  const form = document.getElementById("owners-form");
  const now = document.getElementById("owners-now");
  const show = (improvement) => {
    now.textContent = ownersText(improvement.owners) || "Not named yet: approving needs them.";
  };
  if (!form) return { update: show };
  const clinical = staffPicker("owner-clinical", "Clinical lead's name");
  const operational = staffPicker("owner-operational", "Operational lead's name");
  form.querySelector('[data-slot="pickers"]').append(clinical.wrap, operational.wrap);
  const edits = dirtyTracker(form);
  const missing = (picker, who) =>
    showError(form, `Pick the ${who} from the list (type a name or email, then choose with the arrow keys and Enter).`, picker.input);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!clinical.value) return missing(clinical, "clinical lead");
    if (!operational.value) return missing(operational, "operational lead");
    if (clinical.value.id === operational.value.id) {
      return showError(form, "A dyad is two different people.", operational.input);
    }
    const owners = [clinical.value.id, operational.value.id];
    const ok = await submitting(form, async () => {
      edits.dirty = false;
      await ctx.write("", { method: "PATCH", body: { owners } });
    });
    if (ok) toast(`Owners saved: ${ownersText(ctx.improvement().owners)}.`);
    else edits.dirty = true;
  });
  return {
    update(improvement) {
      show(improvement);
      if (edits.dirty) return;
      clinical.value = improvement.owners ? improvement.owners.clinical_lead : null;
      operational.value = improvement.owners ? improvement.owners.operational_lead : null;
      form.querySelector('button[type="submit"]').textContent = improvement.owners ? "Change the owners" : "Save the owners";
    },
  };
}

/** A one-field PATCH form (ticket reference, notes). */
function fieldForm(ctx, { id, field, done, cleared, help }) {
  const form = document.getElementById(id);
  const input = form.elements[field];
  const edits = dirtyTracker(form);
  const editable = Boolean(form.querySelector('button[type="submit"]')); // readonly for readers
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!editable) return;
    const value = input.value.trim();
    if (value === (ctx.improvement()[field] || "")) return showError(form, "Nothing changed.", input);
    const ok = await submitting(form, async () => {
      edits.dirty = false;
      // An emptied field clears the value (the API takes null for "clear").
      await ctx.write("", { method: "PATCH", body: { [field]: value || null } });
    });
    if (ok) toast(value ? done : cleared);
    else edits.dirty = true;
  });
  return {
    update(improvement) {
      if (help) help(form, improvement);
      if (!edits.dirty) input.value = improvement[field] || "";
    },
  };
}

/** Wire the details forms; returns their { update(improvement) } parts. */
export function setupDetails(ctx) {
  return [
    ownersForm(ctx),
    fieldForm(ctx, {
      id: "ticket-form",
      field: "ticket_reference",
      done: "Ticket reference saved.",
      cleared: "Ticket reference removed.",
      help(form, improvement) {
        form.querySelector('[data-slot="help"]').textContent = TICKET_HELP[improvement.kind] || TICKET_HELP.other;
      },
    }),
    fieldForm(ctx, {
      id: "notes-form",
      field: "notes",
      done: "Notes saved.",
      cleared: "Notes removed.",
    }),
  ];
}
