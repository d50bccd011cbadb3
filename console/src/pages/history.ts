// A policy's history: every entry, a side-by-side diff between any two
// versions, and "restore this version" as a conditional PUT.

import { ApiError, all, call } from "../api";
import { diffTable } from "../diff";
import { field, fill, h, region, show, when } from "../dom";
import { editorHref, policyPath, takeFlash } from "../routes";
import { pretty, type HistoryItem, type Kind, type Policy, type WriteOut } from "../types";
import { alertLine, button, link, report, say, statusLine } from "../ui";

/** What a diff compares: the document, then the token settings when either side has some. */
function entryText(entry: HistoryItem, withToken: boolean): string {
  const doc = pretty(entry.document);
  return withToken ? `${doc}\n\ntoken settings:\n${entry.token ? pretty(entry.token) : "(none)"}` : doc;
}

export function historyPage(root: HTMLElement, kind: Kind, name: string): void {
  const status = statusLine();
  const alert = alertLine();
  const tbody = h("tbody");
  const older = h("select");
  const newer = h("select");
  const diff = region("Diff");
  let entries: HistoryItem[] = [];
  let current: number | null = null;

  const byVersion = (v: string): HistoryItem | undefined => entries.find((e) => String(e.version) === v);

  const compare = (): void => {
    const a = byVersion(older.value);
    const b = byVersion(newer.value);
    if (!a || !b) return;
    const withToken = a.token !== null || b.token !== null;
    show(diff, diffTable(`Version ${a.version}`, `Version ${b.version}`, entryText(a, withToken), entryText(b, withToken)));
  };

  const restore = async (entry: HistoryItem): Promise<void> => {
    say(alert, "");
    const headers: Record<string, string> = current === null ? { "If-None-Match": "*" } : { "If-Match": `"${current}"` };
    const body: Record<string, unknown> = { document: entry.document, description: entry.description };
    if (kind === "group") body["token"] = entry.token;
    try {
      const { data } = await call<WriteOut>("PUT", policyPath(kind, name), { body, headers });
      await refresh(`Restored version ${entry.version} as version ${data.version}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 412 || err.code === "already_exists")) {
        await refresh("");
        say(alert, "The policy changed meanwhile; the history is reloaded. Restore again if you still want to.");
      } else if (err instanceof ApiError && err.code === "would_lock_out") {
        say(alert, `Version ${entry.version} was not restored: it would lock the admins out of the admin API (${err.message}).`);
      } else report(alert, err);
    }
  };

  const draw = (): void => {
    const options = entries.map((e) => h("option", { value: String(e.version) }, `Version ${e.version}`));
    fill(older, options.map((o) => o.cloneNode(true)));
    fill(newer, options);
    newer.value = String(entries[0]?.version ?? "");
    older.value = String(entries[1]?.version ?? entries[0]?.version ?? "");
    fill(
      tbody,
      entries.map((e, i) => {
        const previous = entries[i + 1];
        return h(
          "tr",
          null,
          h("th", { scope: "row", class: "num" }, e.version),
          h("td", null, when(e.at)),
          h("td", null, e.by),
          h("td", null, e.forced ? `${e.action} (forced)` : e.action),
          h("td", null, e.description),
          h(
            "td",
            { class: "row-actions" },
            previous
              ? button(`Compare with previous (version ${e.version})`, () => {
                  older.value = String(previous.version);
                  newer.value = String(e.version);
                  compare();
                })
              : null,
            e.action !== "delete" && e.version !== current ? button(`Restore version ${e.version}`, () => void restore(e)) : null,
          ),
        );
      }),
    );
  };

  const refresh = async (message: string): Promise<void> => {
    const [items, policy] = await Promise.all([
      all<HistoryItem>(`${policyPath(kind, name)}/history?limit=100`),
      call<Policy>("GET", policyPath(kind, name)).then(
        (r) => r.data,
        (err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        },
      ),
    ]);
    entries = items;
    current = policy?.version ?? null;
    draw();
    if (message) say(status, message);
  };

  fill(
    root,
    h("div", { class: "page-head" }, h("h1", null, `History of ${kind} ${name}`), link(editorHref(kind, name), "Open in editor")),
    status,
    alert,
    h(
      "table",
      { class: "list", "aria-label": "History" },
      h("thead", null, h("tr", null, ["Version", "Time", "Actor", "Action", "Description", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
      tbody,
    ),
    h("div", { class: "filters" }, field("Older version", older), field("Newer version", newer), button("Compare", compare)),
    diff.root,
  );
  const flash = takeFlash();
  refresh(flash ?? "").catch((err: unknown) => report(alert, err));
}
