// The in-EHR page's live-region announcements and its dates (elements come from
// ../shared/el.js).

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
