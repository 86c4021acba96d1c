// The policy model shared by loader, validator, compiler, planner, server and agent.
// The JSON Schemas in ../json/ describe the same shapes for editors and for ajv; this file is
// the TypeScript view of them. Keep both in step (a test compares their property names).

export const API_VERSION = 'pswm/v1';

export const KINDS = [
  'Settings',
  'Organization',
  'Location',
  'AgentOverride',
  'Script',
  'ExternalFact',
  'ChocoDeployment',
] as const;
export type Kind = (typeof KINDS)[number];

export const SHELLS = ['powershell', 'pwsh', 'cmd', 'sh', 'bash'] as const;
export type Shell = (typeof SHELLS)[number];

export const PLATFORMS = ['windows', 'linux', 'darwin'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const RUN_MODES = ['every_iteration', 'single_run', 'interval', 'schedule'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export const ENSURE_VALUES = ['present', 'latest', 'absent'] as const;
export type Ensure = (typeof ENSURE_VALUES)[number];

/** The typed, mergeable settings block (global → organization → location → agent). All optional in
 * a layer; the schema's defaults fill the effective result. */
export interface SettingsBlock {
  agent?: {
    interval_seconds?: number; // default 1800
    jitter_seconds?: number; // default 120
    heartbeat_seconds?: number; // default 60
  };
  agent_update?: {
    version?: string; // default '': agents keep the build they run
    rollout_percent?: number; // default 100
  };
  scripts?: {
    timeout_seconds?: number; // default 600
    max_output_bytes?: number; // default 65536
  };
  external_facts?: {
    timeout_seconds?: number; // default 60
    max_output_bytes?: number; // default 65536
  };
  choco?: {
    upgrade_all?: boolean; // default false
    upgrade_interval_hours?: number; // default 24
    skip_pinned?: boolean; // default true: `choco upgrade all` leaves pinned packages alone
  };
  remote_console?: {
    enabled?: boolean; // default false
    require_consent?: boolean; // default true
    idle_timeout_minutes?: number; // default 15
    max_duration_minutes?: number; // default 120
    consent_timeout_seconds?: number; // default 60
    consent_default?: 'deny' | 'allow'; // default deny
  };
  logging?: {
    level?: 'error' | 'warn' | 'info' | 'debug'; // default info
    retention_days?: number; // default 14
    max_file_mb?: number; // default 10
  };
  reporting?: {
    retry_max_attempts?: number; // default 0 = forever (results are never dropped)
    retry_base_seconds?: number; // default 5
    retry_max_seconds?: number; // default 900
  };
}

/** Targets select agents. organizations/locations/agents are OR'ed (omitted all three = every
 * agent); `facts` (every path must match; a list means any of its values) narrows further. */
export interface Targets {
  organizations?: string[];
  locations?: string[]; // "org/location"
  agents?: string[];
  facts?: Record<string, string | number | boolean | Array<string | number | boolean>>;
}

export interface Metadata {
  name: string;
  description?: string;
  labels?: Record<string, string>;
}

export interface SettingsSpec {
  settings?: SettingsBlock;
  /** Server-side reconcile guard, global layer only (not merged into agent settings). */
  reconcile?: {
    deletion_budget_percent?: number; // default 25
    allow_mass_deletion?: boolean; // default false
  };
}

export interface OrganizationSpec {
  display_name?: string;
  settings?: SettingsBlock;
}

export interface LocationSpec {
  organization: string;
  display_name?: string;
  settings?: SettingsBlock;
}

export interface AgentOverrideSpec {
  agent: string; // the enrolled agent's name
  organization?: string; // optional scope guard: applies only while the agent is in it
  location?: string; // "org/location"
  settings?: SettingsBlock;
}

export interface ScriptSource {
  /** Path relative to the YAML file's folder; must stay inside the repository. */
  file?: string;
  content?: string;
}

export interface ScriptSpec extends ScriptSource {
  shell: Shell;
  /** Exits 0 when the machine is already compliant; turns the script into a drift-detectable resource. */
  check?: ScriptSource & { shell?: Shell };
  run?: RunMode; // default every_iteration
  interval_hours?: number; // required when run = interval
  schedule?: string; // 5-field cron, required when run = schedule (agent local time)
  timeout_seconds?: number; // default: settings.scripts.timeout_seconds
  max_output_bytes?: number; // default: settings.scripts.max_output_bytes
  max_memory_mb?: number; // default: no limit (Linux: cgroup memory.max, else RLIMIT_AS)
  catch_up_minutes?: number; // run: schedule only; default: a missed run is made up once at the next iteration
  platforms?: Platform[]; // default: by shell (powershell/cmd → windows; sh/bash → linux, darwin; pwsh → all)
  order?: number; // default 100; scripts run by (order, name)
  targets?: Targets;
}

export interface ExternalFactSpec extends ScriptSource {
  shell: Shell;
  timeout_seconds?: number;
  max_output_bytes?: number;
  max_memory_mb?: number;
  platforms?: Platform[];
  targets?: Targets;
}

export interface PackageDeclaration {
  name: string;
  version?: string;
  ensure?: Ensure; // default present
  pin?: boolean; // default false
  source?: string;
  install_args?: string;
  timeout_seconds?: number;
}

export interface ChocoDeploymentSpec {
  packages: PackageDeclaration[];
  targets?: Targets;
}

export interface SpecByKind {
  Settings: SettingsSpec;
  Organization: OrganizationSpec;
  Location: LocationSpec;
  AgentOverride: AgentOverrideSpec;
  Script: ScriptSpec;
  ExternalFact: ExternalFactSpec;
  ChocoDeployment: ChocoDeploymentSpec;
}

// ---------------------------------------------------------------------------------------------
// Loader input and output

/** One file of the repository as the caller read it (git tree or directory). Paths are POSIX,
 * relative to the repository root, without a leading "./". */
export interface RepoFile {
  path: string;
  /** File text (UTF-8). Undefined for symlinks. */
  text?: string;
  /** Set when the entry is a symbolic link: its target as stored. */
  symlinkTarget?: string;
  /** Byte size of the content (lets the loader refuse oversize files without reading them). */
  size: number;
  /** Git blob id of the content when read from a git tree: lets loaders reuse work for unchanged files. */
  oid?: string;
}

export interface SourcePosition {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

/** A parsed, schema-valid document. */
export interface PolicyDocument<K extends Kind = Kind> {
  kind: K;
  /** Unique identity within its kind: metadata.name, or "org/name" for a Location. */
  id: string;
  metadata: Metadata;
  spec: SpecByKind[K];
  /** Where the document starts. */
  source: SourcePosition;
  /** Position of a value inside this document, by JSON pointer-ish path such as
   * ["spec", "settings", "agent", "interval_seconds"]; falls back to the nearest ancestor. */
  positionOf(path: ReadonlyArray<string | number>): SourcePosition;
}

/** Script or fact content resolved from `file` or `content`, with its digest. */
export interface ResolvedContent {
  content: string;
  sha256: string;
  /** Repository path it came from, or undefined for inline content. */
  file?: string;
}

/** The validated policy of one revision: everything compile and plan need, no I/O left. */
export interface Policy {
  settings?: PolicyDocument<'Settings'>;
  organizations: Map<string, PolicyDocument<'Organization'>>;
  locations: Map<string, PolicyDocument<'Location'>>; // key "org/name"
  overrides: Map<string, PolicyDocument<'AgentOverride'>>; // key metadata.name
  scripts: Map<string, PolicyDocument<'Script'>>;
  externalFacts: Map<string, PolicyDocument<'ExternalFact'>>;
  chocoDeployments: Map<string, PolicyDocument<'ChocoDeployment'>>;
  /** Resolved script/check/fact contents, keyed by `${kind}/${name}` and `${kind}/${name}#check`. */
  contents: Map<string, ResolvedContent>;
}

export interface PolicyError {
  code: string; // from errors.ts
  message: string;
  file: string;
  line: number;
  col: number;
}

export type LoadResult = { ok: true; policy: Policy; warnings: PolicyError[] } | { ok: false; errors: PolicyError[]; warnings: PolicyError[] };

// ---------------------------------------------------------------------------------------------
// Compile

/** What the server knows about an agent when compiling its desired state. */
export interface AgentIdentity {
  name: string;
  organization: string;
  location: string; // location name within the organization (not "org/name")
  facts?: Record<string, unknown>; // nested object; fact paths are dotted ("os.family")
}

export interface Provenance {
  /** "Kind/id", e.g. "Location/acme/paris", or "default" for schema defaults. */
  document: string;
  file?: string;
  line?: number;
}

export interface CompiledScript {
  name: string;
  shell: Shell;
  content: string;
  sha256: string;
  check?: { shell: Shell; content: string; sha256: string };
  run: RunMode;
  interval_hours?: number;
  schedule?: string;
  catch_up_minutes?: number;
  timeout_seconds: number;
  max_output_bytes: number;
  max_memory_mb?: number;
  platforms: Platform[];
  order: number;
}

export interface CompiledExternalFact {
  name: string;
  shell: Shell;
  content: string;
  sha256: string;
  timeout_seconds: number;
  max_output_bytes: number;
  max_memory_mb?: number;
  platforms: Platform[];
}

export interface CompiledPackage {
  name: string;
  ensure: Ensure;
  version?: string;
  pin: boolean;
  source?: string;
  install_args?: string;
  timeout_seconds?: number;
  /** The ChocoDeployment that declared it. */
  deployment: string;
}

/** The desired state of a group of agents: the document the agent downloads, assembled from the
 * group's CompiledParts (assembleDocument). Its id is the digest of those parts. It holds no
 * revision and no line numbers, so a commit that changes nothing for a group leaves its id (and its
 * agents) alone. */
export interface DesiredState {
  apiVersion: 'pswm/v1';
  settings: Required<{ [K in keyof SettingsBlock]-?: Required<NonNullable<SettingsBlock[K]>> }>;
  /** Per dotted settings key: the document (and file) that set it. */
  provenance: Record<string, { document: string; file?: string }>;
  scripts: CompiledScript[];
  packages: CompiledPackage[];
  external_facts: CompiledExternalFact[];
  /** Unresolvable package conflicts found for this group (reported, package left out). */
  conflicts: Array<{ package: string; documents: string[] }>;
}

export interface CompiledDocument {
  state: DesiredState;
  /** Canonical JSON text of `state` (sorted keys, no whitespace). */
  json: string;
  /** documentDigest of the two parts it was assembled from (the ETag), not sha256 of `json`. */
  sha256: string;
}

/** One content-addressed part of a compiled document: its canonical JSON and that text's sha256. */
export interface DocumentPart {
  json: string;
  sha256: string;
}

/** A scope's desired state as stored: the settings part `{ settings, provenance }` and the resources
 * part (scripts and external facts without their content and with only the timeouts/output caps
 * their spec sets, packages, conflicts). Scopes of one location usually share the resources part.
 * `sha256` is documentDigest(settings.sha256, resources.sha256): the document's id and ETag. */
export interface CompiledParts {
  settings: DocumentPart;
  resources: DocumentPart;
  sha256: string;
}
