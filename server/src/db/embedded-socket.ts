// Where the embedded database listens: a Unix socket in a directory only the server's user can enter,
// so no other local user can connect (a loopback TCP port is open to every user of the machine).
// The directory is <dataDir>/run when the socket path fits the ~107-byte limit of Unix socket paths,
// else a private temporary directory. Windows has no such sockets here: it keeps a loopback port.
import { chmod, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOCKET_NAME = '.s.PGSQL.5432';
const MAX_SOCKET_PATH = 100;

export interface EmbeddedEndpoint {
  /** Unix socket path, or undefined for loopback TCP (Windows). */
  path?: string;
  /** Restricts the socket file itself once it exists. */
  restrict(): Promise<void>;
  remove(): Promise<void>;
}

export async function embeddedEndpoint(dataDir: string, platform = process.platform): Promise<EmbeddedEndpoint> {
  if (platform === 'win32') return { restrict: async () => {}, remove: async () => {} };
  const inDataDir = join(dataDir, 'run');
  const useDataDir = join(inDataDir, SOCKET_NAME).length <= MAX_SOCKET_PATH;
  const dir = useDataDir ? inDataDir : await mkdtemp(join(tmpdir(), 'pswm-db-'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const path = join(dir, SOCKET_NAME);
  // The data directory's lock is held, so a socket left here is from a process that died.
  await unlink(path).catch(() => {});
  return {
    path,
    restrict: () => chmod(path, 0o600),
    remove: () => (useDataDir ? unlink(path).catch(() => {}) : rm(dir, { recursive: true, force: true })),
  };
}
