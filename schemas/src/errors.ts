// Every policy error code in one table. A shipped code never changes meaning; docs/policy-reference.md
// lists them (a test checks each code here is documented there).
import type { PolicyError, SourcePosition } from './model.ts';

export const POLICY_ERRORS = {
  YAML_SYNTAX: 'The file is not valid YAML.',
  YAML_DUPLICATE_KEY: 'A mapping repeats a key; YAML requires keys to be unique.',
  YAML_ALIAS_LIMIT: 'The document expands too many aliases (an "alias bomb"); anchors and aliases are limited.',
  FILE_TOO_LARGE: 'The file exceeds the size limit for policy files.',
  DOCUMENT_TOO_LARGE: 'One YAML document exceeds the size limit.',
  TOO_MANY_DOCUMENTS: 'The repository holds more documents than the limit allows.',
  NOT_A_MAPPING: 'A YAML document must be a mapping with apiVersion, kind, metadata and spec.',
  API_VERSION: 'apiVersion is missing or is not pswm/v1.',
  UNKNOWN_KIND: 'kind is missing or is not one of the policy kinds.',
  SCHEMA_REQUIRED: 'A required property is missing.',
  SCHEMA_UNKNOWN_PROPERTY: 'A property is not part of the kind\'s schema (often a typo).',
  SCHEMA_TYPE: 'A value has the wrong type.',
  SCHEMA_ENUM: 'A value is not one of the allowed values.',
  SCHEMA_INVALID: 'A value breaks a schema rule (range, pattern, length, format).',
  MULTIPLE_SETTINGS: 'More than one Settings document; the global layer must be defined once.',
  DUPLICATE_NAME: 'Two documents of the same kind share a name.',
  DUPLICATE_OVERRIDE: 'Two AgentOverrides name the same agent with overlapping scope.',
  MISSING_REFERENCE: 'A reference names an organization or location that is not defined.',
  SCRIPT_SOURCE: 'A script, check or fact needs exactly one of `file` or `content`.',
  FILE_NOT_FOUND: 'A `file` reference names a file that is not in the repository.',
  PATH_OUTSIDE_REPO: 'A `file` reference is absolute or climbs out of the repository.',
  SYMLINK_OUTSIDE_REPO: 'A `file` reference resolves through a symbolic link that leaves the repository.',
  SYMLINK_CYCLE: 'A `file` reference resolves through symbolic links that form a loop.',
  RUN_MODE: 'The run mode and its parameters disagree (interval needs interval_hours, schedule needs schedule).',
  BAD_CRON: 'The schedule is not a valid 5-field cron expression.',
  UNTRUSTED_SELECTION: 'Warning: a script runs with the agent\'s rights (root/SYSTEM) on agents chosen only by facts the agents report about themselves; an agent can report any such fact.',
  SHELL_PLATFORM: 'The shell cannot run on one of the declared platforms.',
  PACKAGE_CONFLICT: 'Two ChocoDeployments declare the same package differently for the same agents at the same specificity.',
  PACKAGE_DUPLICATE: 'One ChocoDeployment lists the same package twice.',
  DELETION_BUDGET_EXCEEDED: 'The revision removes a larger share of the policy objects than the deletion budget allows (the server refuses it); validate --base and plan check it.',
} as const;

export type PolicyErrorCode = keyof typeof POLICY_ERRORS;

export function policyError(code: PolicyErrorCode, message: string, at: SourcePosition): PolicyError {
  return { code, message, file: at.file, line: at.line, col: at.col };
}

/** Sorts errors by file, line, column, then code, so output is stable and reads top to bottom. */
export function sortErrors(errors: PolicyError[]): PolicyError[] {
  return errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code));
}

/** `file:line:col: message [CODE]`, the format editors and CI annotate. */
export function formatError(e: PolicyError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message} [${e.code}]`;
}
