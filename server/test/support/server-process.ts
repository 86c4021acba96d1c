// Runs `pswm-server start --port 0` as a real child process and waits for its "listening" log line,
// which carries the URL with the port the OS picked.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newSecretKey, writeSecretKey } from '../../src/agents/secret-key.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const LISTENING = /pswm-server listening on (https?:\/\/\S+?)"/;
// Generous: an embedded first start on a busy 2-core machine can take a minute.
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 120_000;

// Whatever happens to a test (an assertion fails before its stop(), its timeout cancels it), no server
// outlives the test process: every child still running when it exits is killed.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export interface ServerProcess {
  url: string;
  pid: number;
  logs(): string;
  /** Resolves with the exit code when the process ends, whoever ended it. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(opts: { args?: string[]; env?: Record<string, string>; dataDir?: string; openFileLimit?: number } = {}): Promise<ServerProcess> {
  const args = [MAIN, 'start', '--port', '0', ...(opts.dataDir ? ['--data-dir', opts.dataDir] : []), ...(opts.args ?? [])];
  // The child must not inherit a DATABASE_URL meant for someone else: tests say which database they want.
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  // `ulimit -n` then exec: the server keeps bash's pid, so stop() and the exit handler still reach it.
  const [command, argv] = opts.openFileLimit === undefined
    ? [process.execPath, args]
    : ['bash', ['-c', `ulimit -n ${opts.openFileLimit} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = track(spawn(command, argv, { env: { ...inherited, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('timed out waiting for "listening"')), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`pswm-server did not start: ${error.message}\n--- output ---\n${output}`));
    };
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`exited with ${code ?? signal}`));
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
    };
    // Only until the line is found: scanning the whole output on every chunk grows with the log, and
    // under a benchmark's fleet that took half a core of the machine being measured.
    const onData = () => {
      const match = LISTENING.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      resolve(match[1]);
    };
    child.stdout.on('data', keep).on('data', onData);
    child.stderr.on('data', keep).on('data', onData);
    child.once('exit', onExit);
  });
  return {
    url,
    pid: child.pid!,
    logs: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // The server's own shutdown deadline (--shutdown-timeout, 10 s) ends it; SIGKILL is the backstop.
      const backstop = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      return exited.finally(() => clearTimeout(backstop));
    },
  };
}

/** The server's JSON log lines whose message starts with `message`, parsed, oldest first. */
export function loggedEntries<T>(server: Pick<ServerProcess, 'logs'>, message: string): T[] {
  return server.logs().split('\n').filter((line) => line.includes(`"msg":"${message}`)).map((line) => JSON.parse(line) as T);
}

/** Runs one `pswm-server <args>` to completion (migrate, token, ...), with DATABASE_URL only if given. */
export async function runServerCommand(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  const child = track(spawn(process.execPath, [MAIN, ...args], {
    env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL',
  }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

/** The environment that gives several server processes on one database the same secret key file in `dir`. */
export async function sharedSecretKey(dir: string): Promise<{ PSWM_SECRET_KEY_FILE: string }> {
  const path = join(dir, 'shared-secret-key');
  await writeSecretKey(path, newSecretKey(), { replace: true });
  return { PSWM_SECRET_KEY_FILE: path };
}
