// Self-update for agents: GET /agent/releases/:platform/:version serves a signed build (the agent
// verifies the signature with the release key it pinned at enrollment, and the sha256, before it
// stages anything); POST /agent/update-events records each step of an update in the audit log.
import { Readable } from 'node:stream';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { findRelease, RELEASE_PLATFORMS, releaseContent } from '../releases/releases.ts';
import { apiError } from './errors.ts';

const DOWNLOAD_DEADLINE_MS = 10 * 60_000;

export const UPDATE_STEPS = ['downloaded', 'refused', 'staged', 'applied', 'confirmed', 'rolled_back', 'failed'] as const;

const eventBody = {
  type: 'object',
  additionalProperties: false,
  required: ['step', 'version'],
  properties: {
    step: { enum: UPDATE_STEPS },
    version: { type: 'string', maxLength: 64 },
    from_version: { type: 'string', maxLength: 64 },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    detail: { type: 'string', maxLength: 2000 },
  },
} as const;

interface UpdateEvent {
  step: (typeof UPDATE_STEPS)[number];
  version: string;
  from_version?: string;
  sha256?: string;
  detail?: string;
}

export async function agentReleaseRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;
  const onRequest = app.requireAgent as unknown as onRequestAsyncHookHandler;

  // a build is ~100 MB streamed from the database chunk by chunk: more than the API's usual 30 s
  // deadline to a slow agent
  app.get<{ Params: { platform: string; version: string } }>('/agent/releases/:platform/:version', { onRequest, handlerTimeout: DOWNLOAD_DEADLINE_MS }, async (request, reply) => {
    const { platform, version } = request.params;
    if (!(RELEASE_PLATFORMS as readonly string[]).includes(platform)) throw apiError('NOT_FOUND', `no releases for platform "${platform}"`);
    const release = await findRelease(sql, platform, version);
    if (!release) throw apiError('NOT_FOUND', `no release ${version} for ${platform}`);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('x-pswm-release-sha256', release.sha256)
      .header('x-pswm-release-signature', release.signature)
      .header('content-length', String(release.sizeBytes))
      .send(Readable.from(releaseContent(sql, release), { objectMode: false }));
  });

  app.post<{ Body: UpdateEvent }>('/agent/update-events', { onRequest, schema: { body: eventBody } }, async (request, reply) => {
    const agent = request.agent!;
    const event = request.body;
    await audit(sql, {
      actor: `agent:${agent.name}`,
      action: `agent.update.${event.step}`,
      target: agent.agentId,
      outcome: event.step === 'refused' || event.step === 'rolled_back' || event.step === 'failed' ? 'failure' : 'success',
      details: { version: event.version, ...(event.from_version ? { from_version: event.from_version } : {}), ...(event.sha256 ? { sha256: event.sha256 } : {}), ...(event.detail ? { detail: event.detail } : {}) },
    });
    return reply.code(204).send();
  });
}
