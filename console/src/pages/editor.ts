// The policy editor: the document and token settings in CodeMirror, a dry
// run ("Check"), and conditional saves that surface every answer the API gives:
// problems at their paths (400), a conflict with a diff (412), a lock-out (409).

import { ApiError, call, type Detail } from "../api";
import { diffTable } from "../diff";
import { field, h, hide, region, show, fill, when } from "../dom";
import { jsonEditor, type JsonEditor } from "../editor";
import { showImpact, showProblems, showWarnings } from "../results";
import { editorHref, historyHref, navigate, policyPath, takeFlash } from "../routes";
import { pretty, type DryRun, type Json, type Kind, type Policy, type WriteOut } from "../types";
import { alertLine, button, link, report, say, select, statusLine } from "../ui";

const TEMPLATE = pretty({
  Version: "2012-10-17",
  Statement: [{ Sid: "Example", Effect: "Allow", Action: "execute-api:Invoke", Resource: ["execute-api:/*/GET/orders"] }],
});

interface Target {
  kind: Kind;
  name: string;
}

type Body = { document: Json; description: string; token?: Json | null };

/** Parse an editor's text; a problem at ``path`` when it is not a JSON object. */
function parseObject(text: string, path: string, problems: Detail[]): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Json;
    problems.push({ path, message: "must be a JSON object" });
  } catch (err) {
    problems.push({ path, message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` });
  }
  return null;
}

export function editorPage(root: HTMLElement, existing: Target | null): void {
  let target: Target | null = existing;
  let version: number | null = null;

  const status = statusLine();
  const alert = alertLine();
  const meta = h("p", { class: "muted" });
  const description = h("input", { type: "text", maxlength: "1024" });
  const docHost = h("div", { class: "cm-host" });
  const tokenHost = h("div", { class: "cm-host small" });
  const tokenBlock = h(
    "div",
    { class: "field" },
    h("span", { class: "label" }, "Token settings"),
    h("span", { class: "hint" }, 'Groups only: {"scopes": [...], "claims": {"name": "value"}}; leave empty for none.'),
    tokenHost,
  );
  const problems = region("Problems");
  const warnings = region("Warnings");
  const impact = region("Impact");
  const conflict = region("Changed meanwhile");
  const lockout = region("Admin lock-out");
  const force = h("input", { type: "checkbox", id: "force-save" });
  const forceField = h("div", { class: "check", hidden: true }, force, h("label", { for: "force-save" }, "Save even if admins lose access"));

  const kindSelect = select([["group", "group"], ["scope", "scope"], ["default", "default"]]);
  const nameInput = h("input", { type: "text", autocomplete: "off", required: true });
  const heading = h("h1", null, existing ? `${existing.kind} ${existing.name}` : "New policy");

  let doc: JsonEditor | null = null;
  let token: JsonEditor | null = null;

  const kindNow = (): Kind => target?.kind ?? (kindSelect.value as Kind);
  const syncTokenBlock = (): void => {
    tokenBlock.hidden = kindNow() !== "group";
  };
  kindSelect.addEventListener("change", syncTokenBlock);

  const load = (policy: Policy | null): void => {
    version = policy?.version ?? null;
    description.value = policy?.description ?? "";
    doc?.setText(policy ? pretty(policy.document) : TEMPLATE);
    token?.setText(policy?.token ? pretty(policy.token) : "");
    meta.textContent = policy ? `Version ${policy.version}, updated ${when(policy.updated_at)} by ${policy.updated_by}` : "Not saved yet.";
  };

  const selectorNow = (): Target | null => {
    if (target) return target;
    const kind = kindSelect.value as Kind;
    const name = kind === "default" ? "default" : nameInput.value.trim();
    return name ? { kind, name } : null;
  };

  /** The request body, or null after showing why the text cannot be sent. */
  const body = (): Body | null => {
    const found: Detail[] = [];
    const document = parseObject(doc?.text() ?? "", "document", found);
    const out: Body = { document: document ?? {}, description: description.value };
    if (kindNow() === "group") {
      const text = token?.text().trim() ?? "";
      out.token = text ? parseObject(text, "token", found) : null;
    }
    if (!selectorNow()) found.unshift({ path: "name", message: "give the policy a name" });
    if (found.length > 0) {
      clearResults();
      showProblems(problems, found);
      return null;
    }
    return out;
  };

  const preconditions = (): Record<string, string> =>
    version === null ? { "If-None-Match": "*" } : { "If-Match": `"${version}"` };

  const clearResults = (): void => {
    for (const r of [problems, warnings, impact, conflict, lockout]) hide(r);
    say(alert, "");
  };

  const showConflict = async (sel: Target, mine: Body): Promise<void> => {
    let latest: Policy | null = null;
    try {
      latest = (await call<Policy>("GET", policyPath(sel.kind, sel.name))).data;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const stored = latest ? pretty(latest.document) : "";
    const label = latest ? `Version ${latest.version} (stored)` : "Stored (deleted)";
    const parts = [
      h(
        "p",
        null,
        latest
          ? `Someone saved version ${latest.version} (${when(latest.updated_at)}, by ${latest.updated_by}) after you loaded ${version === null ? "this page" : `version ${version}`}. Nothing was saved.`
          : "The policy was deleted meanwhile. Nothing was saved.",
      ),
      diffTable(label, "Your text", stored, doc?.text() ?? ""),
    ];
    if (sel.kind === "group" && pretty(latest?.token ?? null) !== pretty(mine.token ?? null)) {
      parts.push(diffTable(`${label}: token settings`, "Your token settings", latest?.token ? pretty(latest.token) : "", token?.text() ?? ""));
    }
    parts.push(
      button("Reload latest", () => {
        load(latest);
        clearResults();
        say(status, latest ? `Loaded version ${latest.version}` : "Loaded an empty policy");
        doc?.view.focus();
      }),
    );
    show(conflict, ...parts);
  };

  const showLockout = (err: ApiError): void => {
    forceField.hidden = false;
    show(
      lockout,
      h("p", null, err.message),
      h("ul", null, err.details.map((d) => h("li", null, `${d.path}: ${d.message}`))),
      h("p", null, "Check \u201cSave even if admins lose access\u201d and save again to write it anyway."),
    );
  };

  /** Map a failed write or dry run onto the regions; anything unknown goes to the alert. */
  const failed = async (err: unknown, sel: Target, mine: Body): Promise<void> => {
    if (err instanceof ApiError && err.status === 400) showProblems(problems, err.details.length ? err.details : [{ path: "", message: err.message }]);
    else if (err instanceof ApiError && (err.status === 412 || err.code === "already_exists")) await showConflict(sel, mine);
    else if (err instanceof ApiError && err.code === "would_lock_out") showLockout(err);
    else report(alert, err);
  };

  const check = async (): Promise<void> => {
    const mine = body();
    const sel = selectorNow();
    if (!mine || !sel) return;
    clearResults();
    say(status, "Checking\u2026");
    try {
      const q = force.checked ? "?dry_run=true&force=true" : "?dry_run=true";
      const { data } = await call<DryRun>("PUT", policyPath(sel.kind, sel.name) + q, { body: mine, headers: preconditions() });
      showProblems(problems, data.problems);
      if (data.valid) {
        showWarnings(warnings, data.warnings);
        showImpact(impact, data.impact, data.impact_notice);
      }
      say(status, data.valid ? "Check passed: nothing was saved." : `Check found ${data.problems.length} problem(s).`);
    } catch (err) {
      say(status, "");
      await failed(err, sel, mine);
    }
  };

  const save = async (): Promise<void> => {
    const mine = body();
    const sel = selectorNow();
    if (!mine || !sel) return;
    clearResults();
    say(status, "Saving\u2026");
    try {
      const q = force.checked ? "?force=true" : "";
      const { data } = await call<WriteOut>("PUT", policyPath(sel.kind, sel.name) + q, { body: mine, headers: preconditions() });
      force.checked = false;
      forceField.hidden = true;
      const message = `Saved version ${data.version}`;
      if (target === null) {
        navigate(editorHref(sel.kind, sel.name), message);
        return;
      }
      load(data.policy);
      say(status, message);
      if (data.warnings.length) showWarnings(warnings, data.warnings);
      showImpact(impact, data.impact, data.impact_notice);
    } catch (err) {
      say(status, "");
      await failed(err, sel, mine);
    }
  };

  const remove = async (): Promise<void> => {
    const sel = target;
    if (!sel || version === null) return;
    clearResults();
    try {
      const q = force.checked ? "?force=true" : "";
      await call("DELETE", policyPath(sel.kind, sel.name) + q, { headers: { "If-Match": `"${version}"` } });
      navigate("#/policies", `Deleted ${sel.kind} ${sel.name} (version ${version})`);
    } catch (err) {
      const mine = body();
      if (mine) await failed(err, sel, mine);
      else report(alert, err);
    }
  };

  const confirmBox = h(
    "div",
    { class: "confirm", hidden: true },
    h("p", null, "Delete this policy? Its history stays; you can restore it from there."),
    button("Confirm delete", () => void remove(), { class: "danger" }),
    button("Cancel", () => {
      confirmBox.hidden = true;
    }),
  );

  const naming = existing
    ? null
    : h("div", { class: "filters" }, field("Kind", kindSelect), field("Name", nameInput, "a Cognito group or OAuth scope; ignored for default"));

  fill(
    root,
    h(
      "div",
      { class: "page-head" },
      heading,
      existing ? link(historyHref(existing.kind, existing.name), "History") : null,
    ),
    meta,
    naming,
    status,
    alert,
    h("div", { class: "field" }, h("span", { class: "label" }, "Policy document"), docHost),
    tokenBlock,
    field("Description", description),
    h(
      "div",
      { class: "actions" },
      button("Check", () => void check()),
      button("Save", () => void save(), { class: "primary" }),
      existing
        ? button("Delete policy", () => {
            confirmBox.hidden = false;
          }, { class: "danger" })
        : null,
    ),
    forceField,
    confirmBox,
    problems.root,
    warnings.root,
    impact.root,
    conflict.root,
    lockout.root,
  );
  doc = jsonEditor(docHost, "Policy document", "");
  token = jsonEditor(tokenHost, "Token settings", "");
  syncTokenBlock();
  const flash = takeFlash();
  if (flash) say(status, flash);

  if (existing === null) {
    load(null);
    return;
  }
  call<Policy>("GET", policyPath(existing.kind, existing.name))
    .then(({ data }) => {
      target = existing;
      load(data);
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) {
        say(alert, `No ${existing.kind} policy named ${existing.name} exists. Saving creates it.`);
        load(null);
      } else report(alert, err);
    });
}
