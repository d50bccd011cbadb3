// What the server says about sign-in (`console/config.json`, served with no token).

export interface ConsoleConfig {
  signIn: "local" | "hosted" | "none";
  tokenUse: "access" | "id";
  hosted: { domain: string; clientId: string } | null;
  localSignInPath: string | null;
}

function isConfig(value: unknown): value is ConsoleConfig {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.signIn === "local" || v.signIn === "hosted" || v.signIn === "none") &&
    (v.tokenUse === "access" || v.tokenUse === "id")
  );
}

export async function loadConfig(): Promise<ConsoleConfig> {
  // Relative: the page is `.../console`, so this is `.../console/config.json`.
  const response = await fetch("console/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`console/config.json answered ${response.status}`);
  const body: unknown = await response.json();
  if (!isConfig(body)) throw new Error("console/config.json is not a console configuration");
  return body;
}
