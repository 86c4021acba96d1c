// A real smart-HTTP git server for tests: `git http-backend` (CGI) behind node:http with basic
// auth, so isomorphic-git and the git CLI talk to the same protocol a hosted forge speaks.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

export interface GitHttpServer {
  /** Clone URL without credentials (clients must answer the 401). */
  url(repoName: string): string;
  /** Clone URL with the server's credentials embedded, for the git CLI. */
  authenticatedUrl(repoName: string): string;
  /** Directory holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** Creates an empty bare repository `<root>/<name>` that accepts pushes over HTTP. `head` points its
   * HEAD elsewhere than `branch`, e.g. at a branch that will never exist, as self-hosted servers often do. */
  createRepo(name: string, opts?: { branch?: string; head?: string }): Promise<void>;
  stop(): Promise<void>;
}

/** Environment for every git CLI call in tests: no user/system config (signing, hooks, editors),
 * fixed author and committer, never prompt for credentials, CAs from `http.sslCAInfo` (a machine-wide
 * GIT_SSL_CAINFO would override it). */
const { GIT_SSL_CAINFO: _machineCa, ...inheritedEnv } = process.env;
export const gitTestEnv: NodeJS.ProcessEnv = {
  ...inheritedEnv,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.test',
};

/** Runs the git CLI; rejects with its stderr when it exits non-zero. Resolves trimmed stdout. */
export function runGit(args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: gitTestEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`git ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** `tls` (PEM certificate and key) makes it an https server. */
export async function startGitHttpServer(opts: { username: string; password: string; tls?: { cert: Buffer; key: Buffer } }): Promise<GitHttpServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'pswm-git-http-'));
  const expectedAuthorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.headers.authorization !== expectedAuthorization) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="pswm test git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    serveWithHttpBackend(root, opts.username, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend failed: ${String(error)}\n`);
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const credentials = `${encodeURIComponent(opts.username)}:${encodeURIComponent(opts.password)}`;
  const scheme = opts.tls ? 'https' : 'http';

  return {
    root,
    url: (repoName) => `${scheme}://127.0.0.1:${port}/${repoName}`,
    authenticatedUrl: (repoName) => `${scheme}://${credentials}@127.0.0.1:${port}/${repoName}`,
    async createRepo(name, createOpts = {}) {
      const dir = path.join(root, name);
      await runGit(['init', '--quiet', '--bare', `--initial-branch=${createOpts.branch ?? 'main'}`, dir]);
      await runGit(['config', 'http.receivepack', 'true'], dir);
      if (createOpts.head) await runGit(['symbolic-ref', 'HEAD', `refs/heads/${createOpts.head}`], dir);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function serveWithHttpBackend(root: string, user: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // git gzips larger request bodies (fetch negotiation). We inflate here and hand the CGI a plain
  // body without CONTENT_LENGTH, so http-backend reads it to EOF.
  const gzipped = req.headers['content-encoding'] === 'gzip';
  const env: NodeJS.ProcessEnv = {
    ...gitTestEnv,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
  };
  if (!gzipped && req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  // A GET's stdin may close before the (empty) body is written; only the exit code decides.
  const requestBody = (gzipped ? pipeline(req, zlib.createGunzip(), child.stdin) : pipeline(req, child.stdin)).catch(() => {});

  await relayCgiResponse(child.stdout, res);
  await requestBody;
  const code = await exited;
  if (code !== 0 && !res.writableEnded) throw new Error(`exit ${code}: ${stderr.trim()}`);
}

/** Reads CGI headers (up to the blank line) from `stdout`, writes them as the HTTP status and
 * headers, then streams the remaining body unchanged. */
async function relayCgiResponse(stdout: NodeJS.ReadableStream, res: http.ServerResponse): Promise<void> {
  let head = Buffer.alloc(0);
  for await (const chunk of stdout as AsyncIterable<Buffer>) {
    if (res.headersSent) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (!end) continue;
    const { status, headers } = parseCgiHeaders(head.subarray(0, end.index).toString('latin1'));
    res.writeHead(status, headers);
    const rest = head.subarray(end.index + end.length);
    if (rest.length > 0) res.write(rest);
  }
  if (!res.headersSent) throw new Error('git http-backend wrote no CGI headers');
  res.end();
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf !== -1) return { index: lf, length: 2 };
  return undefined;
}

export function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  return { status, headers };
}

export interface GitWorkspace {
  dir: string;
  /** Writes (string) or deletes (null) files, commits everything; resolves the new revision. */
  commitFiles(files: Record<string, string | null>, message: string): Promise<string>;
  /** Pushes HEAD to the branch on origin. */
  push(): Promise<void>;
  remove(): Promise<void>;
}

/** Clones `cloneUrl` (credentials in the URL) into a temp directory with the git CLI. Works for an
 * empty repository: HEAD is pointed at `branch` so the first commit creates it. `caFile`: the CA of an
 * https test server. */
export async function gitWorkspace(cloneUrl: string, opts: { branch?: string; caFile?: string } = {}): Promise<GitWorkspace> {
  const branch = opts.branch ?? 'main';
  const dir = await mkdtemp(path.join(tmpdir(), 'pswm-git-ws-'));
  const trust = opts.caFile ? ['-c', `http.sslCAInfo=${opts.caFile}`] : [];
  await runGit([...trust, 'clone', '--quiet', cloneUrl, dir]);
  if (opts.caFile) await runGit(['config', 'http.sslCAInfo', opts.caFile], dir);
  const hasCommits = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD'], dir).then(() => true, () => false);
  if (hasCommits) await runGit(['checkout', '--quiet', '-B', branch, `origin/${branch}`], dir);
  else await runGit(['symbolic-ref', 'HEAD', `refs/heads/${branch}`], dir);
  return {
    dir,
    commitFiles: (files, message) => commitFiles(dir, files, message),
    push: async () => {
      await runGit(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], dir);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes or deletes files in a working tree and commits all changes with the test author. */
export async function commitFiles(dir: string, files: Record<string, string | null>, message: string): Promise<string> {
  await stageFiles(dir, files);
  await runGit(['commit', '--quiet', '--allow-empty', '-m', message], dir);
  return runGit(['rev-parse', 'HEAD'], dir);
}

/** Writes (or, for null, deletes) the files and stages every change: a commit is then one `git commit`. */
export async function stageFiles(dir: string, files: Record<string, string | null>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    if (content === null) {
      await rm(target, { force: true });
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
  await runGit(['add', '--all'], dir);
}
