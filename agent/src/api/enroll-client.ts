// The agent's side of enrollment (docs/security.md): fresh nonce, signed request, and for the queue
// the signed status poll.
import type { AgentKeys } from '../identity/key-pair.ts';
import { enrollmentText, requestStatusText, signText, type EnrollMethod } from '../identity/signatures.ts';
import { callServer } from './http.ts';

export interface EnrollRequest {
  method: EnrollMethod;
  token?: string;
  code?: string;
  name?: string;
  hostname: string;
  facts?: Record<string, unknown>;
}

export type EnrollAnswer =
  | { status: 'enrolled'; agent_id: string; name: string; organization: string; location: string; release_public_key?: string }
  | { status: 'pending'; request_id: string };

export type RequestStatus =
  | { status: 'pending' }
  | { status: 'rejected' }
  | { status: 'approved'; agent_id: string; name: string; organization: string; location: string; release_public_key?: string };

async function fetchNonce(server: string): Promise<string> {
  return (await callServer(server, 'POST', '/api/v1/enroll/nonce')).body.nonce;
}

export async function enroll(server: string, keys: AgentKeys, input: EnrollRequest): Promise<EnrollAnswer> {
  const nonce = await fetchNonce(server);
  const signature = signText(keys.privateKey, enrollmentText({ nonce, method: input.method, name: input.name, publicKeyPem: keys.publicKeyPem }));
  const { status, body } = await callServer(server, 'POST', '/api/v1/enroll', { body: { ...input, public_key: keys.publicKeyPem, nonce, signature } });
  return status === 202 ? { status: 'pending', request_id: body.request_id } : { status: 'enrolled', ...body };
}

export async function fetchRequestStatus(server: string, keys: AgentKeys, requestId: string): Promise<RequestStatus> {
  const nonce = await fetchNonce(server);
  const signature = signText(keys.privateKey, requestStatusText({ nonce, requestId }));
  const { body } = await callServer(server, 'GET', `/api/v1/enroll/requests/${encodeURIComponent(requestId)}`, {
    headers: { 'x-pswm-nonce': nonce, 'x-pswm-signature': signature },
  });
  return body as RequestStatus;
}
