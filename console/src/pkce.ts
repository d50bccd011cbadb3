// Cognito hosted UI sign-in: the authorization code flow with PKCE (S256).
// The verifier, the state and the page's hash route live in sessionStorage only
// for the redirect: Cognito sends the browser back to the bare redirect URI.

import type { ConsoleConfig } from "./config";

const KEY = "authz.console.pkce";

function b64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

interface Pending {
  verifier: string;
  state: string;
  hash: string;
}

// Cognito's error codes (access_denied, invalid_request...): anything else is not shown.
const ERROR_CODE = /^[a-z_]{1,40}$/;

export async function startHostedSignIn(
  hosted: NonNullable<ConsoleConfig["hosted"]>,
  redirectUri: string,
  hash: string,
): Promise<void> {
  const verifier = random();
  const state = random();
  const pending: Pending = { verifier, state, hash };
  sessionStorage.setItem(KEY, JSON.stringify(pending));
  const url = new URL("/oauth2/authorize", hosted.domain);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: hosted.clientId,
    redirect_uri: redirectUri,
    scope: "openid",
    state,
    code_challenge: await challenge(verifier),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

export interface Tokens {
  access_token: string;
  id_token: string;
  expires_in: number;
}

/** Where Cognito's logout endpoint ends the hosted UI's own session, then sends the browser back. */
export function hostedSignOutUrl(hosted: NonNullable<ConsoleConfig["hosted"]>, redirectUri: string): string {
  const url = new URL("/logout", hosted.domain);
  url.search = new URLSearchParams({ client_id: hosted.clientId, logout_uri: redirectUri }).toString();
  return url.toString();
}

function pendingOf(saved: string | null): Pending | null {
  if (saved === null) return null;
  try {
    const value = JSON.parse(saved) as Partial<Pending>;
    if (typeof value.verifier !== "string" || typeof value.state !== "string") return null;
    return { verifier: value.verifier, state: value.state, hash: typeof value.hash === "string" ? value.hash : "" };
  } catch {
    return null;
  }
}

/**
 * Finish a hosted sign-in when the page was loaded with `?code=...&state=...`;
 * null when it was not. The code leaves the address bar before anything else,
 * and the hash route the sign-in started from comes back.
 */
export async function finishHostedSignIn(
  hosted: NonNullable<ConsoleConfig["hosted"]>,
  redirectUri: string,
): Promise<Tokens | null> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const state = params.get("state");
  const error = params.get("error");
  if (code === null && error === null) return null;
  const expected = pendingOf(sessionStorage.getItem(KEY));
  sessionStorage.removeItem(KEY);
  // Only a hash route goes back into the address bar; parseRoute judges it later.
  const hash = expected?.hash.startsWith("#/") ? expected.hash : location.hash;
  history.replaceState(null, "", redirectUri + hash);
  if (error !== null) {
    // The query is anyone's to write: show a fixed sentence, and the code only when it looks like one.
    const code = ERROR_CODE.test(error) ? ` (${error})` : "";
    throw new Error(`Sign-in was cancelled or refused by Cognito${code}.`);
  }
  if (expected === null || state !== expected.state) {
    throw new Error("The sign-in answer does not belong to this tab (state mismatch). Sign in again.");
  }
  const response = await fetch(new URL("/oauth2/token", hosted.domain).toString(), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: hosted.clientId,
      code: code ?? "",
      redirect_uri: redirectUri,
      code_verifier: expected.verifier,
    }).toString(),
    credentials: "omit",
  }).catch(() => {
    throw new Error("The sign-in service did not answer the token exchange. Sign in again.");
  });
  if (!response.ok) throw new Error(`The token exchange failed (HTTP ${response.status}). Sign in again.`);
  return (await response.json()) as Tokens;
}
