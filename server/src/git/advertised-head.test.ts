import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advertiseBranchAsHead } from './advertised-head.ts';

const pkt = (text: string) => `${(Buffer.byteLength(text) + 4).toString(16).padStart(4, '0')}${text}`;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const advertisement = (...refs: string[]) => Buffer.from(`${pkt('# service=git-upload-pack\n')}0000${refs.map(pkt).join('')}0000`);

test('a ref advertisement without HEAD gets HEAD as the tracked branch, lengths intact', () => {
  const body = advertisement(`${A} refs/heads/policy\0multi_ack agent=git/2.39\n`, `${B} refs/heads/other\n`);
  const rewritten = advertiseBranchAsHead(body, 'policy').toString('latin1');
  assert.equal(rewritten, advertisement(`${A} refs/heads/policy\0multi_ack agent=git/2.39 symref=HEAD:refs/heads/policy\n`, `${B} refs/heads/other\n`).toString('latin1'));
});

test('an advertisement with HEAD, without the tracked branch, or that is not one is left alone', () => {
  const withHead = advertisement(`${A} HEAD\0multi_ack symref=HEAD:refs/heads/main\n`, `${A} refs/heads/main\n`);
  assert.equal(advertiseBranchAsHead(withHead, 'main'), withHead);
  const withoutBranch = advertisement(`${A} refs/heads/main\0multi_ack\n`);
  assert.equal(advertiseBranchAsHead(withoutBranch, 'policy'), withoutBranch);
  const html = Buffer.from('<html>not git</html>');
  assert.equal(advertiseBranchAsHead(html, 'main'), html);
  const empty = Buffer.from(`${pkt('# service=git-upload-pack\n')}00000000`);
  assert.equal(advertiseBranchAsHead(empty, 'main'), empty);
});
