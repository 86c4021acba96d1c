// The configuration table of docs/operations.md, generated from SERVER_OPTIONS so it cannot drift.
// Regenerate with: npx node server/src/config/options-doc.ts
import { readFile, writeFile } from 'node:fs/promises';
import { CONFIG_FILE_OPTION, SERVER_OPTIONS } from './options.ts';

export const OPERATIONS_DOC = new URL('../../../docs/operations.md', import.meta.url);
const BEGIN = '<!-- server-options:begin (generated from server/src/config/options.ts) -->';
const END = '<!-- server-options:end -->';

export function optionsMarkdownTable(): string {
  const cell = (text: string | undefined) => (text ? text.replaceAll('|', '\\|').replaceAll('<', '\\<') : '—');
  const code = (text: string | undefined) => (text ? `\`${text}\`` : '—');
  const rows = [...SERVER_OPTIONS, { ...CONFIG_FILE_OPTION, key: undefined }].map((o) => [
    code(o.flag && `--${o.flag}`), code(o.env), code(o.key), o.default === undefined ? '—' : code(String(o.default)), cell(o.description),
  ]);
  return [
    '| flag | environment | config file key | default | meaning |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The document with its generated section replaced (the markers must already be there). */
export function withOptionsTable(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/operations.md lacks the markers ${BEGIN} ... ${END}`);
  return `${doc.slice(0, start + BEGIN.length)}\n${optionsMarkdownTable()}\n${doc.slice(end)}`;
}

if (import.meta.main) {
  await writeFile(OPERATIONS_DOC, withOptionsTable(await readFile(OPERATIONS_DOC, 'utf8')));
}
