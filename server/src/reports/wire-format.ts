// The bodies agents POST (schemas/json/report.schema.json, heartbeat.schema.json), validated by ajv
// compiled once. A refusal says which field and why, in one sentence per problem, so an agent
// author can fix the sender from the 400 alone. Text PostgreSQL cannot store never gets here: the
// API's input rules (api/input-rules.ts) refuse it, or repair it in captured output (OUTPUT_PATH).
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import heartbeatSchema from '@pswm/schemas/json/heartbeat.schema.json' with { type: 'json' };
import reportSchema from '@pswm/schemas/json/report.schema.json' with { type: 'json' };
import { isStorableDateTime } from '../api/date-time-format.ts';
import { apiError } from '../api/errors.ts';
import type { Heartbeat, Report } from '../../../schemas/src/agent-wire.ts';

const MAX_MESSAGES = 10;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats.default(ajv, ['uuid']);
ajv.addFormat('date-time', isStorableDateTime);
const reportValidator = ajv.compile<Report>(reportSchema);
const heartbeatValidator = ajv.compile<Heartbeat>(heartbeatSchema);

export function parseReport(body: unknown): Report {
  const report = checked(reportValidator, body);
  const problems = [
    ...order('body/finished_at', report.started_at, report.finished_at, 'body/started_at'),
    ...duplicateIds('script_runs', report.script_runs),
    ...duplicateIds('choco_runs', report.choco_runs),
    ...duplicateKeys('body/drift', report.drift ?? [], (item) => `${item.kind}/${item.name}`),
    ...duplicateKeys('body/choco_packages', report.choco_packages ?? [], (item) => item.name.toLowerCase()),
  ];
  if (problems.length) throw apiError('VALIDATION_FAILED', problems.slice(0, MAX_MESSAGES).join('; '));
  return report;
}

export function parseHeartbeat(body: unknown): Heartbeat {
  return checked(heartbeatValidator, body);
}

/** Captured output (JSON Pointers into a report): kept whatever it holds, with U+0000 and unpaired surrogates repaired. */
export const OUTPUT_PATH = /^\/(script_runs\/\d+\/std(out|err)|choco_runs\/\d+\/output)$/;

function checked<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (validate(body)) return body;
  const messages = [...new Set((validate.errors ?? []).map(describe))];
  throw apiError('VALIDATION_FAILED', messages.slice(0, MAX_MESSAGES).join('; '));
}

/** One ajv error → "body/script_runs/0/phase must be one of check, apply". */
function describe(error: ErrorObject): string {
  const where = `body${error.instancePath}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${where} is missing required property "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `${where} has unknown property "${String(params.additionalProperty)}"`;
    case 'enum':
      return `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'format':
      return `${where} must be a ${params.format === 'date-time' ? 'RFC 3339 date-time' : String(params.format)}`;
    case 'propertyNames':
      return `${where} has an invalid key "${String(params.propertyName)}"`;
    case 'pattern':
      return error.propertyName !== undefined
        ? `${where} key "${error.propertyName}" must match ${String(params.pattern)}`
        : `${where} must match ${String(params.pattern)}`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}

function order(field: string, start: string, end: string, startField: string): string[] {
  return Date.parse(end) < Date.parse(start) ? [`${field} must not be before ${startField}`] : [];
}

function duplicateIds(field: string, runs: ReadonlyArray<{ id: string }> | undefined): string[] {
  return duplicateKeys(`body/${field}`, runs ?? [], (run) => run.id.toLowerCase());
}

function duplicateKeys<T>(field: string, items: readonly T[], keyOf: (item: T) => string): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (seen.has(key)) problems.push(`${field}/${index} repeats "${key}"`);
    seen.add(key);
  });
  return problems;
}
