// "My flags": the clinician's own flags with the quality team's replies, and the unread badge.
// Closing the loop is the point of ValueLoop, so unread replies are announced at launch and
// the badge follows every read.

import { el } from "../shared/el.js";
import { plural } from "../shared/text.js";
import { api } from "./api.js";
import { announce, formatDate } from "./dom.js";

// The workflow's states in words (app/flags/workflow.py).
const STATUS_WORDS = {
  submitted: "Submitted, waiting for review",
  triaged: "Being reviewed",
  accepted: "Accepted, the team is working on it",
  action_taken: "Action taken",
  closed: "Closed",
  needs_info: "The team needs more information",
  not_low_value: "Reviewed: judged not low-value",
  duplicate: "Already flagged (duplicate)",
};

// Reason labels come from the server-rendered flag form, the catalog's single copy.
function reasonLabels() {
  const labels = {};
  const template = document.getElementById("flag-form-template");
  for (const input of template.content.querySelectorAll('input[name="reason"]')) {
    labels[input.value] = input.closest("label").textContent.trim();
  }
  return labels;
}

export class MyFlags {
  constructor(root) {
    this.button = root.querySelector('[data-action="my-flags"]');
    this.badge = root.querySelector('[data-testid="unread-badge"]');
    this.notice = root.querySelector('[data-testid="new-replies"]');
    this.section = root.querySelector('[data-testid="my-flags"]');
    this.body = this.section.querySelector('[data-slot="my-flags-body"]');
    this.unread = 0;
    this.items = null;
    this.reasons = reasonLabels();
    // Flags still in their undo window: not on the server yet, but the clinician made them.
    this.pending = [];
    this.button.addEventListener("click", () => this.toggle());
  }

  /** At launch: fetch the flags for the badge and the "new replies" notice. */
  async refresh({ notify = false } = {}) {
    try {
      const data = await api("/flags");
      this.items = data.items;
      this.setUnread(data.unread);
      if (notify && data.unread > 0) this.showNewReplies(data);
      if (!this.section.hidden) this.render();
      return data;
    } catch (error) {
      // A missing fhirUser or a flaky network must not break flagging; say it in the panel.
      this.items = null;
      this.error = error;
      if (!this.section.hidden) this.render();
      return null;
    }
  }

  /**
   * At launch, the new replies themselves on the first screen (closing the loop is the point):
   * who answered, about which order, and what they said, without another click.
   */
  showNewReplies(data) {
    const unread = data.items.flatMap((item) =>
      item.replies.filter((reply) => reply.unread).map((reply) => ({ item, reply })),
    );
    const shown = unread.slice(-3).reverse();
    this.notice.replaceChildren(
      el("strong", { text: `You have ${plural(data.unread, "new reply", "new replies")}` }),
      el(
        "ul",
        { class: "new-replies" },
        ...shown.map(({ item, reply }) =>
          el(
            "li",
            { "data-testid": "new-reply" },
            el("p", { class: "reply-meta", text: `${reply.author} about ${item.order_display}, ${formatDate(reply.at)}` }),
            el("p", { class: "reply-body", text: reply.body }),
          ),
        ),
      ),
    );
    this.notice.hidden = false;
    this.noticeDetailed = true;
  }

  /** The orders flagged moments ago and still in their undo window. */
  setPending(orders) {
    this.pending = orders;
    if (!this.section.hidden) this.render();
  }

  setUnread(count) {
    this.unread = Math.max(0, count);
    this.badge.textContent = String(this.unread);
    this.badge.hidden = this.unread === 0;
    if (this.unread > 0) {
      this.button.setAttribute(
        "aria-label",
        `My flags, ${plural(this.unread, "unread reply", "unread replies")}`,
      );
    } else {
      this.button.removeAttribute("aria-label");
      this.notice.hidden = true;
    }
    if (!this.notice.hidden && !this.noticeDetailed) {
      this.notice.textContent = `You have ${plural(this.unread, "new reply", "new replies")}`;
    }
  }

  async toggle() {
    const opening = this.section.hidden;
    this.section.hidden = !opening;
    this.button.setAttribute("aria-expanded", String(opening));
    if (!opening) return;
    this.body.replaceChildren(el("p", { text: "Loading your flags…" }));
    await this.refresh();
    this.render();
    this.section.querySelector("h2").setAttribute("tabindex", "-1");
    this.section.querySelector("h2").focus();
  }

  render() {
    const pending = this.pending.map((order) =>
      el(
        "li",
        { class: "my-flag pending", "data-testid": "pending-flag" },
        el("p", { class: "order-display", text: order.order_display }),
        el("p", { class: "order-meta", text: "Pending: sending in a few seconds (you can still undo)" }),
      ),
    );
    if (!this.items) {
      const detail = (this.error && this.error.problem.detail) || "Your flags could not be loaded.";
      this.body.replaceChildren(
        ...(pending.length ? [el("ul", { class: "flag-list" }, ...pending)] : []),
        el("p", { class: "error", text: detail }),
      );
      return;
    }
    if (this.items.length === 0 && pending.length === 0) {
      this.body.replaceChildren(el("p", { text: "You have not flagged any orders yet." }));
      return;
    }
    this.body.replaceChildren(
      el("ul", { class: "flag-list" }, ...pending, ...this.items.map((item) => this.renderItem(item))),
    );
  }

  renderItem(item) {
    const summary = el("summary", {}, this.summaryText(item));
    const replies = item.replies.length
      ? el(
          "ol",
          { class: "replies" },
          ...item.replies.map((reply) =>
            el(
              "li",
              {},
              el("p", { class: "reply-meta", text: `${reply.author}, ${formatDate(reply.at)}` }),
              el("p", { class: "reply-body", text: reply.body }),
            ),
          ),
        )
      : el("p", { text: "The quality team has not replied yet." });
    const details = el("details", { "data-flag-id": item.id }, summary, replies);
    details.addEventListener("toggle", () => {
      if (details.open && item.unread > 0) this.markRead(item, summary);
    });
    return el(
      "li",
      { class: "my-flag", "data-flag-id": item.id },
      el("p", { class: "order-display", text: item.order_display }),
      el("p", { class: "order-meta", text: STATUS_WORDS[item.status] || item.status }),
      el(
        "p",
        { class: "order-meta", text: `${this.reasons[item.reason] || item.reason} · flagged ${formatDate(item.created_at)}` },
      ),
      details,
    );
  }

  summaryText(item) {
    if (item.replies.length === 0) return "No replies yet";
    const count = plural(item.replies.length, "reply", "replies");
    return item.unread > 0 ? `${count} (${item.unread} new)` : count;
  }

  async markRead(item, summary) {
    const unread = item.unread;
    // Update at once so the badge answers the click; restore if the server says no.
    item.unread = 0;
    summary.textContent = this.summaryText(item);
    this.setUnread(this.unread - unread);
    try {
      await api(`/flags/${encodeURIComponent(item.id)}/read`, { method: "POST" });
      announce(`Replies read. ${plural(this.unread, "unread reply", "unread replies")} left.`);
    } catch {
      item.unread = unread;
      summary.textContent = this.summaryText(item);
      this.setUnread(this.unread + unread);
    }
  }
}
