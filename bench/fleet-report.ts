// What a simulated agent reports after an iteration (bench:fleet's simulators, bench:report-writes):
// every fact each time, as the agent collects them (the uptime moves), two script runs and ten drift
// items, all in sync.
import { randomUUID } from 'node:crypto';

export const DRIFT_ITEMS = 10;

export function simulatedReport(agentName: string, document: string | undefined, now = new Date().toISOString()): Record<string, unknown> {
  const sha = 'a'.repeat(64);
  return {
    id: randomUUID(), started_at: now, finished_at: now, dry_run: false,
    ...(document ? { document } : {}),
    facts: simulatedFacts(agentName),
    script_runs: [0, 1].map((i) => ({
      id: randomUUID(), script: `script-${String(i).padStart(4, '0')}`, sha256: sha, phase: 'check', shell: 'powershell', exit_code: 0, timed_out: false,
      stdout: 'compliant\n', stderr: '', stdout_truncated: false, stderr_truncated: false, duration_ms: 120 + i, started_at: now,
    })),
    drift: Array.from({ length: DRIFT_ITEMS }, (_, i) => ({ kind: 'script', name: `script-${String(i).padStart(4, '0')}`, status: 'in_sync' })),
  };
}

function simulatedFacts(name: string): Record<string, unknown> {
  return {
    hostname: name,
    'os.family': 'windows', 'os.name': 'Windows 11 Enterprise', 'os.version': '10.0.22631', 'os.arch': 'x64',
    'cpu.model': 'Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz', 'cpu.cores': 12,
    'memory.total_bytes': 17_179_869_184,
    disks: [{ mount: 'C:', total_bytes: 512_110_190_592, used_bytes: 201_326_592_000 }],
    network: [{ name: 'Ethernet', mac: '00:15:5d:01:02:03', addresses: ['10.20.30.40', 'fe80::1'] }],
    'agent.version': '0.1.0', uptime_seconds: Math.round(process.uptime()) + 86_400,
  };
}
