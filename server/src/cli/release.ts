// `pswm-server release keygen|add|list`: signed agent builds for self-update, against the configured
// database. The release key is not the server's secret: keygen writes its private half to a file the
// administrator keeps (off the server, ideally), and only the public half goes into the database,
// from where enrollment hands it to agents, which pin it.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { audit } from '../audit.ts';
import { ConfigError } from '../config/config.ts';
import { activeReleaseKey, addRelease, generateReleaseKeys, listReleases, parseReleasePrivateKey, RELEASE_PLATFORMS, RELEASE_VERSION_PATTERN, ReleaseError, setReleaseKey, signRelease, type ReleasePlatform } from '../releases/releases.ts';
import { onePositional, requiredFlag } from './args.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, GroupCommand, LeafCommand } from './command.ts';
import { cliActor, withDatabase } from './local-database.ts';
import { formatTable, formatTime } from './table.ts';

async function reportingReleaseErrors(ctx: CommandContext, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof ReleaseError)) throw error;
    ctx.stderr(`pswm-server release: ${error.message}`);
    return EXIT_FAILURE;
  }
}

const keygen: LeafCommand = {
  summary: 'Create the release key: DIR/release.key (private, keep it safe) and DIR/release.pub; agents enrolled from now on pin it.',
  options: [
    { flag: 'out', type: 'string', description: 'Folder for release.key and release.pub (required).' },
    { flag: 'force', type: 'boolean', description: 'Replace the active release key (agents that pinned the old one refuse builds signed by the new one until re-enrolled).' },
  ],
  usesServerConfig: true,
  async run(ctx) {
    const out = path.resolve(requiredFlag(ctx, 'out'));
    return reportingReleaseErrors(ctx, () => withDatabase(ctx, async (db) => {
      const existing = await activeReleaseKey(db.sql);
      if (existing && !ctx.values.force) throw new ReleaseError('a release key exists already; --force replaces it (agents pinned to it will refuse new builds)');
      const keys = generateReleaseKeys();
      // `wx`: never overwrite a private key file
      await writeFile(path.join(out, 'release.key'), keys.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EEXIST' ? new ReleaseError(`${path.join(out, 'release.key')} exists; move it away first`) : error;
      });
      await chmod(path.join(out, 'release.key'), 0o600);
      await writeFile(path.join(out, 'release.pub'), keys.publicKeyPem);
      await db.sql.begin(async (tx) => {
        await setReleaseKey(tx, keys.publicKeyPem);
        await audit(tx, { actor: cliActor(), action: 'release.keygen', outcome: 'success', details: { replaced: Boolean(existing) } });
      });
      ctx.stdout(path.join(out, 'release.key'));
      ctx.stderr(`release key created: sign builds with "pswm-server release add FILE --version V --platform P --key ${path.join(out, 'release.key')}"`);
      return EXIT_OK;
    }));
  },
};

const add: LeafCommand = {
  summary: 'Sign an agent build with the release key and store it with its sha256 (releases are immutable).',
  args: '<file>',
  options: [
    { flag: 'version', type: 'string', description: 'The version the build reports (pswm --version); settings.agent_update.version names it.' },
    { flag: 'platform', type: 'string', description: `The platform it runs on: ${RELEASE_PLATFORMS.join(' or ')}.` },
    { flag: 'key', type: 'string', description: 'The release private key file from release keygen (required).' },
  ],
  usesServerConfig: true,
  async run(ctx) {
    const file = onePositional(ctx, 'build file');
    const version = requiredFlag(ctx, 'version');
    const platform = requiredFlag(ctx, 'platform') as ReleasePlatform;
    if (!RELEASE_PLATFORMS.includes(platform)) throw new ConfigError('BAD_ARGUMENTS', `--platform must be ${RELEASE_PLATFORMS.join(' or ')}, not "${platform}"`);
    if (!RELEASE_VERSION_PATTERN.test(version)) throw new ConfigError('BAD_ARGUMENTS', `--version "${version}" is not a version (letters, digits, . + -; at most 64)`);
    const keyFile = requiredFlag(ctx, 'key');
    return reportingReleaseErrors(ctx, () => withDatabase(ctx, async (db) => {
      const privateKey = parseReleasePrivateKey(await readFile(keyFile, 'utf8'), keyFile);
      const content = await readFile(file);
      const key = await activeReleaseKey(db.sql);
      if (!key) throw new ReleaseError('no release key: run "pswm-server release keygen --out DIR" first');
      const signed = signRelease(content, { platform, version }, privateKey, key.publicKey);
      await db.sql.begin(async (tx) => {
        await addRelease(tx, { platform, version, content, keyId: key.id, ...signed });
        await audit(tx, { actor: cliActor(), action: 'release.add', target: `${platform}/${version}`, outcome: 'success', details: { sha256: signed.sha256, size_bytes: content.length } });
      });
      ctx.stdout(signed.sha256);
      ctx.stderr(`release ${version} for ${platform} stored (${content.length} bytes); roll it out with settings.agent_update: { version: "${version}", rollout_percent: 1 }`);
      return EXIT_OK;
    }));
  },
};

const list: LeafCommand = {
  summary: 'List the stored agent builds.',
  options: [],
  usesServerConfig: true,
  async run(ctx) {
    const releases = await withDatabase(ctx, (db) => listReleases(db.sql));
    ctx.stdout(formatTable(['PLATFORM', 'VERSION', 'SIZE', 'SHA256', 'ADDED'], releases.map((r) => [r.platform, r.version, String(r.sizeBytes), r.sha256, formatTime(r.createdAt)])));
    return EXIT_OK;
  },
};

export const release: GroupCommand = {
  summary: 'Signed agent builds for self-update: keygen, add, list.',
  subcommands: { keygen: async () => keygen, add: async () => add, list: async () => list },
};
