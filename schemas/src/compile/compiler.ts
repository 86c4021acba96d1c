// The compiler of one policy revision: indexes the policy once, then compiles any agent's parts by
// looking up only the objects that can apply to it. What many scopes share is worked out once and
// kept: the settings merged down to each organization and each location (with the location's
// settings part, which an override's part is spliced from), and each resources part by resources
// key (the organization, location and name where some target lists them, and the values of the
// facts selectors test). A Policy never changes after loading, so nothing here goes stale.
import type { AgentIdentity, CompiledParts, DocumentPart, Policy, PolicyDocument } from '../model.ts';
import { factAt, matchTargets, SPECIFICITY } from '../targets.ts';
import { canonicalJson } from '../canonical-json.ts';
import { applicableOverride, defaultsLayer, layersOf, mergeSettings, type MergedSettings } from './settings.ts';
import { byName, byOrderThenName, externalFactResource, scriptResource, type ExternalFactResource, type ScriptResource, type TargetMatcher } from './scripts.ts';
import { preparePackages, resolvePackages, type MatchedDeployment } from './packages.ts';
import { agentsNamedByTargets, referencedFactPaths, selectorValue } from './selectors.ts';
import { candidatesFor, indexByTargets } from './target-index.ts';
import { documentPart, overlaySettingsJson, resourcesPartJson, serializeSettings, type Prepared, type SerializedSettings } from './parts.ts';
import { documentDigest } from './assemble.ts';

export interface Compiler {
  compileParts(agent: AgentIdentity): CompiledParts;
  /** Agents with equal keys get equal parts (see group-key.ts). */
  groupKey(agent: AgentIdentity): string;
}

type Targeted<T> = Prepared<T> & { document: PolicyDocument<'Script' | 'ExternalFact'> };

/** `matches` is matchTargets unless the caller (the planner) wants fact selectors assumed true. */
export function createCompiler(policy: Policy, matches: TargetMatcher = matchTargets): Compiler {
  const targetsOf = (item: { document: PolicyDocument<'Script' | 'ExternalFact' | 'ChocoDeployment'> }) => item.document.spec.targets;
  const scripts = indexByTargets([...policy.scripts.values()].map((document) => prepared(document, scriptResource(policy, document))), targetsOf);
  const externalFacts = indexByTargets([...policy.externalFacts.values()].map((document) => prepared(document, externalFactResource(policy, document))), targetsOf);
  const deployments = indexByTargets([...policy.chocoDeployments.values()].map((document) => ({ document, packages: preparePackages(document) })), targetsOf);
  const factPaths = referencedFactPaths(policy);
  const namedAgents = agentsNamedByTargets(policy);
  const listedOrganizations = new Set([scripts, externalFacts, deployments].flatMap((index) => [...index.byOrganization.keys()]));
  const listedLocations = new Set([scripts, externalFacts, deployments].flatMap((index) => [...index.byLocation.keys()]));

  const globalMerge = mergeSettings([defaultsLayer(), ...layersOf([policy.settings])]);
  const organizationMerges = new Map<string, MergedSettings>();
  const locationSettings = new Map<string, { serialized: SerializedSettings; part: DocumentPart }>();
  const resourcesParts = new Map<string, DocumentPart>();

  const factValues = (agent: AgentIdentity) => factPaths.map((path) => selectorValue(factAt(agent.facts ?? {}, path)));
  const listedName = (agent: AgentIdentity) => (namedAgents.has(agent.name) ? agent.name : null);

  function settingsPart(agent: AgentIdentity): DocumentPart {
    const locationKey = `${agent.organization}/${agent.location}`;
    const location = memoize(locationSettings, locationKey, () => {
      const organization = memoize(organizationMerges, agent.organization, () => mergeSettings(layersOf([policy.organizations.get(agent.organization)]), globalMerge));
      const serialized = serializeSettings(mergeSettings(layersOf([policy.locations.get(locationKey)]), organization));
      return { serialized, part: documentPart(serialized.json) };
    });
    const [overrideLayer] = layersOf([applicableOverride(policy, agent)]);
    // Not kept: an override's part serves one agent, and is cheap to build on its location's.
    return overrideLayer ? documentPart(overlaySettingsJson(location.serialized, overrideLayer)) : location.part;
  }

  /** What the resources part can depend on: targets only test whether their lists hold the agent's
   * organization, location and name, so those count only where some list holds them. Every
   * location nobody targets shares its organization's part. */
  function resourcesKey(agent: AgentIdentity): string {
    const locationKey = `${agent.organization}/${agent.location}`;
    const organization = listedOrganizations.has(agent.organization) ? agent.organization : null;
    return JSON.stringify([organization, listedLocations.has(locationKey) ? locationKey : null, listedName(agent), factValues(agent)]);
  }

  function resourcesPart(agent: AgentIdentity): DocumentPart {
    return memoize(resourcesParts, resourcesKey(agent), () => {
      const selects = (item: { document: PolicyDocument<'Script' | 'ExternalFact' | 'ChocoDeployment'> }) => matches(item.document.spec.targets, agent);
      const matchedScripts = [...candidatesFor(scripts, agent)].filter((s) => selects(s) !== null).sort((a, b) => byOrderThenName(a.resource, b.resource));
      const matchedFacts = [...candidatesFor(externalFacts, agent)].filter((f) => selects(f) !== null).sort((a, b) => byName(a.resource, b.resource));
      const matchedDeployments: MatchedDeployment[] = [];
      for (const deployment of candidatesFor(deployments, agent)) {
        const specificity = selects(deployment);
        if (specificity !== null) matchedDeployments.push({ rank: SPECIFICITY[specificity], packages: deployment.packages });
      }
      const { packages, conflicts } = resolvePackages(matchedDeployments);
      return documentPart(resourcesPartJson(matchedScripts, matchedFacts, packages, conflicts));
    });
  }

  return {
    compileParts(agent) {
      const settings = settingsPart(agent);
      const resources = resourcesPart(agent);
      return { settings, resources, sha256: documentDigest(settings.sha256, resources.sha256) };
    },
    groupKey(agent) {
      const facts: Record<string, string | null> = {};
      factValues(agent).forEach((value, i) => (facts[factPaths[i]] = value));
      return canonicalJson({
        organization: agent.organization,
        location: agent.location,
        override: applicableOverride(policy, agent)?.id ?? null,
        agent: listedName(agent),
        facts,
      });
    },
  };
}

// One compiler per (policy, matcher) for the policy-level wrappers (compileGroup, groupKey,
// compileState), so callers that loop over agents get the memoized parts without holding a compiler.
const compilers = new WeakMap<Policy, Map<TargetMatcher, Compiler>>();

export function compilerFor(policy: Policy, matches: TargetMatcher = matchTargets): Compiler {
  let byMatcher = compilers.get(policy);
  if (!byMatcher) compilers.set(policy, (byMatcher = new Map()));
  return memoize(byMatcher, matches, () => createCompiler(policy, matches));
}

function prepared<T extends ScriptResource | ExternalFactResource>(document: PolicyDocument<'Script' | 'ExternalFact'>, resource: T): Targeted<T> {
  return { document, resource, json: canonicalJson(resource) };
}

function memoize<K, V>(cache: Map<K, V>, key: K, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make()));
  return value;
}
