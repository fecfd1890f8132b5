// Tiny DOM helpers. Everything is built with createElement/textContent: order names and
// replies come from the EHR and from people, so they are never parsed as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

const live = () => document.querySelector('[data-testid="status"]');

/** Say something through the polite live region (screen readers announce it once). */
export function announce(message) {
  const region = live();
  if (!region) return;
  // Clearing first makes repeating the same message announce again.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

export function formatDate(value) {
  if (!value) return "No date";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "No date";
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

/** FHIR status codes in words a clinician reads at a glance. */
export function words(code) {
  if (!code) return "Unknown";
  const text = code.replaceAll("_", " ").replaceAll("-", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
