import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { POLICY_ERRORS } from './errors.ts';
import { API_VERSION, KINDS } from './model.ts';
import type { Kind, Metadata, SpecByKind } from './model.ts';
import { bundledSchema, commonSchema, kindSchemas, reconcileDefaults, settingsDefaults, subschema } from './json-schema.ts';
import type { JsonSchema } from './json-schema.ts';
import { BUNDLE_TARGETS, bundledSchemaText } from '../scripts/bundle-schema.ts';
import { POLICY_REFERENCE_PATH, renderPolicyReference } from '../scripts/gen-policy-reference.ts';

// allowUnionTypes: a fact value is `string | number | boolean | list` as one plain `type`, which
// gives admins one readable error instead of anyOf's four.
const AJV_OPTIONS = { strict: true, allErrors: true, allowUnionTypes: true } as const;

function bundleAjv(): Ajv2020 {
  const ajv = new Ajv2020(AJV_OPTIONS);
  ajv.addSchema(bundledSchema);
  return ajv;
}
const validateBundled = bundleAjv().getSchema(String(bundledSchema.$id))!;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type PolicyDoc<K extends Kind> = { apiVersion: typeof API_VERSION; kind: K; metadata: Metadata; spec: SpecByKind[K] };

const metadata: Metadata = { name: 'max-example', description: 'Uses every property', labels: { team: 'it-ops' } };
const settings: SettingsOf = {
  agent: { interval_seconds: 900, jitter_seconds: 30, heartbeat_seconds: 30 },
  agent_update: { version: '0.2.0', rollout_percent: 10 },
  scripts: { timeout_seconds: 300, max_output_bytes: 131072 },
  external_facts: { timeout_seconds: 30, max_output_bytes: 65536 },
  choco: { upgrade_all: true, upgrade_interval_hours: 12, skip_pinned: false },
  remote_console: { enabled: true, require_consent: false, idle_timeout_minutes: 10, max_duration_minutes: 60, consent_timeout_seconds: 30, consent_default: 'deny' },
  logging: { level: 'debug', retention_days: 30, max_file_mb: 20 },
  reporting: { retry_max_attempts: 10, retry_base_seconds: 2, retry_max_seconds: 600 },
};
type SettingsOf = NonNullable<SpecByKind['Settings']['settings']>;
const targets = {
  organizations: ['acme'],
  locations: ['acme/paris'],
  agents: ['WS-Paris-042.acme.local'],
  facts: { 'os.family': 'windows', 'os.release': ['10', 11], 'hw.virtual': false },
};

// One document per kind using every property model.ts declares. Typed with model.ts, so tsc
// rejects a property the model lacks; validated by the schema, which rejects a property it lacks;
// and checked below to cover every schema property, so the two cannot drift apart.
const maximalDocuments: { [K in Kind]: PolicyDoc<K> } = {
  Settings: {
    apiVersion: API_VERSION,
    kind: 'Settings',
    metadata,
    spec: { settings, reconcile: { deletion_budget_percent: 40, allow_mass_deletion: true } },
  },
  Organization: { apiVersion: API_VERSION, kind: 'Organization', metadata, spec: { display_name: 'ACME', settings } },
  Location: { apiVersion: API_VERSION, kind: 'Location', metadata, spec: { organization: 'acme', display_name: 'Paris', settings } },
  AgentOverride: {
    apiVersion: API_VERSION,
    kind: 'AgentOverride',
    metadata,
    spec: { agent: 'ws-paris-042', organization: 'acme', location: 'acme/paris', settings },
  },
  Script: {
    apiVersion: API_VERSION,
    kind: 'Script',
    metadata,
    spec: {
      shell: 'pwsh',
      file: 'scripts/fix.ps1',
      content: 'Write-Output fixed',
      check: { shell: 'pwsh', file: 'scripts/check.ps1', content: 'exit 0' },
      run: 'schedule',
      interval_hours: 24,
      schedule: '0 18 * * 1-5',
      catch_up_minutes: 120,
      timeout_seconds: 120,
      max_output_bytes: 4096,
      max_memory_mb: 512,
      platforms: ['windows', 'linux', 'darwin'],
      order: 5,
      targets,
    },
  },
  ExternalFact: {
    apiVersion: API_VERSION,
    kind: 'ExternalFact',
    metadata,
    spec: { shell: 'bash', file: 'facts/disk.sh', content: 'echo {}', timeout_seconds: 10, max_output_bytes: 2048, max_memory_mb: 256, platforms: ['linux'], targets },
  },
  ChocoDeployment: {
    apiVersion: API_VERSION,
    kind: 'ChocoDeployment',
    metadata,
    spec: {
      packages: [
        { name: 'notepadplusplus', version: '8.6.9', ensure: 'present', pin: true, source: 'internal', install_args: '/S', timeout_seconds: 900 },
      ],
      targets,
    },
  },
};

