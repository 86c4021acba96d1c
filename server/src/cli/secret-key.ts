// `pswm-server secret-key rotate`: a new secret key for this instance's key file, made the one in force
// in the database. Runs against the database (never --server): the key file belongs to an instance.
import { newSecretKey, secretKeyPath, writeSecretKey } from '../agents/secret-key.ts';
import { deriveServerKeys, replaceKeyId } from '../agents/server-secret.ts';
import { audit } from '../audit.ts';
import { EXIT_OK } from './command.ts';
import type { GroupCommand, LeafCommand } from './command.ts';
import { cliActor, withDatabase } from './local-database.ts';

const rotate: LeafCommand = {
  summary: 'Write a new secret key to the key file and make it the one this database accepts (stop the servers first).',
  options: [],
  usesServerConfig: true,
  async run(ctx) {
    const path = secretKeyPath(ctx.config());
    const key = newSecretKey();
    const keys = deriveServerKeys(key);
    await withDatabase(ctx, (db) => db.sql.begin(async (tx) => {
      await replaceKeyId(tx, keys);
      await audit(tx, { actor: cliActor(), action: 'secret-key.rotate', target: keys.keyId, outcome: 'success' });
      // Written inside the transaction: a file that cannot be written leaves the old key in force.
      await writeSecretKey(path, key, { replace: true });
    }));
    ctx.stdout(`new secret key ${keys.keyId} written to ${path}`);
    ctx.stderr('copy this file to every other instance on this database, then start them; agents renew their access tokens by themselves');
    return EXIT_OK;
  },
};

export const secretKey: GroupCommand = {
  summary: 'The secret key that signs agent access tokens and enrollment nonces (kept outside the database).',
  subcommands: { rotate: async () => rotate },
};
