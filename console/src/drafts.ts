// Unsaved edits of one policy, kept in sessionStorage so that a lost session
// (an expired token, a 401) costs no work: after signing in again the editor
// offers them back. Signing out forgets them with everything else.

import type { Kind } from "./types";

const PREFIX = "authz.console.draft:";

/** The editor's three texts. */
export interface Texts {
  document: string;
  token: string;
  description: string;
}

export interface Draft {
  /** The version the edits started from (it becomes the save's If-Match), and its texts. */
  base: number | null;
  baseTexts: Texts;
  mine: Texts;
}

function key(kind: Kind, name: string): string {
  return `${PREFIX}${kind}/${name}`;
}

export function sameTexts(a: Texts, b: Texts): boolean {
  return a.document === b.document && a.token === b.token && a.description === b.description;
}

function isTexts(value: unknown): value is Texts {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["document"] === "string" && typeof v["token"] === "string" && typeof v["description"] === "string";
}

export function loadDraft(kind: Kind, name: string): Draft | null {
  const raw = sessionStorage.getItem(key(kind, name));
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    const base = value["base"];
    if ((base === null || typeof base === "number") && isTexts(value["baseTexts"]) && isTexts(value["mine"])) {
      return { base, baseTexts: value["baseTexts"], mine: value["mine"] };
    }
  } catch {
    // Not ours to read: dropped below like any other malformed entry.
  }
  sessionStorage.removeItem(key(kind, name));
  return null;
}

export function keepDraft(kind: Kind, name: string, draft: Draft): void {
  try {
    sessionStorage.setItem(key(kind, name), JSON.stringify(draft));
  } catch {
    // A full sessionStorage must not break typing; the draft is then only in the editor.
  }
}

export function dropDraft(kind: Kind, name: string): void {
  sessionStorage.removeItem(key(kind, name));
}