/** Follows `#/$defs/...` refs within the bundle (all refs are local there). */
function resolve(schema: JsonSchema): JsonSchema {
  return typeof schema.$ref === 'string' ? resolve(subschema(bundledSchema, schema.$ref.slice(2).split('/'))) : schema;
}

/** Every declared property in the bundle: [JSON pointer, property schema]. `if` only selects. */
function propertiesOf(schema: unknown, pointer = ''): Array<[string, JsonSchema]> {
  if (schema === null || typeof schema !== 'object') return [];
  return Object.entries(schema).flatMap(([key, child]) => {
    if (key === 'if' || key === 'examples' || key === 'default' || key === 'const' || key === 'enum') return [];
    const here = `${pointer}/${key}`;
    if (key !== 'properties') return propertiesOf(child, here);
    return Object.entries(child as Record<string, JsonSchema>).flatMap(([name, property]) => [
      [`${here}/${name}`, property] as [string, JsonSchema],
      ...propertiesOf(property, `${here}/${name}`),
    ]);
  });
}

/** Dotted property paths a schema declares, following refs and list items; free maps are leaves. */
function schemaPaths(schema: JsonSchema, prefix = ''): string[] {
  const resolved = resolve(schema);
  const items = resolved.items as JsonSchema | undefined;
  if (items) return schemaPaths(items, `${prefix}[]`);
  const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).flatMap(([name, child]) => [`${prefix}.${name}`, ...schemaPaths(child, `${prefix}.${name}`)]);
}

function documentPaths(value: unknown, prefix = '', freeMaps: ReadonlySet<string> = new Set()): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => documentPaths(item, `${prefix}[]`, freeMaps));
  if (value === null || typeof value !== 'object' || freeMaps.has(prefix)) return [];
  return Object.entries(value).flatMap(([name, child]) => [`${prefix}.${name}`, ...documentPaths(child, `${prefix}.${name}`, freeMaps)]);
}

function settingsLeaves(schema: JsonSchema, prefix: string): Array<[string, JsonSchema]> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).flatMap(([name, child]) =>
    child.properties ? settingsLeaves(child, `${prefix}.${name}`) : [[`${prefix}.${name}`, child] as [string, JsonSchema]],
  );
}

function bundledErrors(): string {
  return JSON.stringify(validateBundled.errors?.filter((e) => e.keyword !== 'if'));
}

test('every kind schema, the common schema and the bundle compile in ajv strict mode', () => {
  const ajv = new Ajv2020(AJV_OPTIONS);
  ajv.addSchema(commonSchema);
  for (const kind of KINDS) assert.equal(typeof ajv.compile(kindSchemas[kind]), 'function', kind);
  assert.equal(typeof new Ajv2020(AJV_OPTIONS).compile(bundledSchema), 'function');
});

