import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVENTORY_RESEND_MS, inventoryDigest, mustSendInventory } from './inventory-sent.ts';

const git = { name: 'git', version: '2.45.0', pinned: false };
const zip = { name: '7zip', version: '23.1', pinned: false };

test('the digest names the set: not the order choco listed it in, but each version and pin', () => {
  assert.equal(inventoryDigest([git, zip]), inventoryDigest([zip, git]));
  assert.notEqual(inventoryDigest([git, zip]), inventoryDigest([git, { ...zip, version: '24.0' }]));
  assert.notEqual(inventoryDigest([git, zip]), inventoryDigest([git, { ...zip, pinned: true }]));
  assert.notEqual(inventoryDigest([git, zip]), inventoryDigest([git]));
});

test('an inventory is sent unless this identity sent this very set less than a day ago', () => {
  const sentAt = new Date('2026-03-01T10:00:00Z');
  const last = { identity: 'a', digest: 'd', sent_at: sentAt.toISOString() };
  const at = (ms: number) => new Date(sentAt.getTime() + ms);
  assert.equal(mustSendInventory('d', 'a', undefined, at(0)), true, 'never sent');
  assert.equal(mustSendInventory('d', 'a', last, at(60_000)), false);
  assert.equal(mustSendInventory('e', 'a', last, at(60_000)), true, 'changed');
  assert.equal(mustSendInventory('d', 'b', last, at(60_000)), true, 'another identity');
  assert.equal(mustSendInventory('d', 'a', last, at(INVENTORY_RESEND_MS - 1)), false);
  assert.equal(mustSendInventory('d', 'a', last, at(INVENTORY_RESEND_MS)), true, 'a day old');
  assert.equal(mustSendInventory('d', 'a', last, at(-60_000)), true, 'the clock went back');
});
