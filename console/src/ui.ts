// Small pieces every page shares: status and alert lines, error reporting, links.

import { ApiError, SignedOut } from "./api";
import { h } from "./dom";

/** A polite live region for "Saved version 3" and the like. */
export function statusLine(): HTMLElement {
  return h("p", { role: "status", class: "status" });
}

/** An assertive region for failures; empty until something fails. */
export function alertLine(): HTMLElement {
  return h("p", { role: "alert", class: "error" });
}

export function say(el: HTMLElement, text: string): void {
  el.textContent = text;
}

/** Show why a call failed; a SignedOut needs nothing, the sign-in page says it. */
export function report(el: HTMLElement, err: unknown): void {
  if (err instanceof SignedOut) return;
  if (err instanceof ApiError && err.status === 403) {
    el.textContent = `You are not allowed to do this (HTTP 403): ${err.message}`;
  } else if (err instanceof ApiError) {
    el.textContent = `${err.message} (HTTP ${err.status}, ${err.code})`;
  } else {
    el.textContent = err instanceof Error ? `Failed: ${err.message}` : "Failed.";
  }
}

export function link(href: string, text: string, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h("a", { href, ...attrs }, text);
}

export function button(text: string, onclick: () => void, attrs: Record<string, string | boolean> = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onclick }, text);
}

export function select(options: [string, string][], value = ""): HTMLSelectElement {
  const el = h("select", null, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value || (options[0]?.[0] ?? "");
  return el;
}
