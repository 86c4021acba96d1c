import os from 'node:os';
import type { CompiledExternalFact, DesiredState, Platform } from '@pswm/schemas';
import { dataPaths } from '../paths.ts';
import { currentPlatform } from '../platform/platform.ts';
import { agentVersion } from './agent-version.ts';
import { rebootPendingFact } from '../converge/choco/reboot-pending.ts';
import { sampleCpu } from './cpu.ts';
import { listDisks } from './disks.ts';
import { documentFactJobs, localFactJobs, runFactJobs } from './external-facts.ts';
import { queryGpus } from './gpus.ts';
import { networkInterfaceFacts } from './network.ts';
import { osFacts } from './os-info.ts';

export interface CollectFactsOptions {
  dataDir: string;
  /** Effective settings; only `external_facts` (limits for local fact scripts) is read. */
  settings: Pick<DesiredState['settings'], 'external_facts'>;
  /** The machine owner's fact scripts; default <data>/external_facts. */
  externalFactsDir?: string;
  /** The desired state's `external_facts`. */
  documentFacts?: CompiledExternalFact[];
  platform?: Platform;
  /** How long CPU use is sampled. */
  cpuSampleMs?: number;
}

const DEFAULT_CPU_SAMPLE_MS = 250;

/** Built-in facts and external facts as one nested object; each top-level key is one `fact_key` of
 * the report. External facts sit under `external.<name>`. */
export async function collectFacts(opts: CollectFactsOptions): Promise<Record<string, unknown>> {
  const platform = opts.platform ?? currentPlatform();
  const paths = dataPaths(opts.dataDir);
  const [builtin, local, rebootPending] = await Promise.all([
    collectBuiltinFacts(platform, opts.cpuSampleMs ?? DEFAULT_CPU_SAMPLE_MS),
    localFactJobs(opts.externalFactsDir ?? paths.externalFacts, platform, opts.settings.external_facts),
    rebootPendingFact(paths.state),
  ]);
  const external = await runFactJobs([...local, ...documentFactJobs(opts.documentFacts ?? [], platform)], {
    dataDir: opts.dataDir,
    scriptsDir: paths.scriptsCache,
    platform,
  });
  return { ...builtin, reboot_pending: rebootPending, ...external };
}

async function collectBuiltinFacts(platform: Platform, cpuSampleMs: number): Promise<Record<string, unknown>> {
  const [osInfo, cpu, disks, gpus, version] = await Promise.all([osFacts(platform), sampleCpu(cpuSampleMs), listDisks(), queryGpus(), agentVersion()]);
  return {
    hostname: os.hostname(),
    os: osInfo,
    cpu,
    memory: { total_bytes: os.totalmem(), free_bytes: os.freemem() },
    disks: disks.map(({ mount, fs, total_bytes, free_bytes }) => ({ mount, ...(fs ? { fs } : {}), total_bytes, free_bytes })),
    network: { interfaces: networkInterfaceFacts(os.networkInterfaces()) },
    uptime_seconds: Math.round(os.uptime()),
    ...(gpus?.length ? { gpus } : {}),
    agent: { version, node: process.versions.node },
  };
}

/** `pswm facts`: the facts this machine would report, as indented JSON on stdout. */
export async function printFacts(opts: CollectFactsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  out.write(JSON.stringify(await collectFacts(opts), null, 2) + '\n');
}
