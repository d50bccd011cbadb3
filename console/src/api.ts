// Every data call of the console: same origin, a bearer token, JSON both ways.
// A 401 ends the session (the caller is sent back to sign-in), and so does a
// 403 on a token the API never accepted (a sign-in that is not an admin's). A
// later 403 refuses one call only; it and any other failure is an ApiError
// carrying the admin API's own code and details.

import { active, clear, markVerified } from "./session";

export interface Detail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Detail[] = [],
  ) {
    super(message);
  }
}

/** Thrown when the session ended mid-call: the sign-in page is already showing. */
export class SignedOut extends Error {}

export interface Answer<T> {
  status: number;
  data: T;
  headers: Headers;
}

let base = "";
let onAuthLost: (message: string) => void = () => undefined;

export function configureApi(apiBase: string, authLost: (message: string) => void): void {
  base = apiBase;
  onAuthLost = authLost;
}

function errorOf(status: number, body: unknown): ApiError {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const e = b["error"];
  if (typeof e === "object" && e !== null) {
    const err = e as Record<string, unknown>;
    const details = Array.isArray(err["details"]) ? (err["details"] as Detail[]) : [];
    return new ApiError(status, String(err["code"] ?? "error"), String(err["message"] ?? ""), details);
  }
  // API Gateway's own answers carry only {"message": ...}.
  const message = typeof b["message"] === "string" ? b["message"] : `HTTP ${status}`;
  return new ApiError(status, "gateway", message);
}

export async function call<T>(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const session = active();
  if (session === null) {
    onAuthLost("Your session has ended. Sign in again.");
    throw new SignedOut();
  }
  const headers: Record<string, string> = {
    Accept: "application/json",
    Authorization: `Bearer ${session.token}`,
    ...options.headers,
  };
  const init: RequestInit = { method, headers, cache: "no-store", credentials: "omit" };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.slice(0, 200) };
    }
  }
  if (response.status === 401 || (response.status === 403 && !session.verified)) {
    clear();
    onAuthLost(
      response.status === 401
        ? "The admin API did not accept your sign-in (401). Sign in again."
        : "This account may not use the admin API (403). Sign in as a member of the admin group.",
    );
    throw new SignedOut();
  }
  // Any other answer of the API itself (a 404, a 412...) got past its admin gate too.
  if (response.status < 500) markVerified();
  if (!response.ok) throw errorOf(response.status, data);
  return { status: response.status, data: data as T, headers: response.headers };
}

/** Every item of a paged list (`{items, next}`), following the cursor. */
export async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const url: string = next === null ? path : `${path}${sep}next=${encodeURIComponent(next)}`;
    const page: Answer<{ items: T[]; next: string | null }> = await call("GET", url);
    items.push(...page.data.items);
    next = page.data.next;
  } while (next !== null);
  return items;
}
