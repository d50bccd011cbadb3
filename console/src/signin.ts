// The sign-in page: a local form in `authz dev`, Cognito's hosted UI on AWS,
// or an explanation of what to configure when neither is available.

import type { ConsoleConfig } from "./config";
import { field, fill, h } from "./dom";
import { startHostedSignIn, type Tokens } from "./pkce";

export interface SignInOptions {
  config: ConsoleConfig;
  apiBase: string;
  redirectUri: string;
  message: string | null;
  onTokens: (tokens: Tokens) => void;
}

function alertBox(text: string | null): HTMLElement {
  const box = h("p", { role: "alert", class: "error" });
  if (text) box.textContent = text;
  return box;
}

function localForm(options: SignInOptions, path: string, alert: HTMLElement): HTMLElement {
  const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "sign-in", novalidate: true }, field("Username", username), field("Password", password), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      button.disabled = true;
      alert.textContent = "";
      try {
        const response = await fetch(options.apiBase + path, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ username: username.value, password: password.value }),
          credentials: "omit",
          cache: "no-store",
        });
        if (response.status === 401) {
          alert.textContent = "Wrong username or password.";
          password.value = "";
          password.focus();
          return;
        }
        if (!response.ok) {
          alert.textContent = `Sign-in failed (HTTP ${response.status}).`;
          return;
        }
        password.value = "";
        options.onTokens((await response.json()) as Tokens);
      } catch {
        alert.textContent = "Sign-in failed: the server did not answer.";
      } finally {
        button.disabled = false;
      }
    })();
  });
  return form;
}

export function renderSignIn(root: HTMLElement, options: SignInOptions): void {
  const alert = alertBox(options.message);
  const { config } = options;
  let body: HTMLElement;
  if (config.signIn === "local" && config.localSignInPath) {
    body = localForm(options, config.localSignInPath, alert);
  } else if (config.signIn === "hosted" && config.hosted) {
    const hosted = config.hosted;
    body = h(
      "button",
      {
        type: "button",
        onclick: () => {
          startHostedSignIn(hosted, options.redirectUri, location.hash).catch(() => {
            alert.textContent = "Could not start the sign-in (this browser lacks Web Crypto).";
          });
        },
      },
      "Sign in with Cognito",
    );
  } else {
    body = h(
      "div",
      { class: "explain" },
      h("p", null, "Sign-in is not configured for this console."),
      h(
        "p",
        null,
        "Set both AUTHZ_CONSOLE_DOMAIN (the Cognito hosted UI domain, e.g. https://example.auth.eu-west-1.amazoncognito.com) " +
          "and AUTHZ_CONSOLE_CLIENT_ID (an app client with the authorization code grant and this page as its callback URL) " +
          "on the admin function; with serverless.yml, pass the consoleDomain and consoleClientId parameters.",
      ),
    );
  }
  fill(
    root,
    h("main", { class: "sign-in-page" }, h("h1", null, "Sign in"), h("p", { class: "lead" }, "authz console: manage the authorizer's policies."), alert, body),
  );
  const first = root.querySelector<HTMLElement>("input, button");
  first?.focus();
}
