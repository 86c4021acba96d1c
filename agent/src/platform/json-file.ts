import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

/** Reads a small JSON state file. A missing file gives `fallback`; a file that `isValid` rejects is
 * an error, never a silent reset (a reset would, say, re-run every single_run script). */
export async function loadJsonFile<T>(file: string, fallback: () => T, isValid: (value: unknown) => value is T): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback();
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (!isValid(parsed)) throw new Error(`unrecognised state in ${file}`);
  return parsed;
}

export async function saveJsonFile(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
