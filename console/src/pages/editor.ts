// The policy editor: the document and token settings in CodeMirror, a dry
// run ("Check"), and conditional saves that surface every answer the API gives:
// problems at their paths (400), a conflict with a diff (412), a lock-out (409).
// Save runs the dry run first and asks before writing anything that warns or
// changes who may call what; unsaved edits are kept as a draft (drafts.ts).

import { ApiError, call, type Detail } from "../api";
import { diffTable } from "../diff";
import { field, h, hide, region, show, fill, when } from "../dom";
import { dropDraft, keepDraft, loadDraft, sameTexts, type Draft, type Texts } from "../drafts";
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

/** The texts the editor shows for ``policy`` (a new policy starts from the template). */
function textsOf(policy: Policy | null): Texts {
  return {
    document: policy ? pretty(policy.document) : TEMPLATE,
    token: policy?.token ? pretty(policy.token) : "",
    description: policy?.description ?? "",
  };
}

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
  // The version the edits start from (the save's If-Match) and its texts: a
  // conflict diffs them against what was stored meanwhile.
  let version: number | null = null;
  let baseTexts: Texts = textsOf(null);
  // Programmatic loads are not edits: they neither keep nor drop a draft.
  let quiet = false;
  // While a kept draft waits for "Restore" or "Discard", new edits do not overwrite it.
  let offered: Draft | null = null;
  // The body and preconditions a dry run found worth confirming; "Confirm save" writes exactly that.
  let pending: string | null = null;

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

  const textsNow = (): Texts => ({ document: doc?.text() ?? "", token: token?.text() ?? "", description: description.value });

  const showTexts = (texts: Texts): void => {
    quiet = true;
    description.value = texts.description;
    doc?.setText(texts.document);
    token?.setText(texts.token);
    quiet = false;
  };

  const load = (policy: Policy | null): void => {
    version = policy?.version ?? null;
    baseTexts = textsOf(policy);
    showTexts(baseTexts);
    meta.textContent = policy ? `Version ${policy.version}, updated ${when(policy.updated_at)} by ${policy.updated_by}` : "Not saved yet.";
  };

  /** After each edit: keep the texts as a draft of this policy, or drop it once they match the base again. */
  const edited = (): void => {
    if (quiet || offered !== null || target === null) return;
    const mine = textsNow();
    if (sameTexts(mine, baseTexts)) dropDraft(target.kind, target.name);
    else keepDraft(target.kind, target.name, { base: version, baseTexts, mine });
  };
  description.addEventListener("input", edited);

  /** The edits are written or given up: no draft to keep, none to offer. */
  const settleDraft = (sel: Target): void => {
    dropDraft(sel.kind, sel.name);
    offered = null;
    draftOffer.hidden = true;
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
    confirmSave.hidden = true;
    pending = null;
    say(alert, "");
  };

  /**
   * A 412 (or a create that found the policy there): what the other writer changed
   * (base -> stored) and what this user changed (base -> their text), side by side.
   * The user's text stays in the editor until they choose "Reload latest".
   */
  const showConflict = async (sel: Target): Promise<void> => {
    let latest: Policy | null = null;
    try {
      latest = (await call<Policy>("GET", policyPath(sel.kind, sel.name))).data;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const storedTexts = textsOf(latest);
    const stored = latest ? storedTexts.document : "";
    const mine = textsNow();
    const baseLabel = version === null ? "Before (a new policy)" : `Version ${version} (you started from)`;
    const storedLabel = latest ? `Version ${latest.version} (stored)` : "Stored (deleted)";
    const baseDocument = version === null ? "" : baseTexts.document;
    const parts: (HTMLElement | null)[] = [
      h(
        "p",
        null,
        latest
          ? `Someone saved version ${latest.version} (${when(latest.updated_at)}, by ${latest.updated_by}) after you loaded ${version === null ? "this page" : `version ${version}`}. Nothing was saved; your text is still in the editor.`
          : "The policy was deleted meanwhile. Nothing was saved; your text is still in the editor.",
      ),
      h("h3", null, "Their change"),
      diffTable(baseLabel, storedLabel, baseDocument, stored),
      sel.kind === "group" && baseTexts.token !== storedTexts.token
        ? diffTable(`${baseLabel}: token settings`, `${storedLabel}: token settings`, version === null ? "" : baseTexts.token, storedTexts.token)
        : null,
      h("h3", null, "Your change"),
      diffTable(baseLabel, "Your text", baseDocument, mine.document),
      sel.kind === "group" && baseTexts.token !== mine.token
        ? diffTable(`${baseLabel}: token settings`, "Your token settings", version === null ? "" : baseTexts.token, mine.token)
        : null,
      h(
        "p",
        { class: "hint" },
        latest
          ? `\u201cReload latest\u201d replaces your text with version ${latest.version} and loses your change. \u201cKeep my text\u201d makes your text the next version, replacing theirs.`
          : "\u201cReload latest\u201d replaces your text with an empty new policy and loses your change. \u201cKeep my text\u201d saves your text as a new policy.",
      ),
      h(
        "div",
        { class: "actions" },
        button("Reload latest", () => {
          load(latest);
          settleDraft(sel);
          clearResults();
          say(status, latest ? `Loaded version ${latest.version}` : "Loaded an empty policy");
          doc?.view.focus();
        }),
        button("Keep my text", () => {
          // Edits now start from the stored version: the next save replaces it, knowingly.
          version = latest?.version ?? null;
          baseTexts = storedTexts;
          if (latest) meta.textContent = `Version ${latest.version}, updated ${when(latest.updated_at)} by ${latest.updated_by}`;
          edited();
          clearResults();
          say(status, latest ? `Your text is kept; Save replaces version ${latest.version}` : "Your text is kept; Save creates the policy again");
          doc?.view.focus();
        }),
      ),
    ];
    show(conflict, ...parts);
  };

  const showLockout = (err: ApiError): void => {
    forceField.hidden = false;
    show(
      lockout,
      h("p", null, err.message),
      h("ul", null, err.details.map((d) => h("li", null, `${d.path}: ${d.message}`))),
      h("p", null, "Check \u201cSave even if admins lose access\u201d and save again to write it anyway. Nothing was saved."),
    );
  };

  /** Map a failed write or dry run onto the regions; anything unknown goes to the alert. */
  const failed = async (err: unknown, sel: Target): Promise<void> => {
    if (err instanceof ApiError && err.status === 400) showProblems(problems, err.details.length ? err.details : [{ path: "", message: err.message }]);
    else if (err instanceof ApiError && (err.status === 412 || err.code === "already_exists")) await showConflict(sel);
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
      await failed(err, sel);
    }
  };

  /**
   * Save: a dry run first. Problems stop it; warnings or access-matrix changes are
   * shown and wait for "Confirm save"; a clean change is written at once.
   */
  const save = async (confirmed: boolean): Promise<void> => {
    const mine = body();
    const sel = selectorNow();
    if (!mine || !sel) return;
    const request = JSON.stringify([sel, mine, preconditions(), force.checked]);
    // Confirming counts only for the very request that was checked: an edit since needs a new look.
    const checked = confirmed && request === pending;
    clearResults();
    try {
      if (!checked) {
        say(status, "Checking before saving\u2026");
        const q = force.checked ? "?dry_run=true&force=true" : "?dry_run=true";
        const { data: dry } = await call<DryRun>("PUT", policyPath(sel.kind, sel.name) + q, { body: mine, headers: preconditions() });
        if (!dry.valid) {
          showProblems(problems, dry.problems);
          say(status, `Not saved: ${dry.problems.length} problem(s).`);
          return;
        }
        if (dry.warnings.length > 0 || dry.impact.length > 0) {
          showWarnings(warnings, dry.warnings);
          showImpact(impact, dry.impact, dry.impact_notice);
          pending = request;
          confirmSave.hidden = false;
          say(status, "Not saved yet: review the warnings and the impact below, then confirm.");
          confirmButton.focus();
          return;
        }
      }
      say(status, "Saving\u2026");
      const q = force.checked ? "?force=true" : "";
      const { data } = await call<WriteOut>("PUT", policyPath(sel.kind, sel.name) + q, { body: mine, headers: preconditions() });
      force.checked = false;
      forceField.hidden = true;
      settleDraft(sel);
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
      await failed(err, sel);
    }
  };

  const remove = async (): Promise<void> => {
    const sel = target;
    if (!sel || version === null) return;
    clearResults();
    try {
      const q = force.checked ? "?force=true" : "";
      await call("DELETE", policyPath(sel.kind, sel.name) + q, { headers: { "If-Match": `"${version}"` } });
      settleDraft(sel);
      navigate("#/policies", `Deleted ${sel.kind} ${sel.name} (version ${version})`);
    } catch (err) {
      await failed(err, sel);
    }
  };

  const confirmButton = button("Confirm save", () => void save(true), { class: "primary" });
  const confirmSave = h(
    "div",
    { class: "confirm", hidden: true },
    h("p", null, "This change has warnings or changes who may call what (see below). Nothing is saved until you confirm."),
    confirmButton,
    button("Cancel save", () => {
      confirmSave.hidden = true;
      pending = null;
      say(status, "Not saved.");
    }),
  );

  const draftOffer = h("div", { class: "confirm", hidden: true });
  const offer = (draft: Draft, sel: Target): void => {
    offered = draft;
    fill(
      draftOffer,
      h("p", null, `This tab kept an unsaved draft of this policy, started from ${draft.base === null ? "a new policy" : `version ${draft.base}`}.`),
      button("Restore unsaved draft", () => {
        offered = null;
        draftOffer.hidden = true;
        version = draft.base;
        baseTexts = draft.baseTexts;
        showTexts(draft.mine);
        if (draft.base !== null) meta.textContent = `Draft started from version ${draft.base}`;
        say(status, "Unsaved draft restored");
        doc?.view.focus();
      }),
      button("Discard draft", () => {
        offered = null;
        draftOffer.hidden = true;
        dropDraft(sel.kind, sel.name);
        say(status, "Draft discarded");
      }),
    );
    draftOffer.hidden = false;
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
    draftOffer,
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
      button("Save", () => void save(false), { class: "primary" }),
      existing
        ? button("Delete policy", () => {
            confirmBox.hidden = false;
          }, { class: "danger" })
        : null,
    ),
    forceField,
    confirmSave,
    confirmBox,
    problems.root,
    warnings.root,
    impact.root,
    conflict.root,
    lockout.root,
  );
  doc = jsonEditor(docHost, "Policy document", "", edited);
  token = jsonEditor(tokenHost, "Token settings", "", edited);
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
      const draft = loadDraft(existing.kind, existing.name);
      if (draft === null) return;
      if (sameTexts(draft.mine, baseTexts)) dropDraft(existing.kind, existing.name);
      else offer(draft, existing);
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) {
        say(alert, `No ${existing.kind} policy named ${existing.name} exists. Saving creates it.`);
        load(null);
      } else report(alert, err);
    });
}
