// The long-running agent (`pswm agent`, `pswm service`): iterations on the interval from the
// effective settings, woken by the WebSocket, reports sent in the background, heartbeats.
import type { DesiredState } from '@pswm/schemas';
import { postHeartbeat } from '../api/reports.ts';
import { isRevoked } from '../api/session.ts';
import { collectMetrics } from '../facts/metrics.ts';
import { backoffFromSettings, initialSettings, type AgentSetup } from './agent-setup.ts';
import { formatDryRun } from './dry-run-output.ts';
import { AgentRevokedError, runIteration } from './iteration.ts';
import type { Logger } from '../logs/logger.ts';
import { recordCriticalEvent, REVOKED_MESSAGE } from '../service/event-log.ts';
import { createScheduler, dueSeries, iterationDelayMs, monotonicNow, realTimers, type Timers } from './scheduler.ts';
import { createSender } from './sender.ts';
import { createScheduleWake } from '../converge/scripts/schedule-wake.ts';
import { openWakeSocket } from './wake-socket.ts';
import { spreadWake } from './spread-wake.ts';
import { createRemoteChannel, remoteSettingsOf } from '../remote/remote-link.ts';
import { waitForDataFolder, type DataLock } from '../platform/data-lock.ts';

export type LoopEnd = 'stopped' | 'revoked';

export interface RunningLoop {
  /** Ends after the running iteration; resolves with how the loop ended. */
  stop(): Promise<LoopEnd>;
  done: Promise<LoopEnd>;
}

export async function startLoop(setup: AgentSetup, opts: {
  dryRun: boolean; log: Logger; out?: NodeJS.WritableStream; timers?: Timers; random?: () => number;
  /** A delivery pass sent at least one report (the service confirms an update with the first). */
  onDelivered?: () => void;
}): Promise<RunningLoop> {
  const { log } = opts;
  const timers = opts.timers ?? realTimers;
  const random = opts.random ?? Math.random;
  let settings: DesiredState['settings'] = await initialSettings(setup.paths);
  let end: LoopEnd | undefined;
  const stopping = new AbortController();
  let resolveDone: (end: LoopEnd) => void = () => {};
  const done = new Promise<LoopEnd>((resolve) => (resolveDone = resolve));

  const { backoff } = setup.session;
  backoff.configure(backoffFromSettings(settings));
  const sender = createSender(
    (stopping) => setup.deliver({ attempts: settings.reporting.retry_max_attempts, waitTurn: () => backoff.whenOpen(stopping), shouldStop: () => stopping.aborted }),
    (result) => {
      if (result.sent > 0) opts.onDelivered?.();
      if (isRevoked(result.error)) void finish('revoked');
    },
  );

  const scheduler = createScheduler({
    timers,
    now: monotonicNow,
    nextDelayMs: () => iterationDelayMs(settings.agent, random),
    async runIteration(trigger, reason) {
      log.info('iteration started', { trigger, reason, dry_run: opts.dryRun });
      sender.kick(); // what earlier iterations left behind goes first
      let lock: DataLock | undefined;
      try {
        lock = await waitForDataFolder(setup.paths.root, opts.dryRun ? 'pswm agent --dry-run' : 'pswm agent', {
          signal: stopping.signal,
          onWait: (holder) => log.warn('waiting for the data folder: another pswm process holds it', { holder_pid: holder.pid, holder: holder.command }),
        });
        const outcome = await runIteration(setup.iteration, { dryRun: opts.dryRun });
        settings = outcome.settings;
        scheduleWake.set(outcome.nextScheduledRun);
        log.reconfigure(settings.logging);
        backoff.configure(backoffFromSettings(settings));
        log.info('iteration finished', { result: outcome.last.result, report: outcome.report.id, revision: outcome.last.revision, ...outcome.last.counts });
        if (opts.dryRun) opts.out?.write(formatDryRun(outcome.items));
        sender.kick();
      } catch (error) {
        if (error instanceof AgentRevokedError) return void finish('revoked');
        if (stopping.signal.aborted) return;
        log.error('iteration failed', { error: (error as Error).message });
      } finally {
        await lock?.release();
      }
    },
  });

  const scheduleWake = createScheduleWake({ timers, now: () => new Date(), wake: (reason) => scheduler.wake(reason) });
  const wakes = spreadWake((reason) => scheduler.wake(reason), timers, random);
  let heartbeatTimer: unknown;
  const heartbeatsDue = dueSeries(monotonicNow);
  const heartbeat = async () => {
    try {
      await postHeartbeat(setup.session, new Date(), await collectMetrics());
    } catch (error) {
      if (isRevoked(error)) return void finish('revoked');
      log.debug('heartbeat not sent', { error: (error as Error).message });
    }
    if (!end) heartbeatTimer = timers.setTimeout(() => void heartbeat(), heartbeatsDue.delayToNext(() => settings.agent.heartbeat_seconds * 1000));
  };

  const remote = createRemoteChannel(
    {
      send: (data) => void socket.send(data),
      bufferedAmount: () => socket.bufferedAmount(),
      settings: () => remoteSettingsOf(settings),
      env: process.env,
      platform: process.platform,
      log,
    },
    (message) => void import('../remote/on-demand-run.ts').then(({ runOnDemand }) => runOnDemand(setup, message, (reply) => socket.send(JSON.stringify(reply)), log)),
  );
  const socket = openWakeSocket({
    server: setup.config.server,
    accessToken: () => setup.session.accessToken(),
    invalidateToken: () => setup.session.invalidate(),
    onReconcile: (reason, spreadMs) => {
      log.info('reconcile signal received', spreadMs ? { reason, startWithinMs: spreadMs } : { reason });
      wakes.wake(reason, spreadMs);
    },
    onRevoked: () => void finish('revoked'),
    onConnected: () => sender.kick(),
    onOther: (data, isBinary) => remote.receive(data, isBinary),
    onDisconnected: () => remote.disconnected(),
    log,
    timers,
    backoff,
    random,
  });

  async function finish(how: LoopEnd): Promise<LoopEnd> {
    if (end) return done;
    end = how;
    stopping.abort();
    if (how === 'revoked') await recordCriticalEvent(log, REVOKED_MESSAGE);
    else log.info('agent stopping');
    socket.close();
    scheduleWake.close();
    wakes.cancel();
    if (heartbeatTimer !== undefined) timers.clearTimeout(heartbeatTimer);
    await scheduler.stop();
    await sender.stop();
    resolveDone(how);
    return how;
  }

  scheduler.start();
  heartbeatTimer = timers.setTimeout(() => void heartbeat(), 0);
  return { stop: () => finish('stopped'), done };
}
