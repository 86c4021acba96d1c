// The one table of server options. Parsing (flags, environment, config file), `--help` output and the
// table in docs/operations.md are all generated from it, so an option is added in exactly one place.
import { DEFAULT_WAKE_RATE } from '../hub/wake-spread.ts';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  databaseUrl?: string;
  policyRepo?: string;
  policyBranch: string;
  gitUsername?: string;
  gitToken?: string;
  gitCaFile?: string;
  webhookSecret?: string;
  pollIntervalSeconds: number;
  logLevel: string;
  shutdownTimeoutSeconds: number;
  tlsCert?: string;
  tlsKey?: string;
  maxAgentSockets?: number;
  wakeRate: number;
  listenBacklog: number;
  consoleIdleLimitSeconds: number;
  consoleDurationLimitSeconds: number;
  consoleTranscriptMaxBytes: number;
  consoleRetentionDays: number;
  consoleTranscriptReaders: 'viewer' | 'admin';
  retentionDays: number;
  auditRetentionDays: number;
  reconciliationRetentionDays: number;
  secretKeyFile?: string;
  rateLimit: number;
  trustProxy?: string;
  enrollQueueMax: number;
  duplicateIdentityTakeovers: number;
  duplicateIdentityWindowSeconds: number;
  duplicateIdentityQuietSeconds: number;
}

export type OptionType = 'string' | 'integer' | 'boolean';

export interface OptionSpec {
  /** Long flag without the leading dashes; absent for options that must not appear on a command line. */
  flag?: string;
  /** One-letter alias (`-h`). */
  short?: string;
  env?: string;
  type: OptionType;
  default?: string | number | boolean;
  description: string;
  /** Kept out of logs and `--help` defaults. */
  secret?: boolean;
  /** Inclusive bounds for integers. */
  min?: number;
  max?: number;
  /** Allowed values for strings. */
  choices?: readonly string[];
}

