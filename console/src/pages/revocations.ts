// Revocations: the live list, revoke a user, a session or a token, and undo.

import { all, call } from "../api";
import { field, fill, h, when } from "../dom";
import type { Revocation } from "../types";
import { alertLine, button, report, say, select, statusLine } from "../ui";

export function revocationsPage(root: HTMLElement): void {
  const status = statusLine();
  const alert = alertLine();
  const kind = select([
    ["sub", "sub"],
    ["origin_jti", "origin_jti"],
    ["jti", "jti"],
  ]);
  const value = h("input", { type: "text", autocomplete: "off", required: true });
  // The admin API's limit (MAX_REASON_LENGTH in authz/revocations.py).
  const reason = h("input", { type: "text", autocomplete: "off", maxlength: "1000" });
  const tbody = h("tbody");
  const empty = h("p", { class: "muted" });

  const undo = async (r: Revocation): Promise<void> => {
    say(alert, "");
    try {
      await call("DELETE", `/revocations/${encodeURIComponent(r.id)}`);
      say(status, `Lifted ${r.id}`);
      await refresh();
    } catch (err) {
      report(alert, err);
    }
  };

  const refresh = async (): Promise<void> => {
    const items = await all<Revocation>("/revocations?limit=100");
    empty.textContent = items.length === 0 ? "No live revocations." : "";
    fill(
      tbody,
      items.map((r) =>
        h(
          "tr",
          null,
          h("th", { scope: "row" }, r.id),
          h("td", null, r.reason),
          h("td", null, r.revoked_by),
          h("td", null, when(r.revoked_at)),
          h("td", null, r.until ? when(r.until) : ""),
          h("td", null, when(r.expires_at)),
          // Visible "Undo"; the name says which, as each row has one.
          h("td", null, button("Undo", () => void undo(r), { "aria-label": `Undo ${r.id}` })),
        ),
      ),
    );
  };

  const form = h(
    "form",
    { class: "filters" },
    field("Kind", kind, "sub: every token of a user; origin_jti: one sign-in session; jti: one token"),
    field("Value", value),
    field("Reason", reason),
    h("button", { type: "submit", class: "primary" }, "Revoke"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      say(alert, "");
      const target = value.value.trim();
      if (!target) {
        say(alert, "Give the value to revoke.");
        return;
      }
      try {
        const { data } = await call<{ revocation: Revocation }>("POST", "/revocations", {
          body: { [kind.value]: target, reason: reason.value },
        });
        say(status, `Revoked ${data.revocation.id}`);
        value.value = "";
        reason.value = "";
        await refresh();
      } catch (err) {
        report(alert, err);
      }
    })();
  });

  fill(
    root,
    h("h1", null, "Revocations"),
    h("p", null, "A revoked token is refused (401) by the authorizer once the write is visible, even though it is signed and unexpired."),
    form,
    status,
    alert,
    h(
      "table",
      { class: "list", "aria-label": "Live revocations" },
      h("thead", null, h("tr", null, ["Id", "Reason", "By", "At", "Until", "Lapses", "Undo"].map((c) => h("th", { scope: "col" }, c)))),
      tbody,
    ),
    empty,
  );
  refresh().catch((err: unknown) => report(alert, err));
}
