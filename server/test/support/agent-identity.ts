// An agent's side of the enrollment protocol (docs/security.md), written from the document and not
// from the server's code, so the tests catch the server drifting from what it promises. The agent
// (agent/src/) signs exactly the same strings.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export type EnrollMethod = 'token' | 'otp' | 'queue';

export interface AgentIdentity {
  publicKeyPem: string;
  privateKey: KeyObject;
  /** base64 Ed25519 signature of "pswm-enroll-v1\n<nonce>\n<method>\n<name>\n<public key PEM>". */
  signEnrollment(input: { nonce: string; method: EnrollMethod; name?: string }): string;
  /** base64 Ed25519 signature of "pswm-enroll-status-v1\n<nonce>\n<request id>". */
  signRequestStatus(input: { nonce: string; requestId: string }): string;
  /** base64url(JSON claims) + "." + base64url(Ed25519 signature over the first part). */
  assertion(agentId: string, claims?: Partial<AssertionClaims>): string;
}

export interface AssertionClaims { sub: string; aud: string; iat: number; exp: number; jti: string }

export function generateAgentIdentity(): AgentIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signText = (text: string) => sign(null, Buffer.from(text, 'utf8'), privateKey);
  return {
    publicKeyPem,
    privateKey,
    signEnrollment: ({ nonce, method, name = '' }) =>
      signText(`pswm-enroll-v1\n${nonce}\n${method}\n${name}\n${publicKeyPem}`).toString('base64'),
    signRequestStatus: ({ nonce, requestId }) => signText(`pswm-enroll-status-v1\n${nonce}\n${requestId}`).toString('base64'),
    assertion(agentId, overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: AssertionClaims = { sub: agentId, aud: 'pswm', iat: now, exp: now + 120, jti: randomBytes(16).toString('base64url'), ...overrides };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${signText(payload).toString('base64url')}`;
    },
  };
}

/** The agent's client for the enrollment endpoints of a server at `baseUrl`. */
export function enrollmentClient(baseUrl: string) {
  const call = async (method: string, path: string, init: { body?: object; headers?: Record<string, string> } = {}) => {
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const nonce = async (): Promise<string> => (await call('POST', '/api/v1/enroll/nonce')).body.nonce;
  return {
    call,
    nonce,
    /** Signs with a fresh nonce and enrols; `tamper` lets a test break the body after signing. */
    async enroll(identity: AgentIdentity, input: { method: EnrollMethod; token?: string; code?: string; name?: string; hostname?: string; facts?: object }, tamper: (body: Record<string, unknown>) => void = () => {}) {
      const n = await nonce();
      const body: Record<string, unknown> = {
        ...input,
        hostname: input.hostname ?? input.name ?? 'host',
        public_key: identity.publicKeyPem,
        nonce: n,
        signature: identity.signEnrollment({ nonce: n, method: input.method, name: input.name }),
      };
      tamper(body);
      return call('POST', '/api/v1/enroll', { body });
    },
    async requestStatus(identity: AgentIdentity, requestId: string) {
      const n = await nonce();
      return call('GET', `/api/v1/enroll/requests/${requestId}`, {
        headers: { 'x-pswm-nonce': n, 'x-pswm-signature': identity.signRequestStatus({ nonce: n, requestId }) },
      });
    },
    accessToken: (agentId: string, assertion: string) => call('POST', '/api/v1/agent/token', { body: { agent_id: agentId, assertion } }),
    whoami: (accessToken: string) => call('GET', '/api/v1/agent/whoami', { headers: { authorization: `Bearer ${accessToken}` } }),
  };
}

/** Creates `name` as an admin would, then enrols it with a fresh key and logs it in, as an agent does. */
export async function enrolAgent(url: string, adminToken: string, name: string, placement: { organization: string; location: string }): Promise<{ id: string; name: string; accessToken: string }> {
  const client = enrollmentClient(url);
  const created = await client.call('POST', '/api/v1/agents', { body: { name, ...placement }, headers: { authorization: `Bearer ${adminToken}` } });
  if (created.status !== 201) throw new Error(`agent create: ${created.status} ${JSON.stringify(created.body)}`);
  const identity = generateAgentIdentity();
  const enrolled = await client.enroll(identity, { method: 'token', token: created.body.token, name });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  const id: string = enrolled.body.agent_id;
  const access = await client.accessToken(id, identity.assertion(id));
  if (access.status !== 200) throw new Error(`access token: ${access.status} ${JSON.stringify(access.body)}`);
  return { id, name, accessToken: access.body.access_token };
}