export interface ServerOptionSpec extends OptionSpec {
  key: keyof ServerConfig;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Secrets (tokens, the webhook secret, a URL that may hold a password) have no flag: a command line is
// visible to every user of the machine through `ps`.
export const SERVER_OPTIONS: readonly ServerOptionSpec[] = [
  { key: 'dataDir', flag: 'data-dir', env: 'PSWM_DATA_DIR', type: 'string', default: './data',
    description: 'Data directory: embedded database (pgdata/), demo policy repository, initial admin token.' },
  { key: 'host', flag: 'host', env: 'PSWM_HOST', type: 'string', default: '127.0.0.1',
    description: 'Address the HTTP server binds to (0.0.0.0 for every interface).' },
  { key: 'port', flag: 'port', env: 'PSWM_PORT', type: 'integer', default: 8080, min: 0, max: 65535,
    description: 'TCP port of the HTTP server; 0 picks a free port (the log line names it).' },
  { key: 'databaseUrl', env: 'DATABASE_URL', type: 'string', secret: true,
    description: 'PostgreSQL connection URL. Unset: embedded PostgreSQL (PGlite) in <data-dir>/pgdata.' },
  { key: 'policyRepo', flag: 'policy-repo', env: 'PSWM_POLICY_REPO', type: 'string',
    description: 'Policy repository: an http(s) URL (smart HTTP), a file:// URL or a local path; not ssh. Unset: a demo repository in <data-dir>/policy-repo.' },
  { key: 'policyBranch', flag: 'policy-branch', env: 'PSWM_POLICY_BRANCH', type: 'string', default: 'main',
    description: 'Branch of the policy repository that is reconciled.' },
  { key: 'gitUsername', env: 'PSWM_GIT_USERNAME', type: 'string',
    description: 'User name for https git authentication (provider conventions apply when unset).' },
  { key: 'gitToken', env: 'PSWM_GIT_TOKEN', type: 'string', secret: true,
    description: 'Token for https git authentication.' },
  { key: 'gitCaFile', flag: 'git-ca-file', env: 'PSWM_GIT_CA_FILE', type: 'string',
    description: 'PEM file of extra certificate authorities for an https policy repository (Node\'s and the system\'s are trusted already). Proxies: HTTPS_PROXY, HTTP_PROXY, NO_PROXY.' },
  { key: 'webhookSecret', env: 'PSWM_WEBHOOK_SECRET', type: 'string', secret: true,
    description: 'Shared secret that authenticates git push webhooks (HMAC signature or token).' },
  { key: 'pollIntervalSeconds', flag: 'poll-interval', env: 'PSWM_POLL_INTERVAL', type: 'integer', default: 60, min: 1,
    description: 'Seconds between polls of the policy repository.' },
  { key: 'logLevel', flag: 'log-level', env: 'PSWM_LOG_LEVEL', type: 'string', default: 'info', choices: LOG_LEVELS,
    description: 'Log level of the JSON logs on stdout.' },
  { key: 'shutdownTimeoutSeconds', flag: 'shutdown-timeout', env: 'PSWM_SHUTDOWN_TIMEOUT', type: 'integer', default: 10, min: 1, max: 3600,
    description: 'Seconds a graceful shutdown (SIGTERM/SIGINT) may take before the process exits anyway; a second signal exits at once.' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'PSWM_TLS_CERT', type: 'string',
    description: 'PEM certificate file; with --tls-key the server speaks https.' },
  { key: 'tlsKey', flag: 'tls-key', env: 'PSWM_TLS_KEY', type: 'string',
    description: 'PEM private key file for --tls-cert.' },
  { key: 'maxAgentSockets', flag: 'max-agent-sockets', env: 'PSWM_MAX_AGENT_SOCKETS', type: 'integer', min: 0,
    description: 'Agent WebSockets this instance accepts before answering 503. Unset: the open-file limit less a reserve for git, the database and logs.' },
  { key: 'wakeRate', flag: 'wake-rate', env: 'PSWM_WAKE_RATE', type: 'integer', default: DEFAULT_WAKE_RATE, min: 0,
    description: 'Agents this instance wakes at once for a signal or commit. Woken agents poll and report, so when a signal reaches more of its agents than this, it asks them to start at random over (woken / this) seconds: about this many a second. 0: all at once.' },
  // 1024: Node's 511 overflowed under a 15,000-agent reconnect burst (SYN retries of up to 31 s). A
  // queue longer than the server drains within the agents' 30-s handshake timeout only holds clients
  // that will have left when accepted: 4096 is past it below ~136 accepts a second, 1024 below ~34
  // (bench:fleet at 30,000 on a starved 2-core machine saw upgrades complete after 17–49 s).
  { key: 'listenBacklog', flag: 'listen-backlog', env: 'PSWM_LISTEN_BACKLOG', type: 'integer', default: 1024, min: 1, max: 65535,
    description: 'Connections the kernel holds for the server before it accepts them (capped by net.core.somaxconn). Long enough for a fleet reconnecting after a restart, short enough that a server accepting slowly drains it before agents give up on their connection (30 s).' },
  { key: 'consoleIdleLimitSeconds', flag: 'console-idle-limit', env: 'PSWM_CONSOLE_IDLE_LIMIT', type: 'integer', default: 86400, min: 1, max: 86400,
    description: 'Ceiling in seconds on a remote console\'s idle time; an agent\'s remote_console.idle_timeout_minutes may only be shorter.' },
  { key: 'consoleDurationLimitSeconds', flag: 'console-duration-limit', env: 'PSWM_CONSOLE_DURATION_LIMIT', type: 'integer', default: 86400, min: 1, max: 86400,
    description: 'Ceiling in seconds on a remote console\'s duration; an agent\'s remote_console.max_duration_minutes may only be shorter.' },
  { key: 'consoleTranscriptMaxBytes', flag: 'console-transcript-max-bytes', env: 'PSWM_CONSOLE_TRANSCRIPT_MAX_BYTES', type: 'integer', default: 4194304, min: 1024,
    description: 'Bytes of transcript stored per console session; past it the session goes on unrecorded and is marked truncated.' },
  { key: 'consoleRetentionDays', flag: 'console-retention-days', env: 'PSWM_CONSOLE_RETENTION_DAYS', type: 'integer', default: 90, min: 1,
    description: 'Days console sessions and their transcripts are kept after they end.' },
  { key: 'consoleTranscriptReaders', flag: 'console-transcript-readers', env: 'PSWM_CONSOLE_TRANSCRIPT_READERS', type: 'string', default: 'viewer', choices: ['viewer', 'admin'],
    description: 'Who may read console transcripts (each read is audited as console.replay): viewer (also the web console) or admin (pswm-server console replay only). Session lists are viewer-readable either way.' },
  { key: 'retentionDays', flag: 'retention-days', env: 'PSWM_RETENTION_DAYS', type: 'integer', default: 30, min: 1,
    description: 'Days agent reports are kept, with their script runs (and output), Chocolatey runs and drift history; each agent\'s latest report is always kept.' },
  { key: 'auditRetentionDays', flag: 'audit-retention-days', env: 'PSWM_AUDIT_RETENTION_DAYS', type: 'integer', default: 365, min: 1,
    description: 'Days audit log entries are kept.' },
  { key: 'reconciliationRetentionDays', flag: 'reconciliation-retention-days', env: 'PSWM_RECONCILIATION_RETENTION_DAYS', type: 'integer', default: 90, min: 1,
    description: 'Days reconciliation records are kept (the newest is always kept).' },
  { key: 'secretKeyFile', flag: 'secret-key-file', env: 'PSWM_SECRET_KEY_FILE', type: 'string',
    description: 'File holding the secret key that signs agent access tokens (created on first start; every instance needs the same). Unset: <data-dir>/secret-key.' },
  { key: 'rateLimit', flag: 'rate-limit', env: 'PSWM_RATE_LIMIT', type: 'integer', default: 300, min: 0,
    description: 'Requests per minute one client address may make to each enrollment, token-exchange, webhook and console-login endpoint; more get 429 with Retry-After. 0: no limit.' },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'PSWM_TRUST_PROXY', type: 'string',
    description: 'Behind a reverse proxy or load balancer: which proxies\' X-Forwarded-For names the client (rate limits and audit use it) — their addresses or CIDRs, comma-separated, a hop count, or true for any. Unset: the connecting address.' },
  { key: 'enrollQueueMax', flag: 'enroll-queue-max', env: 'PSWM_ENROLL_QUEUE_MAX', type: 'integer', default: 1000, min: 1,
    description: 'Pending enrollment requests the queue holds; while it is full, queue enrollment answers 429 until an admin approves or rejects some.' },
  { key: 'duplicateIdentityTakeovers', flag: 'duplicate-identity-takeovers', env: 'PSWM_DUPLICATE_IDENTITY_TAKEOVERS', type: 'integer', default: 3, min: 2,
    description: 'Times another agent process may take an agent\'s WebSocket from the one holding it within the window (--duplicate-identity-window) before the agent is flagged as a duplicate identity (two machines with one key, such as a cloned VM): audited once, shown in the read API, and the displaced socket is told to stop (close 4410).' },
  { key: 'duplicateIdentityWindowSeconds', flag: 'duplicate-identity-window', env: 'PSWM_DUPLICATE_IDENTITY_WINDOW', type: 'integer', default: 600, min: 1,
    description: 'Seconds over which WebSocket takeovers are counted for --duplicate-identity-takeovers.' },
  { key: 'duplicateIdentityQuietSeconds', flag: 'duplicate-identity-quiet', env: 'PSWM_DUPLICATE_IDENTITY_QUIET', type: 'integer', default: 10800, min: 1,
    description: 'Seconds without a takeover after which the duplicate-identity flag clears. Keep it above the agents\' back-off after close 4410 (at most 60 min).' },
];

/** `--config` is not part of ServerConfig: it says where the rest comes from. */
export const CONFIG_FILE_OPTION: OptionSpec = {
  flag: 'config', env: 'PSWM_CONFIG', type: 'string',
  description: 'JSON config file whose keys are the option keys (dataDir, port, ...). Flags and environment override it.',
};

/** `--help` lines: flag (or environment variable), description, environment variable and default. */
export function formatOptionsHelp(options: readonly OptionSpec[]): string {
  const rows = options.map((o) => {
    const name = o.flag ? `${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.type === 'boolean' ? '' : ' <value>'}` : `(${o.env})`;
    const facts = [
      o.flag && o.env ? `env ${o.env}` : '',
      'key' in o ? `config key ${o.key}` : '',
      o.choices ? `one of ${o.choices.join('|')}` : '',
      o.default !== undefined && !o.secret ? `default ${o.default}` : '',
    ].filter(Boolean);
    return { name, text: o.description + (facts.length ? ` [${facts.join('; ')}]` : '') };
  });
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  return rows.map((r) => `  ${r.name.padEnd(width)}${r.text}`).join('\n');
}
