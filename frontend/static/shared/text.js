// Codes and counts in words, the same on the in-EHR page and the dashboard.

/** snake_case or kebab-case codes as words: "action_taken" reads "Action taken". */
export function words(code) {
  const text = String(code).replaceAll("_", " ").replaceAll("-", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "1 flag", "3 flags"; `many` for plurals that are not just an added s. */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
