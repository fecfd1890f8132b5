// Registered EHRs: the allow-list of FHIR bases that may launch ValueLoop, and how ValueLoop
// authenticates to each. Register (or replace) one, or remove it.

import { el } from "../../shared/el.js";
import { get, request } from "../api.js";
import { toast } from "../common.js";
import {
  clearProblem, confirmAction, fieldError, listCell, setState, showProblem, table,
} from "./ui.js";

const AUTH_WORDS = {
  none: "None (public client)",
  client_secret_basic: "Client secret",
  private_key_jwt: "Signed assertion (private_key_jwt)",
};

/** Non-empty lines, trimmed: a blank line or trailing spaces are not origins. */
const lines = (text) => text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
const words = (text) => text.split(/\s+/).filter(Boolean);

export class EhrsSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.form = section.querySelector("#register-ehr");
    this.secretField = this.form.querySelector('[data-slot="secret-field"]');
    this.form.elements.client_auth.addEventListener("change", () => this.syncSecretField());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.register();
    });
    this.syncSecretField();
  }

  /**
   * The secret field exists only for client_secret_basic; disabled otherwise so a secret typed
   * earlier is never sent with another method (the API refuses that combination).
   */
  syncSecretField() {
    const basic = this.form.elements.client_auth.value === "client_secret_basic";
    this.secretField.hidden = !basic;
    this.form.elements.client_secret.disabled = !basic;
    this.form.elements.client_secret.required = basic;
    if (!basic) this.form.elements.client_secret.value = "";
  }

  async load() {
    try {
      this.render(await get("ehrs"));
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The registered EHRs could not be loaded: ${error.message}`, { error: true });
    }
  }

  render(ehrs) {
    if (ehrs.length === 0) {
      this.tableBox.hidden = true;
      setState(this.section, "No EHR is registered, so no launch is accepted. Register one below.");
      return;
    }
    setState(this.section, "");
    this.tableBox.replaceChildren(table({
      caption: "Registered EHRs",
      rows: ehrs,
      rowAttributes: (ehr) => ({ "data-ehr-id": ehr.id }),
      columns: [
        { header: "Name", rowHeader: true, cell: (ehr) => ehr.name },
        { header: "Issuer (FHIR base)", class: "wrap", cell: (ehr) => el("code", { text: ehr.issuer }) },
        { header: "Client ID", class: "wrap", cell: (ehr) => el("code", { text: ehr.client_id }) },
        { header: "Client authentication", cell: (ehr) => AUTH_WORDS[ehr.client_auth] || ehr.client_auth },
        { header: "Frame origins", cell: (ehr) => listCell(ehr.frame_origins, "None (no framing)") },
        { header: "Scopes", class: "wrap", cell: (ehr) => (ehr.scopes ? ehr.scopes.join(" ") : "Default scopes") },
        { header: "Actions", cell: (ehr) => this.removeButton(ehr) },
      ],
    }));
    this.tableBox.hidden = false;
  }

  removeButton(ehr) {
    return el("button", {
      type: "button",
      class: "danger",
      "aria-label": `Remove ${ehr.name}`,
      onclick: () => this.remove(ehr),
    }, "Remove");
  }

  async remove(ehr) {
    const confirmed = await confirmAction({
      title: `Remove “${ehr.name}”?`,
      body: `Launches from ${ehr.issuer} will be refused from now on, and sessions already open from it end now. Flags made from it stay in the registry.`,
      confirmLabel: "Remove EHR",
    });
    if (!confirmed) return;
    try {
      await request(`ehrs/${encodeURIComponent(ehr.id)}`, { method: "DELETE" });
      toast(`“${ehr.name}” removed.`);
    } catch (error) {
      toast(`The EHR could not be removed: ${error.message}`);
    }
    await this.load();
    this.section.querySelector("h2").focus();
  }

  /** The request body from the form; optional fields are left out rather than sent empty. */
  body() {
    const { elements } = this.form;
    const body = {
      issuer: elements.issuer.value.trim(),
      client_id: elements.client_id.value.trim(),
      client_auth: elements.client_auth.value,
      frame_origins: lines(elements.frame_origins.value),
    };
    const name = elements.name.value.trim();
    if (name) body.name = name;
    if (!elements.client_secret.disabled && elements.client_secret.value) {
      body.client_secret = elements.client_secret.value;
    }
    const scopes = words(elements.scopes.value);
    if (scopes.length) body.scopes = scopes;
    return body;
  }

  /** The checks a person would otherwise wait a round trip for; the server checks everything. */
  missing(body) {
    if (!body.issuer) return fieldError("issuer", "Enter the EHR's FHIR base URL.");
    if (!body.client_id) return fieldError("client_id", "Enter the client ID.");
    if (body.client_auth === "client_secret_basic" && !body.client_secret) {
      return fieldError("client_secret", "client_secret_basic needs the client secret.");
    }
    return null;
  }

  async register() {
    clearProblem(this.form);
    const body = this.body();
    const problem = this.missing(body);
    if (problem) {
      showProblem(this.form, problem);
      return;
    }
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await request("ehrs", { method: "POST", body });
      this.form.reset();
      this.syncSecretField();
      toast(`“${data.name}” is registered.`);
      await this.load();
    } catch (error) {
      showProblem(this.form, error);
    } finally {
      button.disabled = false;
    }
  }
}
