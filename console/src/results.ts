// What a dry run or a write reports, drawn into the editor's regions:
// problems at their JSON paths, resource warnings, and the access-matrix impact.

import type { Detail } from "./api";
import { h, region, show } from "./dom";
import type { Impact, Warning } from "./types";

export type Region = ReturnType<typeof region>;

export function showProblems(r: Region, problems: Detail[]): void {
  show(
    r,
    problems.length === 0
      ? h("p", null, "No problems.")
      : h("ul", { class: "problems" }, problems.map((p) => h("li", null, p.path ? `${p.path}: ${p.message}` : p.message))),
  );
}

export function showWarnings(r: Region, warnings: Warning[]): void {
  show(
    r,
    warnings.length === 0
      ? h("p", null, "No warnings.")
      : h(
          "ul",
          { class: "warnings" },
          warnings.map((w) => h("li", null, `${w.path}: ${w.message}`, h("br"), h("span", { class: "muted" }, `for example ${w.request}`))),
        ),
  );
}

export function showImpact(r: Region, impact: Impact[], notice: string | null): void {
  if (impact.length === 0) {
    show(r, h("p", null, notice ?? "No access-matrix cell changes."));
    return;
  }
  show(
    r,
    h(
      "table",
      { class: "list", "aria-label": "Changed access-matrix cells" },
      h("thead", null, h("tr", null, ["Subject", "Route", "Before", "After"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        impact.map((i) =>
          h(
            "tr",
            null,
            h("td", null, i.subject),
            h("td", null, i.route),
            h("td", { class: `cell cell-${i.before}` }, i.before),
            h("td", { class: `cell cell-${i.after}` }, i.after),
          ),
        ),
      ),
    ),
  );
}
