// What agents send the server, as TypeScript: the bodies of POST /api/v1/agent/reports and
// /agent/heartbeat. schemas/json/report.schema.json and heartbeat.schema.json are the contract (the
// server validates against them); these types are their view for the server and the agent.

export type DriftStatus = 'in_sync' | 'changed' | 'failed' | 'drifted' | 'skipped';

export interface ScriptRun {
  id: string;
  script: string;
  sha256: string;
  phase: 'check' | 'apply';
  shell?: string;
  exit_code: number | null;
  signal?: string;
  timed_out: boolean;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  duration_ms: number;
  started_at: string;
}

export interface ChocoRun {
  id: string;
  operation: string;
  package: string;
  version?: string;
  exit_code: number | null;
  timed_out?: boolean;
  output: string;
  output_truncated?: boolean;
  reboot_required: boolean;
  duration_ms: number;
  started_at: string;
}

export interface DriftItem {
  kind: 'script' | 'package' | 'external_fact' | 'agent';
  name: string;
  status: DriftStatus;
  reason?: string;
}

export interface ChocoPackage {
  name: string;
  version: string;
  pinned: boolean;
}

export interface Report {
  id: string;
  revision?: string;
  document?: string;
  started_at: string;
  finished_at: string;
  dry_run: boolean;
  facts?: Record<string, unknown>;
  script_runs?: ScriptRun[];
  choco_runs?: ChocoRun[];
  drift?: DriftItem[];
  choco_packages?: ChocoPackage[];
}

export interface Heartbeat {
  at: string;
  metrics: {
    cpu: { usage_percent: number; cores: number; model?: string };
    memory: { total_bytes: number; used_bytes: number };
    disks: Array<{ mount: string; total_bytes: number; used_bytes: number }>;
    gpus?: Array<{ name: string; utilization_percent?: number; memory_total_bytes?: number; memory_used_bytes?: number; temperature_c?: number }>;
  };
}
