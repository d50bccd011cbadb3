// The signed-in session: in memory, mirrored to sessionStorage so a reload
// keeps it for this tab only. Never localStorage, never a URL, never a log.
// Losing the session (expiry, a 401) drops the token only, so unsaved drafts
// survive a sign-in again; signing out forgets everything the tab kept.

const KEY = "authz.console.session";
// Treat a token as expired a little early, so a request never races its expiry.
const SKEW_MS = 30_000;

export interface Session {
  token: string;
  username: string;
  expiresAt: number;
  /** Whether the admin API has accepted this token once: a 403 before that means "not an admin". */
  verified?: boolean;
}

let current: Session | null = null;
let expired = false;

function claims(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A session for ``token``; the claims are read for display only (the API verifies). */
export function sessionFor(token: string, expiresIn: number, now = Date.now()): Session {
  const c = claims(token);
  const name = c["username"] ?? c["cognito:username"] ?? c["sub"];
  const exp = typeof c["exp"] === "number" ? c["exp"] * 1000 : Number.POSITIVE_INFINITY;
  return {
    token,
    username: typeof name === "string" ? name : "unknown user",
    expiresAt: Math.min(now + expiresIn * 1000, exp),
  };
}

export function save(session: Session): void {
  current = session;
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

/** The live session, or null when there is none or it has expired. */
export function active(now = Date.now()): Session | null {
  if (current === null) {
    const raw = sessionStorage.getItem(KEY);
    if (raw !== null) {
      try {
        current = JSON.parse(raw) as Session;
      } catch {
        sessionStorage.removeItem(KEY);
      }
    }
  }
  if (current !== null && current.expiresAt - SKEW_MS <= now) {
    clear();
    expired = true;
  }
  return current;
}

/** Whether the last session ended by expiring (asked once: the sign-in page says so). */
export function takeExpired(): boolean {
  const was = expired;
  expired = false;
  return was;
}

/** The admin API accepted the token: from now on a 403 is about one call, not the sign-in. */
export function markVerified(): void {
  if (current === null || current.verified) return;
  save({ ...current, verified: true });
}

/** Drop the token (it expired or was refused); drafts stay for the next sign-in. */
export function clear(): void {
  current = null;
  sessionStorage.removeItem(KEY);
}

/** Sign-out: forget the token and everything else this tab kept. */
export function forgetAll(): void {
  current = null;
  sessionStorage.clear();
}
