// Script, check and fact contents: exactly one of `file` or `content`, the file inside the
// repository and within the size limit; resolved here so nothing after validation does I/O.
import { sha256Hex } from '../canonical-json.ts';
import { policyError } from '../errors.ts';
import { didYouMean } from '../load/closest-name.ts';
import type { PolicyDocument, PolicyError, RepoFile, ResolvedContent, ScriptSource } from '../model.ts';
import { nameOf } from './checks.ts';
import type { CheckContext } from './checks.ts';
import { resolveRepoPath } from './repo-paths.ts';

interface SourceSlot {
  key: string; // key in Policy.contents
  what: string; // for messages
  path: Array<string | number>; // where the source lives in the document
  source: ScriptSource;
}

export function resolveContents(context: CheckContext): { resolved: Map<string, ResolvedContent>; errors: PolicyError[] } {
  const resolved = new Map<string, ResolvedContent>();
  const errors: PolicyError[] = [];
  for (const document of context.documents) {
    for (const slot of slotsOf(document)) {
      const result = resolveSlot(document, slot, context);
      if ('error' in result) errors.push(result.error);
      else resolved.set(slot.key, result.content);
    }
  }
  return { resolved, errors };
}

function slotsOf(document: PolicyDocument): SourceSlot[] {
  if (document.kind === 'Script') {
    const spec = (document as PolicyDocument<'Script'>).spec;
    const slots: SourceSlot[] = [{ key: `Script/${document.id}`, what: nameOf(document), path: ['spec'], source: spec }];
    if (spec.check) slots.push({ key: `Script/${document.id}#check`, what: `the check of ${nameOf(document)}`, path: ['spec', 'check'], source: spec.check });
    return slots;
  }
  if (document.kind === 'ExternalFact') {
    return [{ key: `ExternalFact/${document.id}`, what: nameOf(document), path: ['spec'], source: (document as PolicyDocument<'ExternalFact'>).spec }];
  }
  return [];
}

function resolveSlot(document: PolicyDocument, slot: SourceSlot, context: CheckContext): { content: ResolvedContent } | { error: PolicyError } {
  const { file, content } = slot.source;
  if (file !== undefined && content !== undefined) {
    return fail('SCRIPT_SOURCE', `${slot.what} gives both file and content; keep one of them`, document.positionOf([...slot.path, 'content']));
  }
  if (content !== undefined) return { content: { content, sha256: sha256Hex(content) } };
  if (file === undefined) {
    return fail('SCRIPT_SOURCE', `${slot.what} needs a script: add file (a path in the repository) or content (the script text)`, document.positionOf(slot.path));
  }
  const resolution = resolveRepoPath(file, document.source.file, context.files);
  // Positions cost a YAML parse of the file when it was read by the fast reader: only for errors.
  const at = () => document.positionOf([...slot.path, 'file']);
  if (!resolution.ok) {
    switch (resolution.reason) {
      case 'absolute':
        return fail('PATH_OUTSIDE_REPO', `${slot.what}: file "${file}" is an absolute path; give a path relative to ${document.source.file}`, at());
      case 'outside':
        return fail('PATH_OUTSIDE_REPO', `${slot.what}: file "${file}" climbs out of the repository; script files must be inside it`, at());
      case 'symlink-outside':
        return fail('SYMLINK_OUTSIDE_REPO', `${slot.what}: file "${file}" goes through the symbolic link ${resolution.link}, which points outside the repository`, at());
      case 'symlink-cycle':
        return fail('SYMLINK_CYCLE', `${slot.what}: file "${file}" goes through symbolic links that form a loop (at ${resolution.link})`, at());
      case 'not-found': {
        const hint = didYouMean(resolution.path, filesInFolder(context.files, folder(resolution.path)));
        return fail('FILE_NOT_FOUND', `${slot.what}: file "${file}" (${resolution.path}) is not in the repository${hint}`, at());
      }
    }
  }
  const found = resolution.file;
  if (found.text === undefined || found.size > context.limits.maxScriptBytes) {
    return fail('FILE_TOO_LARGE', `${slot.what}: file ${resolution.path} is ${found.size} bytes; script files may be at most ${context.limits.maxScriptBytes} bytes`, at());
  }
  return { content: { content: found.text, sha256: sha256Hex(found.text), file: resolution.path } };
}

function fail(code: Parameters<typeof policyError>[0], message: string, at: ReturnType<PolicyDocument['positionOf']>): { error: PolicyError } {
  return { error: policyError(code, message, at) };
}

/** Repository paths by folder, built once per load on the first missing file: a commit that
 * breaks many references must not cost a pass over every file for each one. */
const pathsByFolder = new WeakMap<Map<string, RepoFile>, Map<string, string[]>>();

function filesInFolder(files: Map<string, RepoFile>, folderPath: string): string[] {
  let index = pathsByFolder.get(files);
  if (!index) {
    index = new Map();
    for (const path of files.keys()) {
      const paths = index.get(folder(path)) ?? [];
      paths.push(path);
      index.set(folder(path), paths);
    }
    pathsByFolder.set(files, index);
  }
  return index.get(folderPath) ?? [];
}

function folder(path: string): string {
  return path.split('/').slice(0, -1).join('/');
}

