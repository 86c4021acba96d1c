// pswm-native.exe (agent/native/pswm-native.c) compiled with mingw-w64, for the Windows build:
// DPAPI for the private key and the Job Object scripts run in (see the C file). Built from source
// every time — it takes well under a second — so the shipped helper always matches the source.
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './bundle.ts';

export const NATIVE_HELPER_EXE = 'pswm-native.exe';
export const MINGW_GCC = 'x86_64-w64-mingw32-gcc';
const SOURCE = path.join(REPO_ROOT, 'agent', 'native', 'pswm-native.c');

/** The compiler's command line: static (no MinGW runtime DLL beside it), stripped, warnings on. */
export function windowsCompileArgs(source: string, output: string): string[] {
  return ['-O2', '-Wall', '-Wextra', '-Werror', '-s', '-static', '-o', output, source, '-lcrypt32'];
}

/** Compiles one C file into a Windows x64 executable; a clear error when mingw-w64 is absent. */
export async function compileWindowsProgram(source: string, output: string, compiler = MINGW_GCC): Promise<string> {
  if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${compiler} not found: the Windows build compiles ${NATIVE_HELPER_EXE} (DPAPI, Job Objects) from agent/native/pswm-native.c with mingw-w64; install it with "apt-get install gcc-mingw-w64-x86-64"`);
  }
  await promisify(execFile)(compiler, windowsCompileArgs(source, output));
  return output;
}

export function buildNativeHelper(outDir: string): Promise<string> {
  return compileWindowsProgram(SOURCE, path.join(outDir, NATIVE_HELPER_EXE));
}
