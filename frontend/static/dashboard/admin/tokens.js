// API tokens: list, create (the secret is shown once) and revoke.
//
// The secret exists in the page only between "Create" and "I have stored it": it is never put
// in a toast, the URL or storage, and dismissing the box empties the field that held it.

import { el } from "../../shared/el.js";
import { get, request } from "../api.js";
import { toast } from "../common.js";
import {
  clearProblem, confirmAction, fieldError, setState, showProblem, table,
} from "./ui.js";

const ROLE_WORDS = { lead: "Lead", analyst: "Analyst", admin: "Admin" };

export class TokensSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.form = section.querySelector("#create-token");
    this.secretBox = section.querySelector("#new-token");
    this.secretInput = section.querySelector("#new-token-secret");
    this.copyStatus = section.querySelector("#copy-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    section.querySelector("#copy-token").addEventListener("click", () => this.copy());
    section.querySelector("#dismiss-token").addEventListener("click", () => this.dismissSecret());
  }

  async load() {
    try {
      this.render(await get("tokens"));
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The tokens could not be loaded: ${error.message}`, { error: true });
    }
  }

  render(tokens) {
    if (tokens.length === 0) {
      this.tableBox.hidden = true;
      setState(this.section, "No tokens yet. Create one below.");
      return;
    }
    setState(this.section, "");
    this.tableBox.replaceChildren(table({
      caption: "API tokens",
      rows: tokens,
      rowAttributes: (token) => ({ "data-token-id": token.id, class: token.revoked_at ? "revoked" : null }),
      columns: [
        { header: "Name", rowHeader: true, cell: (token) => token.name },
        { header: "Role", cell: (token) => ROLE_WORDS[token.role] || token.role },
        { header: "Prefix", cell: (token) => el("code", { text: `${token.token_prefix}…` }) },
        { header: "Created", cell: (token) => timeOf(token.created_at) },
        { header: "Created by", cell: (token) => token.created_by },
        // Words, not colour, say whether a token still works.
        {
          header: "Status",
          cell: (token) => (token.revoked_at
            ? el("span", { class: "status-revoked" }, "Revoked ", timeOf(token.revoked_at))
            : "Active"),
        },
        { header: "Actions", cell: (token) => (token.revoked_at ? "—" : this.revokeButton(token)) },
      ],
    }));
    this.tableBox.hidden = false;
  }

  revokeButton(token) {
    return el("button", {
      type: "button",
      class: "danger",
      "aria-label": `Revoke ${token.name}`,
      onclick: () => this.revoke(token),
    }, "Revoke");
  }

  async revoke(token) {
    const confirmed = await confirmAction({
      title: `Revoke “${token.name}”?`,
      body: `Every script and person using the ${ROLE_WORDS[token.role] || token.role} token ${token.token_prefix}… loses access at once, including sessions signed in with it. This cannot be undone.`,
      confirmLabel: "Revoke token",
    });
    if (!confirmed) return;
    try {
      await request(`tokens/${encodeURIComponent(token.id)}`, { method: "DELETE" });
      toast(`Token “${token.name}” revoked.`);
      // A secret still on screen for this token is now worthless: take it away.
      if (this.shownId === token.id) this.dismissSecret({ refocus: false });
    } catch (error) {
      toast(`The token could not be revoked: ${error.message}`);
    }
    await this.load();
    // The button that had focus is gone with the old table: continue from the section heading.
    this.section.querySelector("h2").focus();
  }

  async create() {
    clearProblem(this.form);
    const name = this.form.elements.name.value.trim();
    if (!name) {
      showProblem(this.form, fieldError("name", "Give the token a name."));
      return;
    }
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await request("tokens", {
        method: "POST",
        body: { name, role: this.form.elements.role.value },
      });
      this.form.reset();
      this.showSecret(data);
      await this.load();
    } catch (error) {
      showProblem(this.form, error);
    } finally {
      button.disabled = false;
    }
  }

  showSecret(issued) {
    this.secretBox.querySelector('[data-slot="name"]').textContent =
      `“${issued.name}” (${ROLE_WORDS[issued.role] || issued.role})`;
    this.secretInput.value = issued.token;
    this.shownId = issued.id;
    this.copyStatus.textContent = "";
    this.secretBox.hidden = false;
    this.secretBox.querySelector("h3").focus();
  }

  /** Clipboard API first; where it is refused, select the text so Ctrl+C / ⌘C copies it. */
  async copy() {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(this.secretInput.value);
      this.copyStatus.textContent = "Copied to the clipboard.";
    } catch {
      this.secretInput.focus();
      this.secretInput.select();
      this.copyStatus.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
    }
  }

  dismissSecret({ refocus = true } = {}) {
    this.secretInput.value = "";
    this.shownId = null;
    this.copyStatus.textContent = "";
    this.secretBox.hidden = true;
    if (refocus) this.form.elements.name.focus();
  }
}

/** A timestamp in the reader's own time zone, written en-US like the Insights page's dates. */
function formatTimestamp(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-US", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

function timeOf(iso) {
  return el("time", { datetime: iso, text: formatTimestamp(iso) });
}
