// The improvement's moves: one button for each status the catalog allows from where it stands.
// Approve, start work, mark measured and propose again happen at a click; going live opens a
// form for the go-live date and the reply every linked reporter gets, and declining one for the
// reason. Approving an EHR build sends informatics its change request; when no webhook endpoint
// subscribes to those, the page says so and who can fix it.

import { el } from "../../shared/el.js";
import { plural } from "../../shared/text.js";
import { toast } from "../common.js";
import { dayText } from "./format.js";
import { requireText, setOpen, showError, submitting } from "./forms.js";
import { NO_ENDPOINT_HINT } from "./timeline.js";

const MOVE_TEXT = {
  approved: "Approve",
  in_progress: "Start work",
  live: "Go live…",
  measured: "Mark measured",
  declined: "Decline…",
  proposed: "Propose again",
};
const DONE_TEXT = {
  approved: "Approved.",
  in_progress: "Work started.",
  measured: "Marked measured.",
  proposed: "Proposed again.",
  declined: "Declined; the reason is on the timeline.",
};

function whereText(improvement, catalog) {
  switch (improvement.status) {
    case "proposed":
      return improvement.owners
        ? "Proposed: approve it to start, or decline it."
        : "Proposed: name its owners (below), then approve it or decline it.";
    case "approved":
      return "Approved: start the work, or go live once the change is in.";
    case "in_progress":
      return "In progress: go live once the change is in; every linked reporter then hears what changed.";
    case "live":
      return `Live since ${dayText(improvement.go_live)}: its effect is measured on this page. Mark it measured once the team has read it.`;
    case "measured":
      return "Measured: the work is finished.";
    case "declined":
      return `Declined: ${improvement.declined_reason || "no reason recorded"}. It can be proposed again.`;
    default:
      return catalog.statusLabel(improvement.status);
  }
}

/** People a go-live reply reaches: identified reporters once each, every other flag's own. */
function reporterCount(flags) {
  return new Set(flags.map((flag) => flag.reporter.fhir_user || flag.reporter.display || flag.id)).size;
}

/** Today as the server will accept it: its (UTC) date, or the local one when that is earlier. */
export function todayForGoLive(now = new Date()) {
  const utc = now.toISOString().slice(0, 10);
  const local = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
    .map((part, at) => String(part).padStart(at ? 2 : 4, "0")).join("-");
  return { value: local < utc ? local : utc, max: utc };
}

function liveForm(ctx, toggle) {
  const form = document.getElementById("live-form");
  const { go_live: date, reply } = form.elements;
  const reach = form.querySelector('[data-slot="reach"]');
  return {
    form,
    open(improvement) {
      const today = todayForGoLive();
      date.max = today.max;
      if (!date.value) date.value = today.value;
      if (!reply.value.trim()) reply.value = `Your flag contributed to this change: ${improvement.title}.`;
      const flags = improvement.flags;
      reach.textContent = flags.length
        ? `Sent as a reply on each of the ${plural(flags.length, "linked flag")}, so it goes to ${plural(reporterCount(flags), "reporter")}: ` +
          "they see it in ValueLoop in their EHR, and those with an email address are emailed that there is a reply (never its text). " +
          "Flags still under review move on to Action taken."
        : "No flags are linked, so nobody is replied to.";
      setOpen(form, toggle(), true);
    },
    async submit() {
      if (!date.value) {
        showError(form, "Choose the go-live date.", date);
        return null;
      }
      if (date.value > date.max) {
        showError(form, "The go-live date cannot be in the future: go live on or after the day the change goes live.", date);
        return null;
      }
      const text = requireText(form, reply, "Write the reply the reporters get.");
      if (!text) return null;
      const ok = await submitting(form, () => ctx.write("/transitions", { body: { to: "live", go_live: date.value, reply: text } }));
      if (ok) reply.value = "";
      return ok;
    },
  };
}

function declineForm(ctx, toggle) {
  const form = document.getElementById("decline-form");
  const { reason } = form.elements;
  return {
    form,
    open() {
      setOpen(form, toggle(), true);
    },
    async submit() {
      const text = requireText(form, reason, "Say why it is declined.");
      if (!text) return null;
      const ok = await submitting(form, () => ctx.write("/transitions", { body: { to: "declined", reason: text } }));
      if (ok) reason.value = "";
      return ok;
    },
  };
}

function changeRequestHint(improvement) {
  const hint = document.getElementById("change-request-hint");
  const requests = improvement.timeline.filter((event) => event.kind === "change_requested");
  const last = requests[requests.length - 1];
  const unsent = Boolean(last && !(last.details && last.details.endpoints) && !improvement.requested_at);
  hint.hidden = !unsent;
  if (!unsent) return;
  const admin = document.getElementById("improvement").dataset.admin === "true";
  hint.replaceChildren(
    el("strong", { text: "The change request was not sent. " }),
    NO_ENDPOINT_HINT,
    ...(admin ? [" ", el("a", { href: "/dashboard/admin#webhooks", text: "Open the webhooks" })] : []),
  );
}

/** Wire the moves; returns { update(improvement) } for each new version. */
export function setupWorkflow(ctx) {
  const section = document.getElementById("workflow");
  const where = document.getElementById("workflow-status");
  const moves = section.querySelector('[data-slot="moves"]');
  const moveError = document.getElementById("move-error");
  const { catalog } = ctx;
  const buttonFor = (to) => moves && moves.querySelector(`button[data-to="${to}"]`);
  const forms = moves
    ? { live: liveForm(ctx, () => buttonFor("live")), declined: declineForm(ctx, () => buttonFor("declined")) }
    : {};

  const showMoveError = (message) => {
    moveError.textContent = message;
    moveError.hidden = !message;
  };

  async function move(to, button) {
    showMoveError("");
    button.disabled = true;
    try {
      await ctx.write("/transitions", { body: { to } });
      toast(DONE_TEXT[to] || `Moved to ${catalog.statusLabel(to)}.`);
      where.focus();
    } catch (error) {
      showMoveError(`Not moved: ${error.message}`);
      if (button.isConnected) button.disabled = false;
    }
  }

  for (const [to, part] of Object.entries(forms)) {
    part.form.querySelector('[data-action="cancel"]').addEventListener("click", () => setOpen(part.form, buttonFor(to), false));
    part.form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") setOpen(part.form, buttonFor(to), false);
    });
    part.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await part.submit()) {
        toast(to === "live" ? "Live: every linked reporter gets the reply." : DONE_TEXT[to]);
        where.focus();
      }
    });
  }

  function button(to, improvement) {
    const opens = forms[to];
    return el("button", {
      type: "button",
      class: to === "declined" ? "danger" : to === "live" || to === "approved" ? "primary" : null,
      "data-to": to,
      "aria-expanded": opens ? String(!opens.form.hidden) : null,
      "aria-controls": opens ? opens.form.id : null,
      onclick: (event) => (opens ? opens.open(improvement) : move(to, event.currentTarget)),
    }, MOVE_TEXT[to] || catalog.statusLabel(to));
  }

  return {
    update(improvement) {
      where.textContent = whereText(improvement, catalog);
      changeRequestHint(improvement);
      if (!moves) return;
      const allowed = catalog.moves(improvement.status);
      for (const [to, part] of Object.entries(forms)) {
        if (!allowed.includes(to)) part.form.hidden = true;
      }
      moves.replaceChildren(...allowed.map((to) => button(to, improvement)));
      if (!allowed.length) moves.append(el("p", { class: "muted-text", text: "No moves are possible from here." }));
    },
  };
}
