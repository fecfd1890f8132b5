// Token sign-in: the token goes to POST /api/v1/session once and lives nowhere in the page; the
// session that comes back is an HttpOnly cookie this script cannot read.
import { ApiError } from "../../shared/http.js";
import { request } from "../api.js";

const form = document.getElementById("token-sign-in");
const input = document.getElementById("token");
const error = document.getElementById("token-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const token = input.value.trim();
  if (!token) {
    error.textContent = "Enter your API token.";
    error.hidden = false;
    input.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await request("session", { method: "POST", body: { token } });
    input.value = "";
    location.assign(form.dataset.next || "/dashboard/queue");
  } catch (exc) {
    error.textContent = exc instanceof ApiError && exc.status !== 0
      ? exc.message : "ValueLoop could not be reached. Try again.";
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } finally {
    button.disabled = false;
  }
});
input.focus();
