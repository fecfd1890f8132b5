// The element helper both pages build their DOM with. Everything goes through createElement and
// textContent: order names, notes and replies come from the EHR and from people, so they are
// never parsed as HTML.

/**
 * Create an element: el("td", { class: "x", text: "y" }, child...). An attribute that is null,
 * undefined or false is left out, true becomes an empty attribute, a function named on* becomes
 * an event listener. Children may be nodes, text or arrays of them; null, undefined and false
 * are skipped.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
