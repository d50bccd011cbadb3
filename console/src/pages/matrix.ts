// The access matrix: subjects by routes, each cell a colour and a symbol.

import { ApiError, call } from "../api";
import { fill, h } from "../dom";
import type { CellValue, Matrix } from "../types";
import { alertLine, report } from "../ui";

const CELLS: Record<CellValue, { symbol: string; meaning: string }> = {
  allow: { symbol: "\u2713", meaning: "allowed" },
  deny: { symbol: "\u2717", meaning: "denied: no statement allows it" },
  "explicit-deny": { symbol: "\u2298", meaning: "denied by an explicit Deny" },
  conditional: { symbol: "\u25d0", meaning: "depends on the request (e.g. ${sub} in the path)" },
};

function cell(value: CellValue | undefined): HTMLElement {
  // A cell the API left out is unknown, not denied: saying "deny" would be a guess.
  if (value === undefined) return h("td", { class: "cell cell-unknown", title: "The admin API returned no value for this cell" }, "?");
  return h("td", { class: `cell cell-${value}` }, h("span", { "aria-hidden": "true" }, `${CELLS[value].symbol} `), value);
}

export function matrixPage(root: HTMLElement): void {
  const alert = alertLine();
  const body = h("div", { class: "matrix-body" }, h("p", { class: "muted" }, "Loading\u2026"));
  fill(
    root,
    h("h1", null, "Access matrix"),
    h("p", null, "Who may call which route, from the stored policies. Each group and scope row includes the default policy."),
    h(
      "ul",
      { class: "legend", "aria-label": "Legend" },
      (Object.keys(CELLS) as CellValue[]).map((v) => h("li", null, h("span", { class: `cell cell-${v}` }, `${CELLS[v].symbol} ${v}`), ` ${CELLS[v].meaning}`)),
    ),
    alert,
    body,
  );
  call<Matrix>("GET", "/matrix")
    .then(({ data }) => {
      fill(
        body,
        h(
          "div",
          { class: "scroll", tabindex: "0", role: "group", "aria-label": "Access matrix, scrollable" },
          h(
            "table",
            { class: "matrix", "aria-label": "Access matrix" },
            h("thead", null, h("tr", null, h("th", { scope: "col" }, "Subject"), data.routes.map((r) => h("th", { scope: "col" }, r)))),
            h(
              "tbody",
              null,
              data.subjects.map((s) =>
                h("tr", null, h("th", { scope: "row" }, s), data.routes.map((r) => cell(data.cells[s]?.[r]))),
              ),
            ),
          ),
        ),
      );
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.code === "routes_not_configured") {
        fill(
          body,
          h(
            "p",
            { class: "notice", role: "status" },
            "No routes are configured, so there is no matrix to draw. Set AUTHZ_ROUTES on the admin function " +
              "(an inline route list or a bundled OpenAPI file of the protected API).",
          ),
          h("p", { class: "muted" }, err.message),
        );
      } else {
        body.replaceChildren();
        report(alert, err);
      }
    });
}
