// pswm-native.exe (agent/native/pswm-native.c): the Windows calls Node has no binding for — DPAPI
// and Job Objects. The single-file build puts it beside pswm.exe; a development checkout run by
// node has none, and callers fall back (plain PEM + ACL, taskkill /T) and say so.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const NATIVE_HELPER = 'pswm-native.exe';

/** The helper's path beside the running executable, or undefined when there is none (or this is
 * not Windows). */
export function nativeHelperPath(platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== 'win32') return undefined;
  const file = path.join(path.dirname(process.execPath), NATIVE_HELPER);
  return existsSync(file) ? file : undefined;
}

export class NativeHelperError extends Error {}

/** Runs one short helper call with `input` on its stdin and returns its stdout; a non-zero exit is
 * a NativeHelperError carrying the helper's own message. */
export function callNativeHelper(helper: string, args: string[], input: Uint8Array, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new NativeHelperError(`${helper}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out));
      const message = Buffer.concat(err).toString('utf8').trim() || `exited with code ${code}`;
      reject(new NativeHelperError(message));
    });
    child.stdin.on('error', () => {}); // an early exit closes the pipe; the exit code tells why
    child.stdin.end(input);
  });
}
