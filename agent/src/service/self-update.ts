// Self-update of a single-file build (pswm.exe, dist-linux/pswm): the policy names a release version
// (settings.agent_update), the agents in its rollout download it, check the Ed25519 signature with
// the release key pinned at enrollment and the sha256, stage it beside the running executable, swap,
// and try it: the new build must run an iteration and deliver its report (`agent --once --dry-run`)
// within the trial deadline, or the previous build is put back. A good build ends the service with
// EXIT_UPDATED so the service manager (systemd Restart=on-failure, the SCM's restart action) starts
// it; restart-trial.ts then gives the started build a deadline to report by, or puts the previous
// one back. Every step is logged, sent to the server's audit log and, on Windows, to the Event Log. A
// version that was refused or rolled back is remembered with its sha256 and not tried again: a bad
// release costs one download, never a loop.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import type * as Http from 'node:http';
import path from 'node:path';
import { inRollout, verifyReleaseSignature } from '@pswm/schemas/release-signature';
import type { DesiredState } from '@pswm/schemas';
import type { AgentSession } from '../api/session.ts';
import type { Logger } from '../logs/logger.ts';
import { loadJsonFile } from '../platform/json-file.ts';
import { runningBuild } from './build-identity.ts';
import { recordCriticalEvent } from './event-log.ts';
import { confirmSeconds, loadUpdateState, rememberRefused, restorePrevious, setPending, type PendingUpdate } from './restart-trial.ts';

export { loadUpdateState, UPDATE_STATE_FILE } from './restart-trial.ts';

/** The service exits with this after a swap so the service manager starts the new build. */
export const EXIT_UPDATED = 75;
const DEFAULT_TRIAL_SECONDS = 120;

export type UpdateSetting = DesiredState['settings']['agent_update'] | undefined;

/** Versions not to try again, with the sha256 that failed (a re-published build is tried). */
export interface UpdateState {
  refused: Record<string, string>;
  /** Swapped in, not yet confirmed by a report after the restart (restart-trial.ts). */
  pending?: PendingUpdate;
}

export type UpdateDecision = { update: false; reason: string } | { update: true; version: string };

/** Pure: whether this agent should move to the version the policy names. */
export function decideUpdate(setting: UpdateSetting, opts: { agentId: string; runningVersion: string | undefined; pinnedKey: string | undefined; state: UpdateState }): UpdateDecision {
  const version = setting?.version;
  if (!version) return { update: false, reason: 'no agent_update.version in the settings' };
  if (opts.runningVersion === undefined) return { update: false, reason: 'self-update needs a single-file build (this is the TypeScript sources)' };
  if (version === opts.runningVersion) return { update: false, reason: `running ${version} already` };
  if (!inRollout(opts.agentId, setting?.rollout_percent ?? 100)) return { update: false, reason: `not in the ${setting?.rollout_percent} % rollout of ${version}` };
  if (!opts.pinnedKey) return { update: false, reason: 'no release key was pinned at enrollment (enroll again after pswm-server release keygen)' };
  if (opts.state.refused[version]) return { update: false, reason: `${version} was refused or rolled back before` };
  return { update: true, version };
}

export interface UpdateContext {
  agentId: string;
  server: string;
  session: AgentSession;
  pinnedKey: string;
  dataDir: string;
  /** The running single-file build (process.execPath). */
  executable: string;
  platform: 'linux' | 'windows';
  log: Logger;
  trialSeconds?: number;
}

export type UpdateOutcome = 'applied' | 'refused' | 'rolled_back' | 'failed';

/** What reporting a step needs; without a session (the agent could not be set up) it is only logged. */
export type StepContext = Pick<UpdateContext, 'log' | 'platform'> & { session: AgentSession | undefined };

