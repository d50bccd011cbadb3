// A side-by-side line diff as a table: left and right columns, each labelled.

import { diffLines } from "diff";
import { h } from "./dom";

interface Row {
  left: string | null;
  right: string | null;
  kind: "same" | "changed" | "removed" | "added";
}

function lines(value: string): string[] {
  const out = value.split("\n");
  if (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
}

/** Pair the removed and added lines of each change, so edits sit side by side. */
export function diffRows(before: string, after: string): Row[] {
  const rows: Row[] = [];
  let removed: string[] = [];
  const flush = (added: string[]): void => {
    const n = Math.max(removed.length, added.length);
    for (let i = 0; i < n; i += 1) {
      const left = removed[i] ?? null;
      const right = added[i] ?? null;
      rows.push({ left, right, kind: left === null ? "added" : right === null ? "removed" : "changed" });
    }
    removed = [];
  };
  for (const part of diffLines(before, after)) {
    if (part.removed) {
      flush([]);
      removed = lines(part.value);
    } else if (part.added) {
      flush(lines(part.value));
    } else {
      flush([]);
      for (const line of lines(part.value)) rows.push({ left: line, right: line, kind: "same" });
    }
  }
  flush([]);
  return rows;
}

const MARK = { same: ["", ""], changed: ["-", "+"], removed: ["-", ""], added: ["", "+"] } as const;

export function diffTable(leftLabel: string, rightLabel: string, before: string, after: string): HTMLElement {
  const rows = diffRows(before, after);
  const same = rows.every((r) => r.kind === "same");
  return h(
    "div",
    { class: "diff-wrap" },
    same ? h("p", null, "No differences.") : null,
    h(
      "table",
      { class: "diff", "aria-label": `${leftLabel} compared with ${rightLabel}` },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, leftLabel), h("th", { scope: "col" }, rightLabel))),
      h(
        "tbody",
        null,
        rows.map((row) =>
          h(
            "tr",
            { class: `d-${row.kind}` },
            h("td", { class: row.left === null ? "d-empty" : "" }, h("span", { class: "d-mark", "aria-hidden": "true" }, MARK[row.kind][0]), row.left ?? ""),
            h("td", { class: row.right === null ? "d-empty" : "" }, h("span", { class: "d-mark", "aria-hidden": "true" }, MARK[row.kind][1]), row.right ?? ""),
          ),
        ),
      ),
    ),
  );
}
