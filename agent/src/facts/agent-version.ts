import agentPackage from '../../package.json' with { type: 'json' };
import { runningBuild } from '../service/build-identity.ts';

/** The agent's version (reported as a fact, compared by self-update, printed by `pswm --version`):
 * a single-file build's own (a release may set it), else the package's. A JSON import rather than a
 * file read, so the bundled single-file build needs no package.json beside it. */
export async function agentVersion(): Promise<string> {
  return runningBuild()?.version ?? agentPackage.version;
}
