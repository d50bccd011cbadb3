// Policies: the list, filtered by kind and searched by name.

import { all } from "../api";
import { field, fill, h, when } from "../dom";
import { editorHref } from "../routes";
import type { PolicySummary } from "../types";
import { alertLine, link, report, select } from "../ui";

export function policiesPage(root: HTMLElement): void {
  const kind = select([["", "All kinds"], ["group", "group"], ["scope", "scope"], ["default", "default"]]);
  const search = h("input", { type: "search", autocomplete: "off" });
  const tbody = h("tbody");
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const alert = alertLine();
  let items: PolicySummary[] = [];

  const redraw = (): void => {
    const needle = search.value.trim().toLowerCase();
    const shown = items.filter(
      (p) => (kind.value === "" || p.kind === kind.value) && (needle === "" || p.name.toLowerCase().includes(needle)),
    );
    fill(
      tbody,
      shown.map((p) =>
        h(
          "tr",
          null,
          h("td", null, p.kind),
          h("th", { scope: "row" }, link(editorHref(p.kind, p.name), p.name)),
          h("td", { class: "num" }, p.version),
          h("td", null, p.description),
          h("td", null, when(p.updated_at)),
          h("td", null, p.updated_by),
        ),
      ),
    );
    count.textContent = `${shown.length} of ${items.length} policies`;
  };
  kind.addEventListener("change", redraw);
  search.addEventListener("input", redraw);

  fill(
    root,
    h("div", { class: "page-head" }, h("h1", null, "Policies"), link("#/policies/new", "New policy", { class: "button" })),
    h("div", { class: "filters" }, field("Kind", kind), field("Search by name", search)),
    alert,
    count,
    h(
      "table",
      { class: "list", "aria-label": "Policies" },
      h(
        "thead",
        null,
        h("tr", null, ["Kind", "Name", "Version", "Description", "Updated", "By"].map((c) => h("th", { scope: "col" }, c))),
      ),
      tbody,
    ),
  );
  all<PolicySummary>("/policies?limit=100")
    .then((found) => {
      items = found;
      redraw();
    })
    .catch((err: unknown) => report(alert, err));
}
