// pswm gencert: the agent's Ed25519 key pair, generated here or taken from the installer; --rotate
// replaces the key of an enrolled agent without enrolling again.
import { access, readFile } from 'node:fs/promises';
import { EXIT, UsageError, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { loadAgentConfig } from '../identity/config.ts';
import { generateAgentKeys, parsePrivateKey, saveAgentKeys, type AgentKeys } from '../identity/key-pair.ts';
import { rotateAgentKey } from '../identity/key-rotation.ts';
import { dataPaths } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm gencert [--key FILE] [--rotate | --force [--reenroll]] [--data-dir DIR]

Create the agent's Ed25519 key pair in the data folder: agent.key (private; owner-only on Linux,
SYSTEM and Administrators only on Windows) and agent.pub. The server only ever sees the public key.

Options:
  --key FILE       Use this PEM private key (Ed25519) provided by an installer instead of generating one.
  --rotate         Enrolled agent: register a new key with the server by a request signed with the
                   current key, and switch to it once the server confirms (no re-enrollment). A
                   running agent picks the new key up when the server refuses its old one.
  --force          Replace an existing key pair of an agent that is not enrolled.
  --reenroll       With --force on an enrolled agent: replace the key anyway; the server no longer
                   knows it, so the agent must enrol again (pswm enroll --force).
${DATA_DIR_HELP}  --help           Show this help.

Exit status: 0 written, 1 key exists, agent enrolled (see --rotate), or the server refused, 2 usage error.
`;

const exists = (file: string) => access(file).then(() => true, () => false);

async function newKeys(keyFile: string | undefined): Promise<AgentKeys> {
  if (!keyFile) return generateAgentKeys();
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --key ${keyFile}: ${(error as Error).message}`);
  }
  return parsePrivateKey(pem, keyFile);
}

export const gencertCommand: Omit<Command, 'summary'> = {
  name: 'gencert',
  help: HELP,
  async run(args) {
    const options = { key: { type: 'string' }, force: { type: 'boolean' }, rotate: { type: 'boolean' }, reenroll: { type: 'boolean' }, ...DATA_DIR_OPTION } as const;
    const parsed = parseCommandArgs(this, args, options, 0);
    if (!parsed) return EXIT.ok;
    const { force, rotate, reenroll } = parsed.values;
    if (rotate && force) throw new UsageError('--rotate and --force do not go together: --rotate keeps the enrollment, --force --reenroll gives it up');
    if (reenroll && !force) throw new UsageError('--reenroll only goes with --force');
    const paths = dataPaths(dataDirFrom(parsed.values));
    const config = await loadAgentConfig(paths.config);
    const fail = (message: string) => {
      process.stderr.write(`pswm gencert: ${message}\n`);
      return EXIT.failed;
    };
    if (rotate) {
      if (!config) return fail(`this agent is not enrolled (no ${paths.config}): there is no server to register a new key with; use pswm gencert --force, then pswm enroll`);
      const keys = await newKeys(parsed.values.key);
      const outcome = await rotateAgentKey(config, paths, keys);
      const which = outcome === 'confirmed-earlier' ? 'the key pending from an earlier --rotate was already registered' : 'new key registered with the server';
      process.stdout.write(`${which}; now in use\nprivate key: ${paths.privateKey}\npublic key:  ${paths.publicKey}\n`);
      return EXIT.ok;
    }
    if (await exists(paths.privateKey)) {
      if (!force) return fail(`a key already exists at ${paths.privateKey}; use --rotate to replace the key of an enrolled agent${config ? '' : ', or --force'}`);
      // a new key the server does not know silently cuts an enrolled agent off
      if (config && !reenroll) return fail(`this agent is enrolled with ${config.server} as ${config.name}: a new key would stop it from authenticating. Use --rotate, or --force --reenroll and enrol again`);
    }
    const keys = await newKeys(parsed.values.key);
    await saveAgentKeys(keys, paths);
    process.stdout.write(`private key: ${paths.privateKey}\npublic key:  ${paths.publicKey}\n${keys.publicKeyPem}`);
    if (config && reenroll) process.stdout.write('The server does not know this key: enrol again with pswm enroll --force.\n');
    return EXIT.ok;
  },
};
