// Token sign-in: the token goes to POST /api/v1/session once and lives nowhere in the page; the
// session that comes back is an HttpOnly cookie this script cannot read. A refused token stays
// in the field (to correct a typo) and the reason is announced next to it.
import { ApiError } from "../../shared/http.js";
import { request } from "../api.js";

const form = document.getElementById("token-sign-in");
const input = document.getElementById("token");
const error = document.getElementById("token-error");

function showError(message) {
  // The alert region stays in the page (empty when there is nothing to say), so changing its
  // text is announced by screen readers.
  error.textContent = message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  input.select();
}

function clearError() {
  error.textContent = "";
  input.removeAttribute("aria-invalid");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const token = input.value.trim();
  if (!token) {
    showError("Enter your API token.");
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    await request("session", { method: "POST", body: { token }, signedIn: false });
    input.value = "";
    location.assign(form.dataset.next || "/dashboard/queue");
  } catch (exc) {
    showError(exc instanceof ApiError && exc.status !== 0
      ? exc.message : "ValueLoop could not be reached. Try again.");
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
});
input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
input.focus();
