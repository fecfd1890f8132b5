// The queue's filter bar: its options (from the catalog and the filter options), and the
// two-way mapping between the form and the view state kept in the URL.

import { el } from "../../shared/el.js";
import { get } from "../api.js";
import { findPerson, staffPicker } from "../staff-picker.js";
import { emptyFilters, PAGE_SIZES, SORTS, STATUSES } from "./state.js";

/** Options that come from the catalog: statuses, reasons, reporter roles; and the sorts. */
export function buildCatalogOptions(form, catalog) {
  const statusBox = form.querySelector('[data-slot="status-options"]');
  statusBox.replaceChildren(
    ...STATUSES.map((status) => {
      const id = `f-status-${status}`;
      return el(
        "div",
        { class: "check" },
        el("input", { type: "checkbox", id, name: "status", value: status }),
        el("label", { for: id, text: catalog.label("statuses", status) }),
      );
    }),
  );
  fillSelect(form.elements.reason, catalog.list("reasons").map((r) => [r.value, r.label]));
  fillSelect(form.elements.reporter_role, catalog.list("reporter_roles").map((r) => [r.value, r.label]));
  fillSelect(form.elements.sort, SORTS.map((s) => [s.value, s.label]), { keepFirst: false });
  fillSelect(form.elements.limit, PAGE_SIZES.map((n) => [String(n), String(n)]), { keepFirst: false });
}

/** Replace a select's options, keeping its first "Any …" option unless told otherwise. */
function fillSelect(select, pairs, { keepFirst = true } = {}) {
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []), ...pairs.map(([value, text]) => el("option", { value, text })));
}

/**
 * The organizations a system-level person can narrow the queue to (the select exists only for
 * them). A failure leaves "Any organization" and says so.
 */
export async function loadOrganizationOptions(form) {
  const select = form.elements.organization;
  if (!select) return;
  const help = document.getElementById(`${select.id}-help`);
  try {
    const { items } = await get("organizations");
    const current = select.value;
    fillSelect(select, items.map((o) => [o.code, `${o.name} (${o.code})`]));
    setSelectValue(select, current);
  } catch (error) {
    help.textContent = `The list of organizations could not be loaded: ${error.message}`;
    help.hidden = false;
  }
}

/**
 * Services and departments: the values flags actually carry (GET /api/v1/filter-options, a
 * cheap index walk), not every code that ever existed and not a full statistics run.
 * A failure leaves the "Any" option and says so; the rest of the queue still works.
 */
export async function loadBreakdownOptions(form) {
  const selects = [
    ["services", form.elements.order_code],
    ["departments", form.elements.department],
  ];
  let options = null;
  let failure = null;
  try {
    options = await get("filter-options");
  } catch (error) {
    failure = error;
  }
  for (const [name, select] of selects) {
    const help = document.getElementById(`${select.id}-help`);
    if (options) {
      const current = select.value;
      fillSelect(select, options[name].map((option) => [option.value, option.label]));
      setSelectValue(select, current);
      if (help) help.hidden = true;
    } else if (help) {
      help.textContent = `The list of choices could not be loaded: ${failure.message}`;
      help.hidden = false;
    }
  }
}

/**
 * Choose a value even when it is not among the options (a shared link for a service outside
 * the top 50, or options that failed to load): add it rather than silently show "Any".
 */
function setSelectValue(select, value) {
  if (value && ![...select.options].some((option) => option.value === value)) {
    select.append(el("option", { value, text: value }));
  }
  select.value = value;
}

/**
 * The owner filter: a person picked from the whole directory (deactivated people still own
 * flags), whose staff id goes in the hidden `owner` field and so into the URL. A pick applies at
 * once, like the other choices; clearing the name applies on Enter or Apply.
 */
let ownerPicker = null;
export function buildOwnerFilter(form, onPick) {
  const hidden = form.elements.owner;
  ownerPicker = staffPicker("f-owner", "Assignee", {
    activeOnly: false,
    onChange(person) {
      hidden.value = person ? person.id : "";
      if (person) onPick();
    },
  });
  ownerPicker.input.setAttribute("aria-describedby", "f-owner-help");
  hidden.before(ownerPicker.wrap);
}

/** Show the person a view filters on (the URL holds only their id). */
async function showOwner(id) {
  ownerPicker.value = null;
  if (!id) return;
  ownerPicker.input.value = "…";
  let person = null;
  try {
    person = await findPerson(id);
  } catch {
    person = null;
  }
  if (ownerPicker.input.form.elements.owner.value !== id) return; // the view changed meanwhile
  if (person) ownerPicker.value = person;
  else ownerPicker.input.value = "Someone not in the staff directory";
}

/** Show a view's filters in the form (on load, Back/Forward, and Clear). */
export function writeForm(form, state) {
  const { filters } = state;
  for (const box of form.querySelectorAll('input[name="status"]')) {
    box.checked = filters.status.includes(box.value);
  }
  for (const name of ["reason", "order_code", "department", "reporter_role"]) {
    setSelectValue(form.elements[name], filters[name]);
  }
  if (form.elements.organization) setSelectValue(form.elements.organization, filters.organization);
  form.elements.created_from.value = filters.created_from;
  form.elements.created_to.value = filters.created_to;
  form.elements.owner.value = filters.owner;
  showOwner(filters.owner);
  form.elements.unassigned.checked = filters.assigned === "false";
  form.elements.unanswered.checked = filters.answered === "false";
  form.elements.q.value = filters.q;
  form.elements.sort.value = state.sort;
  form.elements.limit.value = String(state.limit);
  syncOwnerField(form);
}

/** "Unassigned only" and an assignee contradict each other, so one disables the other. */
export function syncOwnerField(form) {
  form.elements.owner.disabled = form.elements.unassigned.checked;
  ownerPicker.input.disabled = form.elements.unassigned.checked;
}

/**
 * The form as view changes, or { error, input } for what the API would refuse (so the person
 * sees it next to the field instead of a 422 from the server).
 */
export function readForm(form) {
  const filters = emptyFilters();
  filters.status = [...form.querySelectorAll('input[name="status"]:checked')].map((box) => box.value);
  for (const name of ["reason", "order_code", "department", "reporter_role", "created_from", "created_to"]) {
    filters[name] = form.elements[name].value.trim();
  }
  if (form.elements.organization) filters.organization = form.elements.organization.value;
  if (form.elements.unassigned.checked) filters.assigned = "false";
  else {
    filters.owner = form.elements.owner.value;
    if (!filters.owner && ownerPicker.input.value.trim()) {
      return {
        error: "Pick the assignee from the list (type a name or email, then choose with the arrow keys and Enter), or clear it.",
        input: ownerPicker.input,
      };
    }
  }
  if (form.elements.unanswered.checked) filters.answered = "false";
  filters.q = form.elements.q.value.trim();
  if (filters.q.length === 1) {
    return { error: "Search for at least 2 characters.", input: form.elements.q };
  }
  if (filters.created_from && filters.created_to && filters.created_from > filters.created_to) {
    return { error: "The “Created from” date is after the “Created to” date.", input: form.elements.created_to };
  }
  return { filters, sort: form.elements.sort.value, limit: Number(form.elements.limit.value) };
}
