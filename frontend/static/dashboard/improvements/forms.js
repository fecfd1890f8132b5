// What every improvement form does the same way (on the improvement page and a flag's page):
// one write at a time with its buttons disabled, and a refusal shown in the form itself, next
// to the field it is about (the server's detail is written for people).

/** Show `message` in the form's error slot (role=alert), or clear it; mark and focus `input`. */
export function showError(form, message, input) {
  const slot = form.querySelector('[data-slot="error"]');
  slot.textContent = message || "";
  slot.hidden = !message;
  for (const field of form.querySelectorAll('[aria-invalid="true"]')) field.removeAttribute("aria-invalid");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/**
 * Run `write` for `form`: ignored while one is running, buttons disabled meanwhile, and any
 * failure shown in the form. Resolves true when the write succeeded.
 */
export async function submitting(form, write) {
  if (form.dataset.busy) return false;
  form.dataset.busy = "true";
  form.setAttribute("aria-busy", "true");
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((button) => { button.disabled = true; });
  showError(form, "");
  try {
    await write();
    return true;
  } catch (error) {
    showError(form, `Not saved: ${error.message}`);
    return false;
  } finally {
    delete form.dataset.busy;
    form.removeAttribute("aria-busy");
    buttons.forEach((button) => { button.disabled = false; });
  }
}

/** A required text field: its trimmed text, or an error shown next to it (and ""). */
export function requireText(form, input, message) {
  const text = input.value.trim();
  if (!text) showError(form, message, input);
  return text;
}

/** Show or hide a form opened by `toggle` (aria-expanded follows); focus its first field. */
export function setOpen(form, toggle, open) {
  form.hidden = !open;
  if (toggle) toggle.setAttribute("aria-expanded", String(open));
  if (open) {
    const first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  } else {
    showError(form, "");
    if (toggle) toggle.focus();
  }
}

/**
 * A form that opens under its toggle button: the button opens (with `open`, which may load
 * what the form needs) or closes it; Cancel and Escape close it and return focus to the button.
 */
export function disclosure(form, toggle, open) {
  const close = () => setOpen(form, toggle, false);
  toggle.addEventListener("click", () => (form.hidden ? open() : close()));
  form.querySelector('[data-action="cancel"]').addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
}
