// The flag page's action forms: move along the workflow, reply to the reporter, add an internal
// note, assign, change priority. The forms are built once and never rebuilt, so whatever a
// person typed survives a failed send, a 412 conflict and the Reload that follows; only the
// parts that depend on the flag (the allowed moves, whether an owner is needed) are refreshed.

import { el } from "../../shared/el.js";
import { staff } from "../api.js";
import { toast } from "../common.js";
import { ownerFields, ownerSentence } from "../flag-owner.js";
import { duplicatePicker } from "./duplicate.js";

const CONFLICT_TEXT =
  "Not saved: someone changed this flag since you opened it. Reload to see their change, " +
  "then send again: your text is kept.";

function showError(form, message, input) {
  const slot = form.querySelector('[data-slot="error"]');
  slot.textContent = message || "";
  slot.hidden = !message;
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/**
 * Run one write for a form: one at a time, the button disabled meanwhile, and any refusal
 * shown in the form itself (the server's detail is written for people).
 */
async function send(form, write) {
  if (form.dataset.busy) return false;
  form.dataset.busy = "true";
  form.setAttribute("aria-busy", "true");
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  showError(form, "");
  try {
    await write();
    return true;
  } catch (error) {
    showError(form, error.conflict ? CONFLICT_TEXT : `Not saved: ${error.message}`);
    return false;
  } finally {
    delete form.dataset.busy;
    form.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

/** A required text area: its trimmed text, or an error shown next to it. */
function requireText(form, textarea, message) {
  const text = textarea.value.trim();
  if (!text) showError(form, message, textarea);
  return text;
}

// --- move along the workflow -------------------------------------------------------------------

function transitionForm(ctx) {
  const form = document.getElementById("transition-form");
  if (!form) return null;
  const { catalog } = ctx;
  const targets = form.querySelector('[data-slot="targets"]');
  const legend = form.querySelector("legend");
  const replyField = form.querySelector('[data-slot="reply-field"]');
  const replyNeed = form.querySelector('[data-slot="reply-need"]');
  const reply = form.elements.reply;
  const replyShareable = form.elements.reply_shareable;
  const comment = form.elements.comment;
  const submit = form.querySelector('button[type="submit"]');
  const owner = ownerFields({ legend: "Owner (accepting a flag needs one)" });
  const ownerField = form.querySelector('[data-slot="owner-field"]');
  ownerField.append(owner.element);
  const picker = duplicatePicker({ flagId: ctx.flagId, catalog });
  const duplicateField = form.querySelector('[data-slot="duplicate-field"]');
  duplicateField.append(picker.element);

  const chosen = () => {
    const radio = form.querySelector('input[name="to"]:checked');
    return radio ? radio.value : "";
  };
  const label = (status) => catalog.label("statuses", status);

  /** Show only what the chosen move needs, and say which parts are required. */
  function sync() {
    const to = chosen();
    const rules = catalog.entry("statuses", to) || {};
    const flag = ctx.flag();
    replyField.hidden = !to;
    reply.required = Boolean(rules.reply_required);
    replyNeed.textContent = rules.reply_required ? "(required for this move)" : "(optional)";
    ownerField.hidden = !(rules.owner_required && !flag.owner);
    duplicateField.hidden = to !== "duplicate";
    if (to === "duplicate") picker.load();
    submit.textContent = to ? `Move to ${label(to)}` : "Move";
  }

  function update(flag) {
    const previous = chosen();
    legend.textContent = `Move from ${label(flag.status)} to`;
    targets.replaceChildren(
      ...flag.allowed_transitions.map((status) => {
        const id = `to-${status}`;
        return el(
          "div",
          { class: "check" },
          el("input", { type: "radio", name: "to", id, value: status, onchange: sync }),
          el("label", { for: id, text: label(status) }),
        );
      }),
    );
    if (previous && flag.allowed_transitions.includes(previous)) {
      form.querySelector(`input[name="to"][value="${previous}"]`).checked = true;
    } else if (previous) {
      // Someone else moved the flag: the chosen move may no longer exist. Say so; keep the text.
      showError(form, `“${label(previous)}” is not possible from ${label(flag.status)} any more; choose again.`);
    }
    if (!flag.allowed_transitions.length) {
      targets.textContent = "No moves are possible from here.";
    }
    sync();
  }

  function body() {
    const to = chosen();
    if (!to) {
      const first = form.querySelector('input[name="to"]');
      showError(form, "Choose where to move the flag.", first);
      return null;
    }
    const rules = catalog.entry("statuses", to) || {};
    const payload = { to };
    const replyText = reply.value.trim();
    if (rules.reply_required && !requireText(form, reply, `Moving to ${label(to)} needs a reply to the reporter.`)) {
      return null;
    }
    if (replyText) payload.reply = replyText;
    if (replyText && replyShareable.checked) payload.reply_shareable = true;
    const commentText = comment.value.trim();
    if (commentText) payload.comment = commentText;
    if (!ownerField.hidden) {
      const read = owner.read();
      if (read.error) {
        showError(form, read.error, read.input);
        return null;
      }
      payload.owner = read.owner;
    }
    if (to === "duplicate") {
      payload.duplicate_of = picker.value();
      if (!payload.duplicate_of) {
        showError(form, "Choose the original flag this one duplicates.");
        picker.focus();
        return null;
      }
    }
    return payload;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = body();
    if (!payload) return;
    const ok = await send(form, () =>
      ctx.write("/transitions", {
        body: payload,
        // Cleared before the new flag is shown, so the move just made is not "chosen again".
        clear: () => {
          reply.value = "";
          replyShareable.checked = false;
          comment.value = "";
          owner.clear();
          picker.reset();
          for (const radio of form.querySelectorAll('input[name="to"]')) radio.checked = false;
        },
      }),
    );
    if (ok) toast(`Moved to ${label(payload.to)}.${payload.reply ? " The reporter will see your reply." : ""}`);
  });
  return { update };
}

// --- messages ----------------------------------------------------------------------------------

function messageForm(ctx, { id, path, emptyText, done }) {
  const form = document.getElementById(id);
  if (!form) return null;
  const text = form.elements.body;
  // The reply box's "may be shared in the transparency report" (the note box has none).
  const shareable = form.elements.shareable;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = requireText(form, text, emptyText);
    if (!body) return;
    const payload = shareable && shareable.checked ? { body, shareable: true } : { body };
    const clear = () => {
      text.value = "";
      if (shareable) shareable.checked = false;
    };
    const ok = await send(form, () => ctx.write(path, { body: payload, clear }));
    if (ok) toast(done);
  });
  return { update() {} };
}

