// Undelivered notifications (the dead letters): deliveries that gave up, and those being
// retried, with a retry action. Never their content: only what, to whom, and why it failed.

import { el } from "../../shared/el.js";
import { get, query, request } from "../api.js";
import { toast } from "../common.js";
import { setState, table } from "./ui.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

export class DeliveriesSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.stateSelect = section.querySelector("#deliveries-state");
    this.stateSelect.addEventListener("change", () => this.load());
  }

  async load() {
    try {
      const page = await get(`deliveries${query({ state: this.stateSelect.value, limit: 100 })}`);
      this.render(page.items);
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The deliveries could not be loaded: ${error.message}`, { error: true });
    }
  }

  render(items) {
    if (items.length === 0) {
      this.tableBox.hidden = true;
      setState(this.section, this.stateSelect.value === "dead"
        ? "Nothing undelivered: every notification arrived or is on its way."
        : "No notification is waiting for a retry.");
      return;
    }
    setState(this.section, "");
    this.tableBox.replaceChildren(table({
      caption: "Undelivered notifications",
      rows: items,
      rowAttributes: (item) => ({ "data-delivery-id": item.id }),
      columns: [
        { header: "Event", rowHeader: true, cell: (item) => item.event },
        { header: "Channel", cell: (item) => item.channel },
        { header: "Recipient", class: "wrap", cell: (item) => el("code", { text: item.recipient_label }) },
        {
          header: "Flag",
          cell: (item) => (item.flag_id
            ? el("a", { href: `/dashboard/flags/${encodeURIComponent(item.flag_id)}`, text: "Open flag" }) : "—"),
        },
        { header: "Tries", cell: (item) => String(item.attempts) },
        { header: "Last error", class: "wrap", cell: (item) => item.last_error || "—" },
        {
          header: "Created / next try",
          cell: (item) => (item.status === "dead" ? when(item.created_at) : `Next: ${when(item.next_attempt_at)}`),
        },
        { header: "Actions", cell: (item) => this.retryButton(item) },
      ],
    }));
    this.tableBox.hidden = false;
  }

  retryButton(item) {
    return el("button", {
      type: "button",
      "aria-label": `Retry ${item.event} to ${item.recipient_label}`,
      onclick: () => this.retry(item),
    }, "Retry now");
  }

  async retry(item) {
    try {
      await request(`deliveries/${encodeURIComponent(item.id)}/retry`, { method: "POST" });
      toast("Sent back to the outbox; it goes out within seconds.");
    } catch (error) {
      toast(`The delivery could not be retried: ${error.message}`);
    }
    await this.load();
  }
}
