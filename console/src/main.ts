// The console's entry: load the sign-in configuration, finish a hosted
// sign-in if one is returning, then route between sign-in and the pages.

import { configureApi } from "./api";
import { loadConfig, type ConsoleConfig } from "./config";
import { fill, h } from "./dom";
import { editorPage } from "./pages/editor";
import { historyPage } from "./pages/history";
import { matrixPage } from "./pages/matrix";
import { policiesPage } from "./pages/policies";
import { revocationsPage } from "./pages/revocations";
import { simulatorPage } from "./pages/simulator";
import { finishHostedSignIn, hostedSignOutUrl, type Tokens } from "./pkce";
import { apiBase, pageUrl } from "./paths";
import { parseRoute, type Route } from "./routes";
import { active, clear, forgetAll, save, sessionFor, takeExpired, type Session } from "./session";
import { renderSignIn } from "./signin";
import { button } from "./ui";

const NAV: [string, string, Route["page"][]][] = [
  ["#/policies", "Policies", ["policies", "new", "editor", "history"]],
  ["#/simulator", "Simulator", ["simulator"]],
  ["#/matrix", "Access matrix", ["matrix"]],
  ["#/revocations", "Revocations", ["revocations"]],
];

const app = document.getElementById("app") ?? document.body;
const redirectUri = pageUrl(location.href);
let config: ConsoleConfig;
let signInMessage: string | null = null;
let shell: { main: HTMLElement; links: HTMLAnchorElement[]; user: string } | null = null;

function showSignIn(message: string | null): void {
  shell = null;
  renderSignIn(app, {
    config,
    apiBase: apiBase(location.href),
    redirectUri,
    message,
    onTokens: signedIn,
  });
}

function keep(tokens: Tokens): void {
  const token = config.tokenUse === "id" ? tokens.id_token : tokens.access_token;
  save(sessionFor(token, tokens.expires_in));
  if (parseRoute(location.hash) === null || location.hash === "") history.replaceState(null, "", "#/policies");
}

function signedIn(tokens: Tokens): void {
  keep(tokens);
  render();
}

function signOut(): void {
  forgetAll();
  signInMessage = "You have signed out.";
  render();
  // The hosted UI keeps a session of its own; without ending it, "Sign in with
  // Cognito" would sign the same user straight back in.
  if (config.signIn === "hosted" && config.hosted) location.assign(hostedSignOutUrl(config.hosted, redirectUri));
}

function buildShell(session: Session): NonNullable<typeof shell> {
  const links = NAV.map(([href, text]) => h("a", { href }, text));
  const main = h("main", { id: "main" });
  fill(
    app,
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "authz console"),
      h("nav", { "aria-label": "Console" }, h("ul", null, links.map((a) => h("li", null, a)))),
      h("span", { class: "who" }, `Signed in as ${session.username}`),
      button("Sign out", signOut),
    ),
    main,
  );
  // The skip link would otherwise change the hash route.
  app.querySelector("a.skip")?.addEventListener("click", (event) => {
    event.preventDefault();
    const heading = main.querySelector<HTMLElement>("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  });
  return { main, links, user: session.username };
}

function page(route: Route, main: HTMLElement): void {
  switch (route.page) {
    case "policies":
      return policiesPage(main);
    case "new":
      return editorPage(main, null);
    case "editor":
      return editorPage(main, { kind: route.kind, name: route.name });
    case "history":
      return historyPage(main, route.kind, route.name);
    case "simulator":
      return simulatorPage(main);
    case "matrix":
      return matrixPage(main);
    case "revocations":
      return revocationsPage(main);
  }
}

function render(moved = false): void {
  const session = active();
  if (session === null) {
    const message = takeExpired() ? "Your session has expired. Sign in again." : signInMessage;
    signInMessage = null;
    showSignIn(message);
    return;
  }
  if (shell === null || shell.user !== session.username) shell = buildShell(session);
  const route = parseRoute(location.hash);
  if (route === null) {
    history.replaceState(null, "", "#/policies");
    render();
    return;
  }
  // A fresh container per visit: a late answer for the previous page lands nowhere visible.
  const container = h("div", { class: "page" });
  shell.main.replaceChildren(container);
  for (const [i, a] of shell.links.entries()) {
    if (NAV[i]?.[2].includes(route.page)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  page(route, container);
  if (moved) {
    // Tell screen readers the page changed, as a full page load would.
    const heading = container.querySelector<HTMLElement>("h1");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus({ preventScroll: true });
  }
}

function authLost(message: string): void {
  clear();
  signInMessage = message;
  render();
}

async function boot(): Promise<void> {
  try {
    config = await loadConfig();
  } catch (err) {
    fill(app, h("main", null, h("h1", null, "authz console"), h("p", { role: "alert" }, `The console cannot start: ${err instanceof Error ? err.message : String(err)}`)));
    return;
  }
  configureApi(apiBase(location.href), authLost);
  if (config.signIn === "hosted" && config.hosted) {
    try {
      const tokens = await finishHostedSignIn(config.hosted, redirectUri);
      if (tokens !== null) keep(tokens);
    } catch (err) {
      signInMessage = err instanceof Error ? err.message : String(err);
    }
  }
  window.addEventListener("hashchange", () => {
    if (active() !== null || shell !== null) render(true);
  });
  render();
}

void boot();
