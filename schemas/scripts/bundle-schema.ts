// Writes the self-contained editor schema (schemas/json/pswm.schema.json) and its copy in the
// policy repository template, whose YAML files point their yaml-language-server modeline at it.
// Run after editing any schemas/json/*.schema.json: npx node schemas/scripts/bundle-schema.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundledSchema } from '../src/json-schema.ts';

export const BUNDLE_TARGETS = [
  new URL('../json/pswm.schema.json', import.meta.url),
  new URL('../../policy-repo-template/.pswm/pswm.schema.json', import.meta.url),
];

export function bundledSchemaText(): string {
  return `${JSON.stringify(buildBundledSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  const text = bundledSchemaText();
  for (const target of BUNDLE_TARGETS) {
    mkdirSync(dirname(fileURLToPath(target)), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${fileURLToPath(target)}`);
  }
}
