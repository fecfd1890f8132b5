// Webhooks: endpoints that get signed flag events (Standard Webhooks). Add one (its signing
// secret is shown once), switch it off or on, remove it. The secret never comes back from the
// server after creation; dismissing the box empties the field that held it.

import { el } from "../../shared/el.js";
import { get, request } from "../api.js";
import { toast } from "../common.js";
import { clearProblem, confirmAction, fieldError, listCell, setState, showProblem, table } from "./ui.js";

export class WebhooksSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.form = section.querySelector("#add-webhook");
    this.secretBox = section.querySelector("#new-webhook");
    this.secretInput = section.querySelector("#new-webhook-secret");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    section.querySelector("#dismiss-webhook-secret").addEventListener("click", () => {
      this.secretInput.value = "";
      this.secretBox.hidden = true;
      this.section.querySelector("h2").focus();
    });
  }

  async load() {
    try {
      const [endpoints, { items: organizations }] = await Promise.all([get("webhooks"), get("organizations")]);
      this.organizations = new Map(organizations.map((organization) => [organization.id, organization]));
      this.offerOrganizations(organizations);
      this.render(endpoints);
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The webhooks could not be loaded: ${error.message}`, { error: true });
    }
  }

  /** The organization choice: every organization, or one of them (by code). */
  offerOrganizations(organizations) {
    const select = this.form.elements.organization;
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "", text: "Every organization" }),
      ...organizations.map((organization) => el("option", { value: organization.code, text: organization.name })),
    );
    select.value = chosen;
  }

  organizationName(endpoint) {
    if (!endpoint.organization_id) return "Every organization";
    const organization = this.organizations && this.organizations.get(endpoint.organization_id);
    return organization ? organization.name : endpoint.organization_id;
  }

  render(endpoints) {
    if (endpoints.length === 0) {
      this.tableBox.hidden = true;
      setState(this.section, "No webhook endpoints. Add one below.");
      return;
    }
    setState(this.section, "");
    this.tableBox.replaceChildren(table({
      caption: "Webhook endpoints",
      rows: endpoints,
      rowAttributes: (endpoint) => ({ "data-webhook-id": endpoint.id }),
      columns: [
        { header: "URL", rowHeader: true, class: "wrap", cell: (endpoint) => el("code", { text: endpoint.url }) },
        { header: "Events", cell: (endpoint) => listCell(endpoint.events) },
        { header: "Organization", cell: (endpoint) => this.organizationName(endpoint) },
        { header: "Patient data", cell: (endpoint) => (endpoint.allow_patient_data ? "Sent" : "Not sent") },
        { header: "Status", cell: (endpoint) => (endpoint.active ? "Active" : "Off") },
        { header: "Actions", cell: (endpoint) => this.actions(endpoint) },
      ],
    }));
    this.tableBox.hidden = false;
  }

  actions(endpoint) {
    return [
      el("button", {
        type: "button",
        "aria-label": `${endpoint.active ? "Switch off" : "Switch on"} ${endpoint.url}`,
        onclick: () => this.toggle(endpoint),
      }, endpoint.active ? "Switch off" : "Switch on"),
      " ",
      el("button", {
        type: "button",
        class: "danger",
        "aria-label": `Remove ${endpoint.url}`,
        onclick: () => this.remove(endpoint),
      }, "Remove"),
    ];
  }

  async toggle(endpoint) {
    try {
      await request(`webhooks/${encodeURIComponent(endpoint.id)}`, {
        method: "PATCH", body: { active: !endpoint.active },
      });
      toast(endpoint.active ? "Webhook switched off." : "Webhook switched on.");
    } catch (error) {
      toast(`The webhook could not be changed: ${error.message}`);
    }
    await this.load();
  }

  async remove(endpoint) {
    const confirmed = await confirmAction({
      title: "Remove this webhook?",
      body: `Nothing more is sent to ${endpoint.url}. Deliveries still waiting for it go to the undelivered list.`,
      confirmLabel: "Remove webhook",
    });
    if (!confirmed) return;
    try {
      await request(`webhooks/${encodeURIComponent(endpoint.id)}`, { method: "DELETE" });
      toast("Webhook removed.");
    } catch (error) {
      toast(`The webhook could not be removed: ${error.message}`);
    }
    await this.load();
    this.section.querySelector("h2").focus();
  }

  body() {
    const { elements } = this.form;
    const body = {
      url: elements.url.value.trim(),
      events: [...this.form.querySelectorAll('input[name="events"]:checked')].map((box) => box.value),
      allow_patient_data: elements.allow_patient_data.checked,
    };
    const secret = elements.secret.value.trim();
    if (secret) body.secret = secret;
    if (elements.organization.value) body.organization = elements.organization.value;
    return body;
  }

  async add() {
    clearProblem(this.form);
    const body = this.body();
    const problem = !body.url ? fieldError("url", "Enter the endpoint's URL.")
      : !body.events.length ? fieldError("events", "Choose at least one event.") : null;
    if (problem) {
      showProblem(this.form, problem);
      return;
    }
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await request("webhooks", { method: "POST", body });
      this.form.reset();
      this.secretInput.value = data.secret;
      this.secretBox.hidden = false;
      this.secretBox.querySelector("h3").focus();
      await this.load();
    } catch (error) {
      showProblem(this.form, error);
    } finally {
      button.disabled = false;
    }
  }
}
