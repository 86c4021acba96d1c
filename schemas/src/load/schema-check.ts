// Validates a document against its kind's JSON Schema (ajv, compiled once) and turns every ajv
// error into an error an admin can act on, positioned on the YAML node it is about.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { policyError } from '../errors.ts';
import type { PolicyErrorCode } from '../errors.ts';
import { commonSchema, kindSchemas } from '../json-schema.ts';
import type { Kind, PolicyError } from '../model.ts';
import { didYouMean } from './closest-name.ts';
import type { Positioner, ValuePath } from './yaml-nodes.ts';
import { formatPath } from './yaml-nodes.ts';

let validators: Map<Kind, ValidateFunction> | undefined;

function validatorFor(kind: Kind): ValidateFunction {
  if (!validators) {
    // verbose: errors carry the failing value and the schema around it (property names for
    // suggestions, descriptions for patterns). Union types (a fact value is a string, number,
    // boolean or list) are deliberate in the schemas.
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    ajv.addSchema(commonSchema);
    validators = new Map(Object.entries(kindSchemas).map(([name, schema]) => [name as Kind, ajv.compile(schema)]));
  }
  return validators.get(kind)!;
}

export function checkSchema(kind: Kind, value: unknown, at: Positioner): PolicyError[] {
  const validate = validatorFor(kind);
  if (validate(value)) return [];
  const errors = (validate.errors ?? []).flatMap((error) => describe(error, at));
  return dedupe(errors);
}

function describe(error: ErrorObject, at: Positioner): PolicyError[] {
  const path = pointerToPath(error.instancePath);
  const where = formatPath(path);
  const params = error.params as Record<string, unknown>;
  const error_ = (code: PolicyErrorCode, message: string, position = at.valueAt(path)) => [policyError(code, message, position)];
  switch (error.keyword) {
    case 'required': {
      const owner = path.length === 0 ? 'the document' : where;
      return error_('SCHEMA_REQUIRED', `${owner} is missing required property "${String(params.missingProperty)}"`, at.ownerAt(path));
    }
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const message = `unknown property "${property}" in ${where}${didYouMean(property, known)}`;
      return error_('SCHEMA_UNKNOWN_PROPERTY', message, at.keyAt([...path, property]));
    }
    case 'type':
      return error_('SCHEMA_TYPE', `${where} must be ${typeNames(params.type)}, got ${describeValue(error.data)}`);
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const hint = typeof error.data === 'string' ? didYouMean(error.data, allowed) : '';
      return error_('SCHEMA_ENUM', `${where} must be one of ${allowed.join(', ')}; got ${describeValue(error.data)}${hint}`);
    }
    case 'const':
      return error_('SCHEMA_ENUM', `${where} must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(error.data)}`);
    case 'propertyNames':
      return []; // ajv also reports the failing name itself, with the rule it broke
    default:
      if (error.propertyName !== undefined) {
        // A rule on the keys of a mapping (propertyNames): the data is the key itself.
        const rule = ruleMessage({ ...error, data: error.propertyName });
        return error_('SCHEMA_INVALID', `${where} has key ${JSON.stringify(error.propertyName)}, which ${rule}`, at.keyAt([...path, error.propertyName]));
      }
      return error_('SCHEMA_INVALID', `${where} ${ruleMessage(error)}`);
  }
}

function ruleMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const got = describeValue(error.data);
  switch (error.keyword) {
    case 'minimum':
      return `must be at least ${params.limit}, got ${got}`;
    case 'maximum':
      return `must be at most ${params.limit}, got ${got}`;
    case 'exclusiveMinimum':
      return `must be greater than ${params.limit}, got ${got}`;
    case 'exclusiveMaximum':
      return `must be less than ${params.limit}, got ${got}`;
    case 'minLength':
      return Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${params.limit} characters long`;
    case 'maxLength':
      return `must be at most ${params.limit} characters long`;
    case 'minItems':
      return `must list at least ${params.limit} item${Number(params.limit) === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must list at most ${params.limit} items`;
    case 'uniqueItems':
      return `lists ${JSON.stringify((error.data as unknown[])[Number(params.j)])} more than once`;
    case 'pattern': {
      const rule = typeof error.parentSchema?.description === 'string' ? error.parentSchema.description : `it must match ${params.pattern}`;
      return `${JSON.stringify(error.data)} is not valid: ${rule}`;
    }
    default:
      return `${error.message ?? 'is not valid'}`;
  }
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typeNames(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  const names = types.map((name) => TYPE_NAMES[name] ?? name);
  return names.length <= 2 ? names.join(' or ') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}..."` : text}`;
}

function pointerToPath(pointer: string): ValuePath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** ajv may report one mistake through several rules; keep one error per position and message. */
function dedupe(errors: PolicyError[]): PolicyError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.line}:${e.col}:${e.code}:${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
