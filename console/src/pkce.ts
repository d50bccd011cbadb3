// Cognito hosted UI sign-in: the authorization code flow with PKCE (S256).
// The verifier and state live in sessionStorage only for the redirect.

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

export async function startHostedSignIn(hosted: NonNullable<ConsoleConfig["hosted"]>, redirectUri: string): Promise<void> {
  const verifier = random();
  const state = random();
  sessionStorage.setItem(KEY, JSON.stringify({ verifier, state }));
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

/**
 * Finish a hosted sign-in when the page was loaded with `?code=...&state=...`;
 * null when it was not. The code leaves the address bar before anything else.
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
  history.replaceState(null, "", redirectUri + location.hash);
  const saved = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (error !== null) throw new Error(`The hosted sign-in failed: ${error}`);
  const expected = saved === null ? null : (JSON.parse(saved) as { verifier: string; state: string });
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