test('the bundled schema and the template copy equal a fresh build', () => {
  const fresh = bundledSchemaText();
  for (const target of BUNDLE_TARGETS) {
    const path = relative(ROOT, fileURLToPath(target));
    assert.equal(readFileSync(target, 'utf8'), fresh, `${path} is stale: run npx node schemas/scripts/bundle-schema.ts`);
  }
  assert.doesNotMatch(fresh, /"\$ref": "(?!#)/, 'the bundle must not refer to other files');
});

test('docs/policy-reference.md equals a fresh render', () => {
  const rendered = renderPolicyReference();
  assert.equal(readFileSync(POLICY_REFERENCE_PATH, 'utf8'), rendered, 'docs/policy-reference.md is stale: run npm run docs:policy-reference');
});

test('the policy reference documents every error code and every settings key', () => {
  const rendered = renderPolicyReference();
  for (const [code, text] of Object.entries(POLICY_ERRORS)) {
    assert.ok(rendered.includes(`| \`${code}\` | ${text.replaceAll('|', '\\|')} |`), `${code} missing from the reference`);
  }
  for (const [key] of settingsLeaves(subschema(commonSchema, ['$defs', 'settingsBlock']), '')) {
    assert.ok(rendered.includes(`| \`${key.slice(1)}\` |`), `settings key ${key} missing from the reference`);
  }
});

test('every property has a description and examples for the admin', () => {
  const offenders = propertiesOf(bundledSchema)
    .filter(([, property]) => {
      const described = { ...resolve(property), ...property };
      return typeof described.description !== 'string' || !Array.isArray(described.examples) || described.examples.length === 0;
    })
    .map(([pointer]) => pointer);
  assert.ok(propertiesOf(bundledSchema).length > 80);
  assert.deepEqual(offenders, []);
});

test('every example and default is valid for its own property', () => {
  const ajv = bundleAjv();
  const invalid: string[] = [];
  for (const [pointer, property] of propertiesOf(bundledSchema)) {
    const validate = ajv.compile({ $ref: `${bundledSchema.$id}#${pointer}` });
    const samples = [...((property.examples as unknown[]) ?? []), ...('default' in property ? [property.default] : [])];
    for (const sample of samples) if (!validate(sample)) invalid.push(`${pointer}: ${JSON.stringify(sample)}`);
  }
  assert.deepEqual(invalid, []);
});

test('every settings leaf and reconcile guard has a default', () => {
  const leaves = [
    ...settingsLeaves(subschema(commonSchema, ['$defs', 'settingsBlock']), 'settings'),
    ...settingsLeaves(subschema(kindSchemas.Settings, ['properties', 'spec', 'properties', 'reconcile']), 'reconcile'),
  ];
  assert.equal(leaves.length, 26);
  assert.deepEqual(leaves.filter(([, leaf]) => !('default' in leaf)).map(([path]) => path), []);
});

test('settingsDefaults returns the defaults model.ts documents, as a fresh copy each call', () => {
  const defaults = settingsDefaults();
  assert.deepEqual(defaults, {
    agent: { interval_seconds: 1800, jitter_seconds: 120, heartbeat_seconds: 60 },
    agent_update: { version: '', rollout_percent: 100 },
    scripts: { timeout_seconds: 600, max_output_bytes: 65536 },
    external_facts: { timeout_seconds: 60, max_output_bytes: 65536 },
    choco: { upgrade_all: false, upgrade_interval_hours: 24, skip_pinned: true },
    remote_console: { enabled: false, require_consent: true, idle_timeout_minutes: 15, max_duration_minutes: 120, consent_timeout_seconds: 60, consent_default: 'deny' },
    logging: { level: 'info', retention_days: 14, max_file_mb: 10 },
    reporting: { retry_max_attempts: 0, retry_base_seconds: 5, retry_max_seconds: 900 },
  });
  defaults.agent.interval_seconds = 1;
  assert.equal(settingsDefaults().agent.interval_seconds, 1800);
  assert.deepEqual(reconcileDefaults(), { deletion_budget_percent: 25, allow_mass_deletion: false });
});

test('a maximal document of each kind, typed by model.ts, validates and covers every schema property', () => {
  const ajv = new Ajv2020(AJV_OPTIONS);
  ajv.addSchema(commonSchema);
  const freeMaps = new Set(['.metadata.labels', '.spec.targets.facts']);
  for (const kind of KINDS) {
    const document = maximalDocuments[kind];
    const validateKind = ajv.compile(kindSchemas[kind]);
    assert.ok(validateKind(document), `${kind}: ${JSON.stringify(validateKind.errors)}`);
    assert.ok(validateBundled(document), `${kind} (bundled): ${bundledErrors()}`);
    const used = new Set(documentPaths(document, '', freeMaps));
    const unused = schemaPaths(subschema(bundledSchema, ['$defs', kind])).filter((path) => !used.has(path));
    assert.deepEqual(unused, [], `${kind}: schema properties missing from model.ts or from the maximal example`);
  }
});

test('the schemas\' own example documents validate', () => {
  for (const kind of KINDS) {
    for (const example of kindSchemas[kind].examples as unknown[]) assert.ok(validateBundled(example), `${kind}: ${bundledErrors()}`);
  }
});

test('the bundled schema rejects typos, wrong values and unknown kinds with readable errors', () => {
  const script = maximalDocuments.Script;
  const cases: Array<[string, unknown, string]> = [
    ['unknown spec property', { ...script, spec: { ...script.spec, shel: 'bash' } }, 'additionalProperties'],
    ['unknown settings key', { ...maximalDocuments.Settings, spec: { settings: { agent: { interval: 60 } } } }, 'additionalProperties'],
    ['shell not in the enum', { ...script, spec: { ...script.spec, shell: 'zsh' } }, 'enum'],
    ['unknown kind', { ...script, kind: 'Playbook' }, 'enum'],
    ['missing kind', { apiVersion: API_VERSION, metadata, spec: {} }, 'required'],
    ['wrong apiVersion', { ...script, apiVersion: 'pswm/v2' }, 'const'],
    ['upper-case document name', { ...script, metadata: { name: 'Disable-SMB' } }, 'pattern'],
    ['location without organization', { ...script, spec: { ...script.spec, targets: { locations: ['paris'] } } }, 'pattern'],
    ['interval below 30 seconds', { ...maximalDocuments.Settings, spec: { settings: { agent: { interval_seconds: 10 } } } }, 'minimum'],
    ['cron with four fields', { ...script, spec: { ...script.spec, schedule: '0 18 * *' } }, 'pattern'],
    ['package without a name', { ...maximalDocuments.ChocoDeployment, spec: { packages: [{ version: '1.0' }] } }, 'required'],
    ['output cap above 16 MiB', { ...script, spec: { ...script.spec, max_output_bytes: 17 * 1024 * 1024 } }, 'maximum'],
  ];
  for (const [name, document, keyword] of cases) {
    assert.equal(validateBundled(document), false, name);
    assert.ok(validateBundled.errors?.some((e) => e.keyword === keyword), `${name}: ${bundledErrors()}`);
  }
});

test('rules the validator reports with its own codes stay out of the schema', () => {
  // SCRIPT_SOURCE, RUN_MODE and SHELL_PLATFORM give clearer messages than a schema could.
  const script = { apiVersion: API_VERSION, kind: 'Script', metadata: { name: 'x' }, spec: { shell: 'cmd', run: 'interval', platforms: ['linux'] } };
  assert.ok(validateBundled(script), bundledErrors());
});

test('every document of the policy repository template validates against the bundle its modeline names', () => {
  const template = join(ROOT, 'policy-repo-template');
  const files = readdirSync(template, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'));
  let documents = 0;
  for (const file of files) {
    const text = readFileSync(join(template, file), 'utf8');
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    if (modeline) assert.equal(join(dirname(join(template, file)), modeline[1]), join(template, '.pswm/pswm.schema.json'), file);
    if (!text.includes(`apiVersion: ${API_VERSION}`)) continue;
    for (const document of parseAllDocuments(text)) {
      documents++;
      assert.ok(validateBundled(document.toJS()), `${file}: ${bundledErrors()}`);
    }
  }
  assert.ok(documents > 5, 'the template holds policy documents');
});
