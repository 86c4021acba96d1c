// isomorphic-git's HTTP client with the deployment's network around it: a proxy from HTTPS_PROXY /
// HTTP_PROXY / NO_PROXY (Node's own http.Agent `proxyEnv`, the same variables git and curl read), and
// the certificate authorities a git host may chain to: Node's bundled ones (plus NODE_EXTRA_CA_CERTS),
// the operating system's store, and PSWM_GIT_CA_FILE for a private CA.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { advertiseBranchAsHead } from './advertised-head.ts';
import { GitSourceError } from './errors.ts';

export interface GitHttpOptions {
  /** The tracked branch (see advertised-head.ts). */
  branch: string;
  caFile?: string;
  env: NodeJS.ProcessEnv;
}

export async function createGitHttpClient(options: GitHttpOptions): Promise<HttpClient> {
  const extraCa = options.caFile ? await readCaFile(options.caFile) : [];
  const ca = [...new Set([...tls.getCACertificates('default'), ...tls.getCACertificates('system'), ...extraCa])];
  const agents: Record<string, http.Agent> = {
    'http:': new http.Agent({ proxyEnv: options.env }),
    'https:': new https.Agent({ proxyEnv: options.env, ca }),
  };
  return {
    async request(request) {
      const url = new URL(request.url);
      const response = await nodeHttp.request({ ...request, agent: agents[url.protocol] });
      if (!isRefAdvertisement(url, request.method) || response.statusCode !== 200 || !response.body) return response;
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body) chunks.push(chunk);
      const body = advertiseBranchAsHead(Buffer.concat(chunks), options.branch);
      return { ...response, body: (async function* () { yield body; })() };
    },
  };
}

function isRefAdvertisement(url: URL, method = 'GET'): boolean {
  return method === 'GET' && url.pathname.endsWith('/info/refs') && url.searchParams.get('service') === 'git-upload-pack';
}

async function readCaFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GitSourceError('GIT_CA_FILE_INVALID', `${path}: ${(error as Error).message}`, { cause: error });
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!certificates) throw new GitSourceError('GIT_CA_FILE_INVALID', `${path} holds no PEM certificate`);
  return certificates.map((pem) => `${pem}\n`);
}
