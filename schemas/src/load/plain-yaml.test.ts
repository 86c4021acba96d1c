import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import { generatePolicyRepo, mutatePolicyRepo } from '../../../bench/generate-policy.ts';
import { readPlainYaml } from './plain-yaml.ts';

/** What the yaml package makes of a text: its non-empty documents, when none has an error. */
function viaYaml(text: string): Array<{ index: number; value: unknown; line: number; col: number }> | undefined {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  if (!Array.isArray(docs) || docs.some((doc) => doc.errors.length > 0)) return undefined;
  const documents = docs.map((doc, index) => ({ index, value: doc.toJS({ maxAliasCount: 100 }), ...lineCounter.linePos(doc.contents?.range[0] ?? 0) }));
  return documents.filter((document) => document.value !== null);
}

/** The reader either declines or agrees with yaml on the value and where the document starts. */
function assertAgrees(text: string, label: string): boolean {
  const fast = readPlainYaml(text);
  if (!fast) return false;
  const slow = viaYaml(text);
  assert.ok(slow, `${label}: the fast reader accepted what yaml rejects:\n${text}`);
  assert.deepEqual(fast, slow, `${label}:\n${text}`);
  return true;
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const ACCEPTED = [
  'a: 1\n',
  '---\na: 1\n',
  '# leading comment\n\na: b # trailing comment\n',
  'a:\n  b:\n    c: true\n  d: [] \ne: {}\n',
  'list:\n- x\n- 2\n- "q"\nnext: ok\n',
  'list:\n  - name: a\n    ensure: present\n\n  - name: b\n    pin: false\n',
  'a:\n  - k:\n    - nested\n    other: 1\n',
  'n: ~\nm: null\nt: True\nf: FALSE\ni: -12\no: 0o17\nh: 0xFf\ne: 1e3\nx: .5\ny: +1.50\nz: .inf\nw: -.Inf\nv: .NaN\ns: 1_000\nd: 2024-01-01\nv2: 007\nw1: nothing\nw2: trueish\nw3: .dotted\nw4: -5x\nw5: Nullable\nw6: +\nw7: 1.2.3\n',
  "q: 'it''s'\nd: \"tab\\there \\u00e9 \\\"quoted\\\" \\\\ \\/\"\nu: héllo wörld\ncolon: a:b\nhash: a#b\n",
  'script: |\n  line one\n\n    indented\n  # not a comment\n\nnext: 1\n',
  'script: |-\n  no final newline\n  two\nafter: x\n',
  'nested:\n  script: |\n    echo hi\n  other: 2\n',
  'items:\n  - content: |\n      echo in list\n    shell: sh\n',
  'tabs: |\n  \tindented with a tab\n',
  'x: y\n# trailing comment\n\n',
  'key:    spaced value   \n',
  'a: 1\n---\nb: 2\n',
  '# prefix\n---\na: 1\n---\n# empty\n---\n\nb: [x]\n---\n',
  'a: |\n  x\n---\nb: 1\n',
  'a: [1, 2]\nb: {c: 1, d: two words}\nm: { name: acme }\ne: [ ]\nl:\n  - [x, -1, .5, ~, true]\n  - { k: v }\n',
];

const DECLINED = [
  'a: 1', // no final newline
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'a: [1, [2]]\n',
  'a: ["q"]\n',
  'a: {b}\n',
  'a: [x,]\n',
  'a: {b: 1, b: 2}\n',
  'a: [b: 1]\n',
  'a: {b: c: d}\n',
  'a: [1,\n  2]\n',
  'a: { b:c }\n',
  'a: >\n  folded\n',
  'a: |2\n   indented\n',
  'a: |+\n  keep\n\n',
  'a: 1\n--- # c\nb: 2\n',
  'a: 1\n...\n',
  'a: 1\na: 2\n',
  'a: b\n  continued\n',
  'a: b: c\n',
  '"quoted key": 1\n',
  'a:\n\tb: 1\n',
  'a: 1\r\n',
  '- 1\n- 2\n',
  'just a scalar\n',
  'a:\n  - x\n - y\n',
  'a: |\n\n  leading blank\n',
  'a: |\n  x\n  \n  y\n',
  '__proto__: 1\n',
  'true: 1\n',
  'a: "x" # c\n',
  '%YAML 1.2\n---\na: 1\n',
  'a:\n  -\n    b: 1\n',
  'a: - 1\n',
  'a: @x\n',
  '',
  '# only a comment\n',
];

test('on the files of a generated repository the fast reader agrees with yaml and reads every one', () => {
  let files = generatePolicyRepo({ organizations: 3, locations: 6, overrides: 12, scripts: 25, deployments: 10 });
  files = mutatePolicyRepo(mutatePolicyRepo(files, 'add-script'), 'one-location-setting');
  for (const file of files.filter((f) => f.path.endsWith('.yaml'))) assert.ok(assertAgrees(file.text!, file.path), `${file.path} was left to yaml`);
});

test('on the template and test fixtures the fast reader agrees with yaml whenever it reads a file', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const paths = [...yamlFilesUnder(join(root, 'policy-repo-template')), ...yamlFilesUnder(join(root, 'schemas/src'))];
  assert.ok(paths.length > 40, `only ${paths.length} fixture files`);
  const read = paths.filter((path) => assertAgrees(readFileSync(path, 'utf8'), path));
  assert.ok(read.length > 10, `the fast reader read only ${read.length} of ${paths.length} fixture files`);
});