/** Download → verify → stage → swap → trial → keep or roll back. */
export async function applyUpdate(ctx: UpdateContext, version: string): Promise<UpdateOutcome> {
  const from = runningBuild()?.version;
  const event = (step: string, outcome: 'info' | 'critical', fields: { sha256?: string; detail?: string } = {}) => reportStep(ctx, { step, version, from_version: from, ...fields }, outcome);

  let download: { content: Buffer; sha256: string; signature: string };
  try {
    download = await downloadRelease(ctx, version);
  } catch (error) {
    await event('failed', 'critical', { detail: `download failed: ${(error as Error).message}` });
    return 'failed';
  }
  const actual = createHash('sha256').update(download.content).digest('hex');
  const problem = actual !== download.sha256
    ? `sha256 mismatch: the server says ${download.sha256}, the download is ${actual}`
    : !verifyReleaseSignature(ctx.pinnedKey, { platform: ctx.platform, version, sha256: actual }, download.signature)
      ? 'the signature does not verify with the pinned release key'
      : undefined;
  if (problem) {
    await rememberRefused(ctx.dataDir, version, actual);
    await event('refused', 'critical', { sha256: actual, detail: `${problem}; never run` });
    return 'refused';
  }
  await event('downloaded', 'info', { sha256: actual });

  const staged = `${ctx.executable}.new`;
  const previous = `${ctx.executable}.previous`;
  await rm(staged, { force: true });
  await writeFile(staged, download.content, { mode: 0o755 });
  await chmod(staged, 0o755);
  await event('staged', 'info', { sha256: actual, detail: staged });
  // a running executable can be renamed (Windows too), not overwritten: move it aside, then in
  await rm(previous, { force: true });
  await rename(ctx.executable, previous);
  await rename(staged, ctx.executable);

  const trial = await tryBuild(ctx);
  if (!trial.ok) {
    await rm(ctx.executable, { force: true });
    await rename(previous, ctx.executable);
    await rememberRefused(ctx.dataDir, version, actual);
    await event('rolled_back', 'critical', { sha256: actual, detail: `the new build did not report within ${ctx.trialSeconds ?? DEFAULT_TRIAL_SECONDS} s: ${trial.detail}` });
    return 'rolled_back';
  }
  const seconds = confirmSeconds();
  await setPending(ctx.dataDir, { version, ...(from ? { from_version: from } : {}), sha256: actual, deadline: new Date(Date.now() + seconds * 1000).toISOString(), starts: 0 });
  await event('applied', 'critical', { sha256: actual, detail: `swapped; restarting through the service manager (previous build kept as ${path.basename(previous)}); the new build must deliver a report within ${seconds} s` });
  return 'applied';
}

/** After the restart: the new build delivered a report, so it stays. */
export async function confirmUpdate(ctx: StepContext & { dataDir: string }, pending: PendingUpdate): Promise<void> {
  await setPending(ctx.dataDir, undefined);
  await reportStep(ctx, { step: 'confirmed', version: pending.version, from_version: pending.from_version, sha256: pending.sha256, detail: 'the new build delivered a report after the restart' }, 'critical');
}

/** After the restart: the new build crashed or did not report in time; the previous one goes back.
 * The caller exits EXIT_UPDATED so the service manager starts it. */
export async function rollBackAfterRestart(ctx: StepContext & { dataDir: string; executable: string }, pending: PendingUpdate, reason: string): Promise<void> {
  await restorePrevious(ctx.dataDir, ctx.executable, pending);
  await reportStep(ctx, { step: 'rolled_back', version: pending.version, from_version: pending.from_version, sha256: pending.sha256, detail: `${reason}; the previous build is back and starts next` }, 'critical');
}

/** The new build runs one dry-run iteration on this data folder; it passes when its log says the
 * iteration finished and its report was delivered, within the deadline. */