// --- owner -------------------------------------------------------------------------------------

function ownerForm(ctx) {
  const form = document.getElementById("owner-form");
  if (!form || !staff.can("assign_flags")) return null;
  const owner = ownerFields({ legend: "Lead or dyad" });
  form.querySelector('[data-slot="owner"]').append(owner.element);
  // Once someone edits the names, a reload must not overwrite them with the server's owner.
  let dirty = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const read = owner.read();
    if (read.error) {
      showError(form, read.error, read.input);
      return;
    }
    const ok = await send(form, () =>
      ctx.write("/owner", { method: "PUT", body: read.owner, clear: () => { dirty = false; } }),
    );
    if (ok) toast(`Assigned to ${ownerSentence(read.names)}.`);
  });
  return {
    update(flag) {
      if (!dirty) owner.set(flag.owner);
      form.querySelector('button[type="submit"]').textContent = flag.owner ? "Change owner" : "Assign";
    },
  };
}

// --- priority ----------------------------------------------------------------------------------

function priorityForm(ctx) {
  const form = document.getElementById("priority-form");
  if (!form) return null;
  const select = form.elements.priority;
  select.replaceChildren(
    ...ctx.catalog.list("priorities").map((p) => el("option", { value: p.value, text: p.label })),
  );
  let dirty = false;
  select.addEventListener("change", () => { dirty = select.value !== ctx.flag().priority; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (select.value === ctx.flag().priority) {
      showError(form, "That is already the priority.", select);
      return;
    }
    const priority = select.value;
    const ok = await send(form, () =>
      ctx.write("", { method: "PATCH", body: { priority }, clear: () => { dirty = false; } }),
    );
    if (ok) toast(`Priority set to ${ctx.catalog.label("priorities", priority)}.`);
  });
  return {
    update(flag) {
      if (!dirty) select.value = flag.priority;
    },
  };
}

// --- reason and driver ---------------------------------------------------------------------------

function classificationForm(ctx) {
  const form = document.getElementById("classification-form");
  if (!form) return null;
  const { reason, driver, comment } = form.elements;
  const options = (kind) => ctx.catalog.list(kind).map((e) => el("option", { value: e.value, text: e.label }));
  reason.replaceChildren(...options("reasons"));
  driver.replaceChildren(el("option", { value: "", text: "Not known" }), ...options("drivers"));
  let dirty = false;
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const flag = ctx.flag();
    const body = {};
    if (reason.value !== flag.reason) body.reason = reason.value;
    if (driver.value !== (flag.driver || "")) {
      if (driver.value) body.driver = driver.value;
      else body.clear_driver = true;
    }
    if (!Object.keys(body).length) {
      showError(form, "Choose a different reason or driver first.", reason);
      return;
    }
    const text = comment.value.trim();
    if (text) body.comment = text;
    const ok = await send(form, () =>
      ctx.write("/classification", { body, clear: () => { dirty = false; comment.value = ""; } }),
    );
    if (ok) toast("Reclassified. The timeline keeps the earlier values.");
  });
  return {
    update(flag) {
      if (dirty) return;
      reason.value = flag.reason;
      driver.value = flag.driver || "";
    },
  };
}

/**
 * Wire the forms the template rendered for this role. ctx: { flagId, catalog, flag(),
 * write(path, { method, body, clear }) }. Returns { update(flag) } for each new version.
 */
export function setupActions(ctx) {
  const parts = [
    staff.can("work_flags") ? transitionForm(ctx) : null,
    messageForm(ctx, {
      id: "reply-form",
      path: "/replies",
      emptyText: "Write the reply first.",
      done: "Reply sent. The reporter sees it in ValueLoop and, with an email address on file, is emailed that there is a reply.",
    }),
    messageForm(ctx, {
      id: "comment-form",
      path: "/comments",
      emptyText: "Write the note first.",
      done: "Internal note added.",
    }),
    ownerForm(ctx),
    staff.can("work_flags") ? priorityForm(ctx) : null,
    staff.can("work_flags") ? classificationForm(ctx) : null,
  ].filter(Boolean);
  return {
    update(flag) {
      for (const part of parts) part.update(flag);
    },
  };
}
