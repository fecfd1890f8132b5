// Single-key shortcuts for working through the queue, and the dialogs they open.
// A shortcut must never eat a keystroke meant for a field, a control or an open dialog, so they
// are ignored while typing, with modifier keys, and while a dialog is open (the dialog handles
// its own keys; Esc closes it natively).

// Input types where letters are text, not commands. Checkboxes and radios are not among them:
// x after Tab-ing onto a checkbox should still work.
const TEXT_INPUTS = new Set([
  "text", "search", "email", "number", "password", "tel", "url", "date", "month", "week", "time",
  "datetime-local",
]);

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.matches("textarea, select")) return true;
  return target.matches("input") && TEXT_INPUTS.has(target.type);
}

/**
 * bindings: { key: handler }. Keys are KeyboardEvent.key values ("j", "?", "Enter").
 * Enter is only a shortcut where it would otherwise do nothing: on a link or button it keeps
 * its own meaning.
 */
export function installShortcuts(bindings) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    if (event.key === "Enter" && event.target instanceof Element &&
      event.target.closest("a, button, input, summary, [role='button']")) return;
    const handler = bindings[event.key];
    if (!handler) return;
    event.preventDefault();
    handler(event);
  });
}

/**
 * Open a <dialog> modally and give focus back to where it was when it closes, whichever way
 * it closes (a button, Esc, or code).
 */
export function openDialog(dialog, focusTarget) {
  const opener = document.activeElement;
  dialog.addEventListener(
    "close",
    () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    { once: true },
  );
  dialog.showModal();
  if (focusTarget) focusTarget.focus();
}
