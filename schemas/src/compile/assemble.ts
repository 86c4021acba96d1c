// The document an agent downloads, put together from a scope's two parts and the content store:
// scripts and external facts get their content back, and the timeouts and output caps their spec
// leaves open are filled from the scope's effective settings. The server does this when serving
// (and caches the result); compileGroup does it too, so there is one way to build a document.
import type { CompiledDocument, CompiledExternalFact, CompiledScript, DesiredState } from '../model.ts';
import { API_VERSION } from '../model.ts';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import type { ResourcesPart, SettingsPart } from './parts.ts';
import { normalizePackage } from './packages.ts';
import type { ExternalFactResource, ScriptResource } from './scripts.ts';

const DOCUMENT_DIGEST_PREFIX = 'pswm-desired-state/v1\n';

/** The id (and ETag) of the document made of these two parts. It names the parts, not the bytes
 * served: those are a function of the parts (scripts are named by content sha256 inside the
 * resources part), so it is still strong and content-addressed, and the server can tell whether a
 * scope's document changed without assembling it. */
export function documentDigest(settingsSha256: string, resourcesSha256: string): string {
  return sha256Hex(`${DOCUMENT_DIGEST_PREFIX}${settingsSha256}\n${resourcesSha256}`);
}

/** `contentOf` returns the text whose sha256 is given (policy contents, or the server's content
 * table). `json` is the canonical JSON of the full state; `sha256` is documentDigest of the parts
 * (not sha256 of `json`). Throws when a content is unknown: the parts and the store disagree. */
export function assembleDocument(settingsJson: string, resourcesJson: string, contentOf: (sha256: string) => string | undefined): CompiledDocument {
  const { settings, provenance } = JSON.parse(settingsJson) as SettingsPart;
  const resources = JSON.parse(resourcesJson) as ResourcesPart;
  const content = (sha256: string, owner: string): string => {
    const text = contentOf(sha256);
    if (text === undefined) throw new Error(`assembleDocument: no content with sha256 ${sha256} (${owner}); the content store lacks what the resources part names`);
    return text;
  };
  const state: DesiredState = {
    apiVersion: API_VERSION,
    settings,
    provenance,
    scripts: resources.scripts.map((script) => fillScript(script, settings, content)),
    packages: resources.packages.map((compiled) => ({ ...normalizePackage(compiled), deployment: compiled.deployment })),
    external_facts: resources.external_facts.map((fact) => fillExternalFact(fact, settings, content)),
    conflicts: resources.conflicts,
  };
  return { state, json: canonicalJson(state), sha256: documentDigest(sha256Hex(settingsJson), sha256Hex(resourcesJson)) };
}

type ContentLookup = (sha256: string, owner: string) => string;

// Fields in the order the compiler always wrote them (parts are canonical, so sorted), so expectation
// files and plan output read the same.
function fillScript(script: ScriptResource, settings: DesiredState['settings'], content: ContentLookup): CompiledScript {
  const { check } = script;
  return {
    name: script.name,
    shell: script.shell,
    content: content(script.sha256, `Script/${script.name}`),
    sha256: script.sha256,
    ...(check ? { check: { shell: check.shell, content: content(check.sha256, `Script/${script.name}#check`), sha256: check.sha256 } } : {}),
    run: script.run,
    ...(script.interval_hours !== undefined ? { interval_hours: script.interval_hours } : {}),
    ...(script.schedule !== undefined ? { schedule: script.schedule } : {}),
    ...(script.catch_up_minutes !== undefined ? { catch_up_minutes: script.catch_up_minutes } : {}),
    timeout_seconds: script.timeout_seconds ?? settings.scripts.timeout_seconds,
    max_output_bytes: script.max_output_bytes ?? settings.scripts.max_output_bytes,
    ...(script.max_memory_mb !== undefined ? { max_memory_mb: script.max_memory_mb } : {}),
    platforms: script.platforms,
    order: script.order,
  };
}

function fillExternalFact(fact: ExternalFactResource, settings: DesiredState['settings'], content: ContentLookup): CompiledExternalFact {
  return {
    name: fact.name,
    shell: fact.shell,
    content: content(fact.sha256, `ExternalFact/${fact.name}`),
    sha256: fact.sha256,
    timeout_seconds: fact.timeout_seconds ?? settings.external_facts.timeout_seconds,
    max_output_bytes: fact.max_output_bytes ?? settings.external_facts.max_output_bytes,
    ...(fact.max_memory_mb !== undefined ? { max_memory_mb: fact.max_memory_mb } : {}),
    platforms: fact.platforms,
  };
}
