// The console's hash routes, parsed and built in one place.

import type { Kind } from "./types";

export type Route =
  | { page: "policies" }
  | { page: "new" }
  | { page: "editor"; kind: Kind; name: string }
  | { page: "history"; kind: Kind; name: string }
  | { page: "simulator" }
  | { page: "matrix" }
  | { page: "revocations" };

const KINDS: readonly string[] = ["group", "scope", "default"];

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route | null {
  const parts = hash.replace(/^#\/?/, "").split("/");
  const [first, kind, rawName, ...rest] = parts;
  if (rest.length > 0) return null;
  if (kind === undefined) {
    if (first === "" || first === "policies") return { page: "policies" };
    if (first === "simulator" || first === "matrix" || first === "revocations") return { page: first };
    return null;
  }
  if (first === "policies" && kind === "new" && rawName === undefined) return { page: "new" };
  if ((first === "policies" || first === "history") && rawName !== undefined && KINDS.includes(kind)) {
    const name = decode(rawName);
    if (name === null || name === "") return null;
    return { page: first === "policies" ? "editor" : "history", kind: kind as Kind, name };
  }
  return null;
}

export function editorHref(kind: string, name: string): string {
  return `#/policies/${kind}/${encodeURIComponent(name)}`;
}

export function historyHref(kind: string, name: string): string {
  return `#/history/${kind}/${encodeURIComponent(name)}`;
}

/** The admin API path of one policy. */
export function policyPath(kind: string, name: string): string {
  return `/policies/${kind}/${encodeURIComponent(name)}`;
}

let flash: string | null = null;

/** Go to ``hash``; the next page shows ``message`` in its status line. */
export function navigate(hash: string, message: string | null = null): void {
  flash = message;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}

export function takeFlash(): string | null {
  const message = flash;
  flash = null;
  return message;
}
