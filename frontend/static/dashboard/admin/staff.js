// The staff directory: everyone who can own or work flags, with their role and whether they are
// active; add a person, change a role, deactivate or reactivate. People are never deleted (their
// names stay on the flags they worked), so "remove" is deactivate.
//
// The server checks every change again (admin only, unique email) and its problem details are
// shown as they come: next to the field for the add form, above the table for a row's action.

import { el } from "../../shared/el.js";
import { get, query, request } from "../api.js";
import { toast } from "../common.js";
import {
  clearProblem, confirmAction, fieldError, setState, showProblem, table,
} from "./ui.js";

const ROLES = [["lead", "Lead"], ["analyst", "Analyst"], ["admin", "Admin"]];
const ROLE_WORDS = Object.fromEntries(ROLES);
const PAGE = 200;

export class StaffSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.moreBox = section.querySelector('[data-slot="more"]');
    this.status = section.querySelector('[data-slot="status"]');
    this.rowProblem = section.querySelector('[data-slot="row-problem"]');
    this.form = section.querySelector("#add-staff");
    this.people = [];
    this.nextCursor = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    this.moreBox.querySelector("button").addEventListener("click", () => this.loadMore());
  }

  async load() {
    try {
      const page = await get(`staff${query({ limit: PAGE })}`);
      this.people = page.items;
      this.nextCursor = page.next_cursor;
      this.render();
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The staff directory could not be loaded: ${error.message}`, { error: true });
    }
  }

  async loadMore() {
    try {
      const page = await get(`staff${query({ limit: PAGE, cursor: this.nextCursor })}`);
      const first = this.people.length;
      this.people.push(...page.items);
      this.nextCursor = page.next_cursor;
      this.render();
      // Continue where the new people start, not back at the top of the table.
      this.tableBox.querySelectorAll("tbody th")[first]?.querySelector("[tabindex]")?.focus();
      this.status.textContent = `${page.items.length} more shown.`;
    } catch (error) {
      this.showRowProblem("More people could not be loaded", error);
    }
  }

  render() {
    this.moreBox.hidden = !this.nextCursor;
    if (this.people.length === 0) {
      this.tableBox.hidden = true;
      setState(this.section, "Nobody is in the directory yet. Add a person below.");
      return;
    }
    setState(this.section, "");
    this.tableBox.replaceChildren(table({
      caption: "Staff directory",
      rows: this.people,
      rowAttributes: (person) => ({ "data-staff-id": person.id, class: person.active ? null : "revoked" }),
      columns: [
        { header: "Name", rowHeader: true, class: "wrap", cell: (person) => el("span", { tabindex: "-1", text: person.name }) },
        { header: "Email", class: "wrap", cell: (person) => person.email },
        { header: "Role", cell: (person) => this.roleControl(person) },
        // Words, not colour, say whether someone is active.
        { header: "Status", cell: (person) => (person.active ? "Active" : "Inactive") },
        { header: "Actions", cell: (person) => this.activeButton(person) },
      ],
    }));
    this.tableBox.hidden = false;
  }

  /** A role select and its own button: arrowing through a select must not save each step. */
  roleControl(person) {
    const select = el("select", { "aria-label": `Role of ${person.name}`, "data-slot": "role" },
      ROLES.map(([value, text]) => el("option", { value, text, selected: value === person.role })));
    const button = el("button", {
      type: "button",
      "aria-label": `Change role of ${person.name}`,
      "data-action": "role",
      disabled: true,
      onclick: () => this.change(person, { role: select.value }, `${person.name} is now ${ROLE_WORDS[select.value]}.`),
    }, "Change");
    select.addEventListener("change", () => { button.disabled = select.value === person.role; });
    return el("div", { class: "role-control" }, select, button);
  }

  activeButton(person) {
    return person.active
      ? el("button", {
        type: "button", class: "danger", "data-action": "active",
        "aria-label": `Deactivate ${person.name}`, onclick: () => this.deactivate(person),
      }, "Deactivate")
      : el("button", {
        type: "button", "data-action": "active",
        "aria-label": `Reactivate ${person.name}`,
        onclick: () => this.change(person, { active: true }, `${person.name} is active again.`),
      }, "Reactivate");
  }

  async deactivate(person) {
    const confirmed = await confirmAction({
      title: `Deactivate ${person.name}?`,
      body: `${person.name} can no longer sign in, their sessions and tokens stop working, and they are no longer offered as an owner. The flags they worked keep their name. You can reactivate them later.`,
      confirmLabel: "Deactivate",
    });
    if (confirmed) await this.change(person, { active: false }, `${person.name} deactivated.`);
  }

  /** PATCH one person; the row is redrawn from the server's answer and keeps the focus. */
  async change(person, body, done) {
    this.rowProblem.hidden = true;
    const focusedAction = document.activeElement?.dataset?.action;
    try {
      const { data } = await request(`staff/${encodeURIComponent(person.id)}`, { method: "PATCH", body });
      this.people = this.people.map((someone) => (someone.id === data.id ? data : someone));
      this.render();
      this.status.textContent = done;
      toast(done);
    } catch (error) {
      this.render(); // a refused role change shows the role the person still has
      this.showRowProblem(`${person.name} was not changed`, error);
    }
    const row = this.tableBox.querySelector(`tr[data-staff-id="${CSS.escape(person.id)}"]`);
    if (this.rowProblem.hidden && row) {
      const control = focusedAction === "role" ? row.querySelector('[data-slot="role"]')
        : row.querySelector(`[data-action="${focusedAction}"]`);
      (control || row.querySelector("[tabindex]")).focus();
    }
  }

  showRowProblem(what, error) {
    const title = error.problem?.title ? `${error.problem.title}: ` : "";
    this.rowProblem.replaceChildren(el("p", {}, el("strong", { text: `${what}. ` }), title, error.message));
    this.rowProblem.hidden = false;
    this.rowProblem.focus();
  }

  async add() {
    clearProblem(this.form);
    const name = this.form.elements.name.value.trim();
    const email = this.form.elements.email.value.trim();
    if (!name) {
      showProblem(this.form, fieldError("name", "Give the person's name."));
      return;
    }
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      showProblem(this.form, fieldError("email", "Give an email address, like name@example.org."));
      return;
    }
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await request("staff", {
        method: "POST",
        body: { name, email, role: this.form.elements.role.value },
      });
      this.form.reset();
      this.status.textContent = `${data.name} added as ${ROLE_WORDS[data.role] || data.role}.`;
      toast(this.status.textContent);
      await this.load();
      this.form.elements.name.focus();
    } catch (error) {
      // The server quotes the address as it stores it (lower-case): say which field it means.
      if (String(error.problem?.type || "").endsWith(":staff-email-taken")) error.problem.field = "email";
      showProblem(this.form, error);
    } finally {
      button.disabled = false;
    }
  }
}
