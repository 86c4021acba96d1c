// `pswm-server run`: runs one Script of this agent's desired state now, whatever its run mode, and
// answers with the result on the WebSocket. Only a script the agent's current document names can run
// (the server checked the applied revision; the agent checks its own document), so the policy
// repository stays the allowlist.
import { randomUUID } from 'node:crypto';
import type { AgentToServer, OnDemandResult } from '@pswm/schemas/console-wire';
import { fetchDesiredState, loadCachedDesiredState, type CachedDesiredState } from '../api/desired-state.ts';
import { runScript } from '../converge/scripts/run-script.ts';
import type { AgentSetup } from '../loop/agent-setup.ts';
import type { RunStart } from './remote-link.ts';

/** stdout and stderr sent back are cut to this (one WebSocket message stays under the server's 64 KiB). */
const MAX_WIRE_OUTPUT = 24 * 1024;

export async function runOnDemand(
  setup: Pick<AgentSetup, 'session' | 'paths' | 'iteration'>,
  request: RunStart,
  reply: (message: AgentToServer) => void,
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void },
): Promise<void> {
  const current = await currentDocument(setup);
  const script = current?.state.scripts.find((candidate) => candidate.name === request.script);
  if (!current || !script) {
    const message = `script "${request.script}" is not in this agent's desired state`;
    log.warn('on-demand run refused', { run: request.run, script: request.script, reason: message });
    return reply({ type: 'run.refused', run: request.run, message });
  }
  reply({ type: 'run.accepted', run: request.run });
  log.info('on-demand run started', { run: request.run, script: script.name, actor: request.actor, reason: request.reason });
  const result = await runScript({
    shell: script.shell, content: script.content, timeoutSeconds: script.timeout_seconds, maxOutputBytes: script.max_output_bytes,
    cwd: setup.paths.root, scriptsDir: setup.paths.scriptsCache,
  });
  const stdout = cut(result.stdout);
  const stderr = cut(result.skippedReason ?? result.stderr);
  const wire: OnDemandResult = {
    id: randomUUID(), script: script.name, sha256: script.sha256, shell: script.shell,
    exit_code: result.exitCode, ...(result.signal ? { signal: result.signal } : {}), timed_out: result.timedOut,
    stdout: stdout.text, stderr: stderr.text,
    stdout_truncated: result.stdoutTruncated || stdout.cut, stderr_truncated: result.stderrTruncated || stderr.cut,
    duration_ms: result.durationMs, started_at: result.startedAt,
    document: current.document, ...(current.revision ? { revision: current.revision } : {}),
  };
  log.info('on-demand run finished', { run: request.run, script: script.name, exit_code: result.exitCode });
  reply({ type: 'run.result', run: request.run, result: wire });
}

/** The newest document: asked of the server, else the one on disk. */
async function currentDocument(setup: Pick<AgentSetup, 'session' | 'iteration'>): Promise<CachedDesiredState | undefined> {
  try {
    const answer = await fetchDesiredState(setup.session, setup.iteration.desiredStateFile, new Date());
    if (answer.status !== 'none') return answer.cached;
  } catch {
    // the server is unreachable over HTTP: the cached document is the agent's policy meanwhile
  }
  return loadCachedDesiredState(setup.iteration.desiredStateFile);
}

function cut(text: string): { text: string; cut: boolean } {
  if (Buffer.byteLength(text) <= MAX_WIRE_OUTPUT) return { text, cut: false };
  return { text: Buffer.from(text).subarray(0, MAX_WIRE_OUTPUT).toString().replace(/\uFFFD$/, ''), cut: true };
}
