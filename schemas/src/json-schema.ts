// The JSON Schemas of the policy kinds (schemas/json/*.schema.json), read once at load, and what
// is derived from them: the self-contained editor bundle and the settings defaults. The schema
// files are the single source of truth for defaults; nothing else hard-codes them. They are JSON
// imports, not file reads, so that a bundler can put the agent into one file (pswm.exe).
import agentOverrideFile from '../json/agent-override.schema.json' with { type: 'json' };
import chocoDeploymentFile from '../json/choco-deployment.schema.json' with { type: 'json' };
import commonFile from '../json/common.schema.json' with { type: 'json' };
import externalFactFile from '../json/external-fact.schema.json' with { type: 'json' };
import locationFile from '../json/location.schema.json' with { type: 'json' };
import organizationFile from '../json/organization.schema.json' with { type: 'json' };
import scriptFile from '../json/script.schema.json' with { type: 'json' };
import settingsFile from '../json/settings.schema.json' with { type: 'json' };
import { KINDS, API_VERSION } from './model.ts';
import type { DesiredState, Kind } from './model.ts';

export type JsonSchema = { [keyword: string]: unknown };

const SCHEMA_BASE_URI = 'https://pswm.dev/schemas/v1/';

const COMMON_FILE = 'common.schema.json';

const KIND_SCHEMA_FILES: Record<Kind, unknown> = {
  Settings: settingsFile,
  Organization: organizationFile,
  Location: locationFile,
  AgentOverride: agentOverrideFile,
  Script: scriptFile,
  ExternalFact: externalFactFile,
  ChocoDeployment: chocoDeploymentFile,
};

// a copy, so the imported module objects stay untouched by the freeze
function readSchema(file: unknown): JsonSchema {
  return deepFreeze(structuredClone(file) as JsonSchema);
}

// Frozen because every validator, doc and test shares these objects: a stray write would change
// the rules for everyone else in the process.
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Shared $defs; kind schemas refer to it as `common.schema.json#/$defs/...` (add it to ajv first). */
export const commonSchema: JsonSchema = readSchema(commonFile);

/** One schema per kind, each describing the whole document (envelope and spec). */
export const kindSchemas: Record<Kind, JsonSchema> = Object.fromEntries(
  KINDS.map((kind) => [kind, readSchema(KIND_SCHEMA_FILES[kind])]),
) as Record<Kind, JsonSchema>;

/** Looks up a nested subschema by keyword path, e.g. ['properties', 'spec']. */
export function subschema(schema: JsonSchema, path: readonly string[]): JsonSchema {
  let node: unknown = schema;
  for (const key of path) {
    node = (node as JsonSchema | undefined)?.[key];
    if (node === null || typeof node !== 'object') throw new Error(`schema has no ${path.join('/')}`);
  }
  return node as JsonSchema;
}

/** The single file editors load through the yaml-language-server modeline: every definition
 * inlined under $defs (editors resolve external refs unevenly), the kind schema chosen by `kind`. */
export function buildBundledSchema(): JsonSchema {
  const defs: JsonSchema = { ...(commonSchema.$defs as JsonSchema) };
  for (const kind of KINDS) {
    const { $schema: _schema, $id: _id, ...body } = kindSchemas[kind];
    defs[kind] = inlineCommonRefs(body);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE_URI}pswm.schema.json`,
    title: 'pswm policy document',
    description: `A pswm policy document (apiVersion ${API_VERSION}); \`kind\` selects the schema of the rest.`,
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { $ref: '#/$defs/apiVersion' },
      kind: {
        description: 'The document kind; it decides what `spec` holds.',
        examples: [...KINDS],
        enum: [...KINDS],
      },
    },
    // `required` inside `if` keeps a document without `kind` from matching every branch at once.
    allOf: KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/$defs/${kind}` },
    })),
    $defs: defs,
  };
}

function inlineCommonRefs(value: unknown): any {
  if (Array.isArray(value)) return value.map(inlineCommonRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' ? child.replace(`${COMMON_FILE}#`, '#') : inlineCommonRefs(child),
    ]),
  );
}

/** The bundle as built from the schema files now (the committed pswm.schema.json must equal it). */
export const bundledSchema: JsonSchema = deepFreeze(buildBundledSchema());

/** Every settings key at its schema default: the effective settings when no layer sets anything.
 * A fresh copy on each call, so callers may merge into it. */
export function settingsDefaults(): DesiredState['settings'] {
  return defaultsOf(subschema(commonSchema, ['$defs', 'settingsBlock'])) as DesiredState['settings'];
}

/** The reconcile guard's defaults (global Settings `spec.reconcile`). */
export function reconcileDefaults(): { deletion_budget_percent: number; allow_mass_deletion: boolean } {
  const reconcile = subschema(kindSchemas.Settings, ['properties', 'spec', 'properties', 'reconcile']);
  return defaultsOf(reconcile) as { deletion_budget_percent: number; allow_mass_deletion: boolean };
}

function defaultsOf(schema: JsonSchema): unknown {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return structuredClone(schema.default);
  return Object.fromEntries(Object.entries(properties).map(([key, child]) => [key, defaultsOf(child)]));
}
