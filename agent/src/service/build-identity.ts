// What this program is: the TypeScript sources (or their compiled copy), or a single-file build
// (pswm.exe, dist-linux/pswm) whose identity agent/scripts/bundle.ts wrote into the bundle as the
// PSWM_BUILD constant. Self-update compares versions and `--version` prints the sources' digest.
import agentPackage from '../../package.json' with { type: 'json' };

export interface BuildIdentity {
  version: string;
  /** sha256 over the bundled source files (path and content), as agent/scripts/bundle.ts computes it. */
  digest: string;
  /** 'linux' | 'windows': the platform the single-file build is for. */
  platform: string;
  node: string;
  built_at: string;
}

// Replaced by esbuild's `define` in a bundle; an undeclared global everywhere else.
declare const PSWM_BUILD: BuildIdentity | undefined;

/** The single-file build's identity, or undefined when running the sources. */
export function runningBuild(): BuildIdentity | undefined {
  return typeof PSWM_BUILD === 'undefined' ? undefined : PSWM_BUILD;
}

/** What `pswm --version` prints after the name: the version, and for a single-file build the
 * sources' digest (the Node version follows from versionLine). */
export function versionDetail(): string {
  const build = runningBuild();
  if (!build) return agentPackage.version;
  return `${build.version} (single-file ${build.platform} build, sources sha256 ${build.digest}, built ${build.built_at})`;
}
