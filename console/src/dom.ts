// The only way this app builds DOM: every string becomes a text node or an
// attribute value, so no data can ever be parsed as markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") {
      // Listeners, never on* attributes: the CSP forbids inline handlers anyway.
      el.addEventListener(name.replace(/^on/, ""), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replace everything inside ``el``. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let counter = 0;

/** A fresh id that ties a label to its control. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled control: the label's ``for`` names the control's id. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = uid("f");
  control.id = id;
  const parts: Child[] = [h("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("span", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, ...parts);
}

/** A landmark region named by its heading, hidden until it has something to say. */
export function region(name: string): { root: HTMLElement; body: HTMLElement } {
  const id = uid("r");
  const body = h("div", { class: "region-body" });
  const root = h(
    "section",
    { class: "region", "aria-labelledby": id, hidden: true },
    h("h2", { id }, name),
    body,
  );
  return { root, body };
}

export function show(r: { root: HTMLElement; body: HTMLElement }, ...children: Child[]): void {
  fill(r.body, ...children);
  r.root.hidden = false;
}

export function hide(r: { root: HTMLElement; body: HTMLElement }): void {
  r.body.replaceChildren();
  r.root.hidden = true;
}

/** Local date and time, to the second: what an admin reads in a history. */
export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}
