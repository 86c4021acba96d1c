// The PTY behind a console: node-pty, loaded on the first session only (an idle agent never carries
// it: docs/BENCHMARKS.md holds the idle agent to 60 MB), ConPTY powershell.exe on Windows, elsewhere
// the shell named by PSWM_CONSOLE_SHELL, else bash, else sh. The shell runs as the agent's own
// account (the service account), in its home folder.
import { createRequire } from 'node:module';
import os from 'node:os';
import { findExecutable } from '../platform/find-executable.ts';

export interface Pty {
  pid: number;
  shell: string;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  onData(fn: (data: Buffer) => void): void;
  onExit(fn: (code: number) => void): void;
}

interface NodePty {
  spawn(file: string, args: string[], options: Record<string, unknown>): {
    pid: number;
    write(data: string | Buffer): void;
    resize(cols: number, rows: number): void;
    pause(): void;
    resume(): void;
    onData(fn: (data: string | Buffer) => void): unknown;
    onExit(fn: (event: { exitCode: number; signal?: number }) => void): unknown;
  };
}

export const CONSOLE_SHELL_ENV = 'PSWM_CONSOLE_SHELL';

let loaded: NodePty | undefined;

/** node-pty is CommonJS with a native addon: required, not imported, and only here. */
function loadNodePty(): NodePty {
  loaded ??= createRequire(import.meta.url)('node-pty') as NodePty;
  return loaded;
}

export async function chooseShell(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<string | undefined> {
  if (platform === 'win32') return findExecutable('powershell.exe', env, platform);
  const configured = env[CONSOLE_SHELL_ENV];
  if (configured) return findExecutable(configured, env, platform);
  return (await findExecutable('bash', env, platform)) ?? findExecutable('sh', env, platform);
}

export function spawnPty(shell: string, size: { cols: number; rows: number }, env: NodeJS.ProcessEnv): Pty {
  const pty = loadNodePty().spawn(shell, [], {
    name: 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    cwd: os.homedir(),
    env: { ...env, TERM: 'xterm-256color' },
    // bytes, not strings: the server relays them untouched and a UTF-8 character may span two reads
    encoding: null,
  });
  return {
    pid: pty.pid,
    shell,
    write: (data) => pty.write(data),
    resize: (cols, rows) => pty.resize(cols, rows),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    onData: (fn) => void pty.onData((data) => fn(typeof data === 'string' ? Buffer.from(data) : data)),
    onExit: (fn) => void pty.onExit((event) => fn(event.exitCode)),
  };
}
