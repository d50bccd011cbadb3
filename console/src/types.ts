// The admin API's answers, as far as the console reads them (see /openapi.json).

export type Kind = "group" | "scope" | "default";
export type CellValue = "allow" | "deny" | "explicit-deny" | "conditional";
export type Json = Record<string, unknown>;

export interface PolicySummary {
  kind: Kind;
  name: string;
  version: number;
  description: string;
  updated_at: string;
  updated_by: string;
  has_token_settings: boolean;
}

export interface Policy extends PolicySummary {
  etag: string;
  document: Json;
  token: Json | null;
}

export interface Warning {
  path: string;
  message: string;
  request: string;
}

export interface Impact {
  subject: string;
  route: string;
  before: CellValue;
  after: CellValue;
}

export interface DryRun {
  valid: boolean;
  problems: { path: string; message: string }[];
  warnings: Warning[];
  impact: Impact[];
  impact_notice: string | null;
}

export interface WriteOut {
  version: number;
  policy: Policy;
  warnings: Warning[];
  impact: Impact[];
  impact_notice: string | null;
}

export interface HistoryItem {
  version: number;
  action: "create" | "update" | "delete";
  at: string;
  by: string;
  description: string;
  document: Json;
  token: Json | null;
  forced: boolean;
}

export interface Matrix {
  routes: string[];
  subjects: string[];
  cells: Record<string, Record<string, CellValue>>;
}

export interface Match {
  selector: string | null;
  statement: number;
  sid: string | null;
  effect: "Allow" | "Deny";
  pattern: string;
  deciding: boolean;
}

export interface Simulation {
  methodArn: string;
  decision: { allowed: boolean; effect: "Allow" | "Deny" | "ImplicitDeny" };
  principal: { sub: string; username: string | null; groups: string[]; scopes: string[] };
  selectors: string[];
  found: string[];
  explanation: Match[];
  summary: string;
  effective_policy: Json;
  over_budget: boolean;
}

export interface Revocation {
  id: string;
  kind: "sub" | "origin_jti" | "jti";
  value: string;
  reason: string;
  revoked_by: string;
  revoked_at: string;
  until: string | null;
  expires_at: string;
}

/** Pretty JSON, as the editors show and the diffs compare it. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