async function tryBuild(ctx: UpdateContext): Promise<{ ok: boolean; detail: string }> {
  const seconds = ctx.trialSeconds ?? DEFAULT_TRIAL_SECONDS;
  return new Promise((resolve) => {
    let output = '';
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(ctx.executable, ['agent', '--once', '--dry-run'], { env: { ...process.env, PSWM_HOME: ctx.dataDir }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (error) {
      resolve({ ok: false, detail: `cannot start: ${(error as Error).message}` });
      return;
    }
    const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-64 * 1024));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    child.once('error', (error) => output += `\n${error.message}`);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const reported = /"msg":"iteration finished"/.test(output) && /"msg":"reports delivered","sent":[1-9]/.test(output);
      const tail = output.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
      resolve({ ok: reported, detail: reported ? 'reported' : `exit ${code ?? signal}${signal === 'SIGKILL' ? ' (deadline)' : ''}: ${tail}` });
    });
  });
}

async function downloadRelease(ctx: UpdateContext, version: string): Promise<{ content: Buffer; sha256: string; signature: string }> {
  const url = new URL(`/api/v1/agent/releases/${ctx.platform}/${encodeURIComponent(version)}`, ctx.server);
  const client = (url.protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http')) as typeof Http;
  const token = await ctx.session.accessToken();
  return new Promise((resolve, reject) => {
    const request = client.request(url, { headers: { authorization: `Bearer ${token}` }, timeout: 60_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const content = Buffer.concat(chunks);
        if (response.statusCode !== 200) return reject(new Error(`GET ${url.pathname}: HTTP ${response.statusCode} ${content.toString('utf8').slice(0, 200)}`));
        const sha256 = String(response.headers['x-pswm-release-sha256'] ?? '');
        const signature = String(response.headers['x-pswm-release-signature'] ?? '');
        resolve({ content, sha256, signature });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url.pathname}: no answer within 60 s`)));
    request.on('error', reject);
    request.end();
  });
}

/** Log (critical ones also to critical.log and the Windows Event Log) and tell the server, which
 * audits it. A server that cannot be told does not stop the update. */
export async function reportStep(ctx: StepContext, event: { step: string; version: string; from_version?: string; sha256?: string; detail?: string }, level: 'info' | 'critical'): Promise<void> {
  const message = `self-update ${event.step}: ${event.from_version ?? '?'} → ${event.version}`;
  if (level === 'critical') await recordCriticalEvent(ctx.log, message, { fields: { ...event }, summary: `${message}${event.detail ? ` (${event.detail})` : ''}`, type: event.step === 'applied' || event.step === 'confirmed' ? 'INFORMATION' : 'ERROR' });
  else ctx.log.info(message, { ...event });
  if (!ctx.session) return ctx.log.warn('self-update step not sent to the server: the agent could not be set up', { step: event.step });
  await ctx.session.call('POST', '/api/v1/agent/update-events', { body: Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)), expect: [204] })
    .catch((error: Error) => ctx.log.warn('self-update step not sent to the server', { step: event.step, error: error.message }));
}

/** Checks the cached desired state's agent_update every `PSWM_UPDATE_CHECK_SECONDS` (default 300)
 * and calls `onWanted` once a version is due; the caller stops its loop and runs applyUpdate. */
export function watchForUpdate(opts: { agentId: string; pinnedKey: string | undefined; dataDir: string; desiredStateFile: string; log: Logger; onWanted: (version: string) => void }): { close(): void } {
  const seconds = Number(process.env.PSWM_UPDATE_CHECK_SECONDS) || 300;
  let lastReason = '';
  const check = async () => {
    const cached = await loadJsonFile<{ state?: DesiredState } | undefined>(opts.desiredStateFile, () => undefined, (v): v is { state?: DesiredState } => typeof v === 'object');
    const decision = decideUpdate(cached?.state?.settings?.agent_update, { agentId: opts.agentId, runningVersion: runningBuild()?.version, pinnedKey: opts.pinnedKey, state: await loadUpdateState(opts.dataDir) });
    if (decision.update) {
      clearInterval(timer);
      opts.onWanted(decision.version);
    } else if (decision.reason !== lastReason && cached?.state?.settings?.agent_update?.version) {
      lastReason = decision.reason;
      opts.log.info('self-update: not updating', { reason: decision.reason });
    }
  };
  const timer = setInterval(() => void check().catch((error: Error) => opts.log.warn('self-update check failed', { error: error.message })), seconds * 1000);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
