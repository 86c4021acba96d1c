// pswm gencert: the agent's Ed25519 key pair, generated here or taken from the installer.
import { access, readFile } from 'node:fs/promises';
import { EXIT, UsageError, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { generateAgentKeys, parsePrivateKey, saveAgentKeys } from '../identity/key-pair.ts';
import { dataPaths } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm gencert [--key FILE] [--force] [--data-dir DIR]

Create the agent's Ed25519 key pair in the data folder: agent.key (private; owner-only on Linux,
SYSTEM and Administrators only on Windows) and agent.pub. The server only ever sees the public key.

Options:
  --key FILE       Use this PEM private key (Ed25519) provided by an installer instead of generating one.
  --force          Replace an existing key pair (the agent must enrol again afterwards).
${DATA_DIR_HELP}  --help           Show this help.

Exit status: 0 written, 1 key exists or unreadable, 2 usage error.
`;

const exists = (file: string) => access(file).then(() => true, () => false);

export const gencertCommand: Omit<Command, 'summary'> = {
  name: 'gencert',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { key: { type: 'string' }, force: { type: 'boolean' }, ...DATA_DIR_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    const paths = dataPaths(dataDirFrom(parsed.values));
    if (!parsed.values.force && (await exists(paths.privateKey))) {
      process.stderr.write(`pswm gencert: a key already exists at ${paths.privateKey}; use --force to replace it\n`);
      return EXIT.failed;
    }
    let keys;
    if (parsed.values.key) {
      let pem: string;
      try {
        pem = await readFile(parsed.values.key, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read --key ${parsed.values.key}: ${(error as Error).message}`);
      }
      keys = parsePrivateKey(pem, parsed.values.key);
    } else {
      keys = generateAgentKeys();
    }
    await saveAgentKeys(keys, paths);
    process.stdout.write(`private key: ${paths.privateKey}\npublic key:  ${paths.publicKey}\n${keys.publicKeyPem}`);
    return EXIT.ok;
  },
};
