import { createHash } from 'node:crypto';
import type { CompiledScript } from '@pswm/schemas';

/** A compiled script as the server would send it, with correct digests unless overridden. */
export function compiledScript(over: Partial<CompiledScript> & { name: string }): CompiledScript {
  const content = over.content ?? 'echo hello';
  const script: CompiledScript = {
    shell: 'sh',
    run: 'every_iteration',
    timeout_seconds: 30,
    max_output_bytes: 65536,
    platforms: ['linux', 'darwin'],
    order: 100,
    ...over,
    content,
    sha256: over.sha256 ?? digest(content),
  };
  return script;
}

export function withCheck(script: CompiledScript, content: string): CompiledScript {
  return { ...script, check: { shell: script.shell, content, sha256: digest(content) } };
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