test('the plain block style is read as yaml reads it', () => {
  ACCEPTED.forEach((text, i) => assert.ok(assertAgrees(text, `accepted[${i}]`), `accepted[${i}] was left to yaml:\n${text}`));
});

test('anything outside the plain block style is left to yaml', () => {
  for (const text of DECLINED) assert.equal(readPlainYaml(text), undefined, text);
});

/** Seeded, so a failure names a reproducible case. */
function randomSource(seed: number): (max: number) => number {
  let state = seed;
  return (max) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    state ^= state >>> 13;
    return state % max;
  };
}

const ODD_STRINGS = ['true', 'null', '1', '-2', '0.5', '1e3', "it's", 'say "hi"', 'a: b', 'a #b', '#x', '', ' lead', 'trail ', '\ttab', '~', '0x1f', '0o7', '.inf', 'key:', '[x]', '- z', '|', '*a', '&b', '!t', '%p', '?t', '007', '+1', '1.'];
const PLAIN_STRINGS = ['plain', 'two words', 'x-y', 'a.b/c', 'line1\nline2\n', 'l1\n\nl3', 'é ü', '1.5'];
const KEYS = ['k', 'name', 'spec', 'os.family', 'a-b', 'x_y', 'null', 'on'];

test('on random documents written in every style yaml writes, the fast reader agrees with yaml', () => {
  const random = randomSource(7);
  const scalar = () => [random(1000) - 500, random(2) === 0, null, random(8) === 0 ? ODD_STRINGS[random(ODD_STRINGS.length)] : PLAIN_STRINGS[random(PLAIN_STRINGS.length)]][random(4)];
  const value = (depth: number): unknown => {
    const shape = random(10);
    if (depth > 3 || shape < 4) return scalar();
    if (shape < 7) return Object.fromEntries(Array.from({ length: random(4) }, (_, i) => [KEYS[random(KEYS.length)] + (random(3) ? '' : i), value(depth + 1)]));
    return Array.from({ length: random(4) }, () => value(depth + 1));
  };
  const edits = [(l: string[], i: number) => l.splice(i, 0, '# comment'), (l: string[], i: number) => l.splice(i, 0, ''), (l: string[], i: number) => (l[i] = ` ${l[i]}`), (l: string[], i: number) => (l[i] = l[i].replace(/^ /, '')), (l: string[], i: number) => (l[i] += ' # c'), (l: string[], i: number) => l.splice(i, 0, '---'), (l: string[], i: number) => (l[i] += '   ')];
  let read = 0;
  for (let n = 0; n < 4000; n++) {
    const document = Object.fromEntries(Array.from({ length: 1 + random(4) }, (_, i) => [`key${i}`, value(0)]));
    const styles = ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL'] as const;
    const lines = stringify(document, { indent: 1 + random(4), indentSeq: random(2) === 0, lineWidth: random(2) ? 0 : 20, collectionStyle: random(4) === 0 ? 'flow' : 'any', defaultStringType: styles[random(4)] }).split('\n');
    for (let edit = random(3); edit > 0; edit--) edits[random(edits.length)](lines, random(lines.length));
    if (assertAgrees(lines.join('\n'), `random case ${n}`)) read++;
  }
  assert.ok(read > 200, `the fast reader read only ${read} of the random documents`);
});
