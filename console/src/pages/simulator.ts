// The simulator: a principal (groups, scopes, sub) or a pasted token, plus a
// method and path; shows the decision, why, and the whole effective policy.

import { call } from "../api";
import { field, fill, h, region, show } from "../dom";
import { pretty, type Simulation } from "../types";
import { alertLine, report, say, select } from "../ui";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** One name a line: a Cognito group name may hold commas and spaces. */
function list(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function decisionText(s: Simulation): string {
  if (s.decision.allowed) return "Allow";
  return s.decision.effect === "Deny" ? "Deny: an explicit Deny statement matches" : "Deny: no statement grants this request (implicit deny)";
}

export function simulatorPage(root: HTMLElement): void {
  const alert = alertLine();
  const groups = h("textarea", { rows: "3", spellcheck: "false", autocomplete: "off" });
  const scopes = h("textarea", { rows: "3", spellcheck: "false", autocomplete: "off" });
  const sub = h("input", { type: "text", autocomplete: "off" });
  const token = h("textarea", { rows: "4", spellcheck: "false", autocomplete: "off" });
  const method = select(METHODS.map((m) => [m, m]));
  const path = h("input", { type: "text", autocomplete: "off", value: "/orders/42" });
  const decision = region("Decision");
  const explanation = region("Explanation");
  const effective = region("Effective policy");

  const principalFields = h(
    "div",
    { class: "filters" },
    field("Groups", groups, "one group a line"),
    field("Scopes", scopes, "one scope a line"),
    field("Sub", sub, "fills ${sub} in policies"),
  );
  const tokenFields = h("div", { hidden: true }, field("Token", token, "a Cognito JWT, verified as the authorizer verifies it; it is not stored"));

  const mode = (value: "principal" | "token"): HTMLElement => {
    const id = `mode-${value}`;
    const input = h("input", { type: "radio", name: "mode", id, value, checked: value === "principal" });
    input.addEventListener("change", () => {
      principalFields.hidden = value !== "principal";
      tokenFields.hidden = value !== "token";
    });
    return h("span", { class: "check" }, input, h("label", { for: id }, value === "principal" ? "Principal" : "Token"));
  };

  const run = async (): Promise<void> => {
    say(alert, "");
    const usingToken = !tokenFields.hidden;
    const body = {
      ...(usingToken
        ? { token: token.value.trim() }
        : { principal: { groups: list(groups.value), scopes: list(scopes.value), sub: sub.value.trim() } }),
      request: { method: method.value, path: path.value.trim() || "/" },
    };
    try {
      const { data } = await call<Simulation>("POST", "/simulate", { body });
      show(
        decision,
        h("p", { class: data.decision.allowed ? "decision allow" : "decision deny" }, decisionText(data)),
        h("p", { class: "muted" }, data.methodArn),
        data.over_budget ? h("p", { class: "error" }, "The effective policy is over AUTHZ_POLICY_MAX_BYTES: the authorizer fails closed (500).") : null,
      );
      show(
        explanation,
        h("p", null, data.summary),
        h("p", null, `Selectors: ${data.selectors.join(", ") || "none"}. Stored policies found: ${data.found.join(", ") || "none"}.`),
        data.explanation.length === 0
          ? h("p", null, "No statement matches this request.")
          : h(
              "table",
              { class: "list", "aria-label": "Matching statements" },
              h("thead", null, h("tr", null, ["Policy", "Statement", "Sid", "Effect", "Pattern", "Deciding"].map((c) => h("th", { scope: "col" }, c)))),
              h(
                "tbody",
                null,
                data.explanation.map((m) =>
                  h(
                    "tr",
                    null,
                    h("td", null, m.selector ?? ""),
                    h("td", { class: "num" }, m.statement),
                    h("td", null, m.sid ?? ""),
                    h("td", null, m.effect),
                    h("td", null, h("code", null, m.pattern)),
                    h("td", null, m.deciding ? "yes" : "no"),
                  ),
                ),
              ),
            ),
      );
      show(effective, h("pre", { tabindex: "0", "aria-label": "Effective policy document" }, pretty(data.effective_policy)));
    } catch (err) {
      report(alert, err);
    }
  };

  const form = h(
    "form",
    { class: "simulate" },
    h("fieldset", { class: "radios" }, h("legend", null, "Simulate as"), mode("principal"), mode("token")),
    principalFields,
    tokenFields,
    h("div", { class: "filters" }, field("Method", method), field("Path", path, "e.g. /orders/42")),
    h("button", { type: "submit", class: "primary" }, "Simulate"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void run();
  });
  fill(root, h("h1", null, "Simulator"), form, alert, decision.root, explanation.root, effective.root);
}
