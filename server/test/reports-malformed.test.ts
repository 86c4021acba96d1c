// Bad input to the report and heartbeat endpoints: every request below gets a 4xx with a code and a
// message, and none of them writes a row to any report table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAgentAuthority } from '../src/agents/access-token.ts';
import { reportsSetup, sampleHeartbeat, sampleReport, scriptRun } from './support/reports-setup.ts';

type Credential = 'agent' | 'none' | 'forged' | 'other-agent-claim' | 'expired' | 'admin' | 'viewer' | 'revoked';

interface Case {
  name: string;
  path?: string;
  /** An object is sent as JSON; a string as is. */
  body: unknown;
  credential?: Credential;
  contentType?: string;
  status: number;
  code: string;
  message?: RegExp;
}

const REPORTS = '/api/v1/agent/reports';
const HEARTBEAT = '/api/v1/agent/heartbeat';
const report = (overrides: Record<string, unknown>) => sampleReport(overrides);
const withRun = (overrides: Record<string, unknown>) => sampleReport({ script_runs: [scriptRun(overrides)] });
const heartbeat = (metrics: Record<string, unknown>) => {
  const base = sampleHeartbeat('2025-03-01T10:00:00Z') as { at: string; metrics: Record<string, unknown> };
  return { ...base, metrics: { ...base.metrics, ...metrics } };
};
const { id: _id, ...reportWithoutId } = sampleReport();

const CASES: Case[] = [
  { name: 'truncated JSON', body: '{"id": "', status: 400, code: 'INVALID_JSON' },
  { name: 'empty JSON body', body: '', status: 400, code: 'INVALID_JSON' },
  { name: 'not JSON at all', body: 'id=1', contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'an array instead of an object', body: [], status: 400, code: 'VALIDATION_FAILED', message: /body must be object/ },
  { name: 'missing id', body: reportWithoutId, status: 400, code: 'VALIDATION_FAILED', message: /missing required property "id"/ },
  { name: 'id not a uuid', body: report({ id: 'report-1' }), status: 400, code: 'VALIDATION_FAILED', message: /body\/id must be a uuid/ },
  { name: 'dry_run as a string', body: report({ dry_run: 'false' }), status: 400, code: 'VALIDATION_FAILED', message: /body\/dry_run must be boolean/ },
  { name: 'started_at not a time', body: report({ started_at: 'yesterday' }), status: 400, code: 'VALIDATION_FAILED', message: /body\/started_at must be a RFC 3339 date-time/ },
  { name: 'a date that does not exist', body: report({ started_at: '2025-02-30T10:00:00Z' }), status: 400, code: 'VALIDATION_FAILED', message: /started_at/ },
  { name: 'finished before it started', body: report({ finished_at: '2025-03-01T09:00:00Z' }), status: 400, code: 'VALIDATION_FAILED', message: /finished_at must not be before/ },
  { name: 'unknown top-level property', body: report({ agent: 'ws-b' }), status: 400, code: 'VALIDATION_FAILED', message: /body has unknown property "agent"/ },
  { name: 'unknown property in a script run', body: withRun({ output: 'x' }), status: 400, code: 'VALIDATION_FAILED', message: /body\/script_runs\/0 has unknown property "output"/ },
  { name: 'negative duration', body: withRun({ duration_ms: -5 }), status: 400, code: 'VALIDATION_FAILED', message: /body\/script_runs\/0\/duration_ms must be >= 0/ },
  { name: 'fractional exit code', body: withRun({ exit_code: 1.5 }), status: 400, code: 'VALIDATION_FAILED', message: /exit_code must be integer,null/ },
  { name: 'unknown run phase', body: withRun({ phase: 'script' }), status: 400, code: 'VALIDATION_FAILED', message: /phase must be one of check, apply/ },
  { name: 'sha256 not lowercase hex', body: withRun({ sha256: 'ABC' }), status: 400, code: 'VALIDATION_FAILED', message: /sha256 must match/ },
  { name: 'missing stdout', body: withRun({ stdout: undefined }), status: 400, code: 'VALIDATION_FAILED', message: /missing required property "stdout"/ },
  { name: 'bad drift status', body: report({ drift: [{ kind: 'script', name: 'x', status: 'ok' }] }), status: 400, code: 'VALIDATION_FAILED', message: /drift\/0\/status must be one of in_sync, changed, failed, drifted, skipped/ },
  { name: 'bad drift kind', body: report({ drift: [{ kind: 'service', name: 'x', status: 'in_sync' }] }), status: 400, code: 'VALIDATION_FAILED', message: /drift\/0\/kind must be one of/ },
  { name: 'the same drift item twice', body: report({ drift: [{ kind: 'script', name: 'x', status: 'in_sync' }, { kind: 'script', name: 'x', status: 'failed' }] }), status: 400, code: 'VALIDATION_FAILED', message: /drift\/1 repeats/ },
  { name: 'the same run id twice', body: (() => { const run = scriptRun(); return report({ script_runs: [run, run] }); })(), status: 400, code: 'VALIDATION_FAILED', message: /script_runs\/1 repeats/ },
  { name: 'facts as a list', body: report({ facts: ['os'] }), status: 400, code: 'VALIDATION_FAILED', message: /body\/facts must be object/ },
  { name: 'a fact key with a control character', body: report({ facts: { 'bad\nkey': 1 } }), status: 400, code: 'VALIDATION_FAILED', message: /body\/facts/ },
  { name: 'a fact PostgreSQL cannot store', body: report({ facts: { os: 'a\u0000b' } }), status: 400, code: 'VALIDATION_FAILED', message: /body\/facts\/os contains U\+0000/ },
  { name: 'a package without a version', body: report({ choco_packages: [{ name: 'git', pinned: false }] }), status: 400, code: 'VALIDATION_FAILED', message: /choco_packages\/0 is missing required property "version"/ },
  { name: 'a choco run with an unknown operation', body: report({ choco_runs: [{ ...(sampleReport().choco_runs as object[])[0], operation: 'reinstall' }] }), status: 400, code: 'VALIDATION_FAILED', message: /operation must be one of/ },
  { name: 'a 5 MiB report', body: report({ script_runs: [scriptRun({ stdout: 'z'.repeat(5 * 1024 * 1024) })] }), status: 413, code: 'BODY_TOO_LARGE' },
  { name: 'no token', body: sampleReport(), credential: 'none', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'a forged signature', body: sampleReport(), credential: 'forged', status: 401, code: 'INVALID_TOKEN' },
  { name: 'a token rewritten to claim another agent', body: sampleReport(), credential: 'other-agent-claim', status: 401, code: 'INVALID_TOKEN' },
  { name: 'an expired token', body: sampleReport(), credential: 'expired', status: 401, code: 'TOKEN_EXPIRED' },
  { name: 'an admin API token', body: sampleReport(), credential: 'admin', status: 401, code: 'INVALID_TOKEN' },
  { name: 'a viewer API token', body: sampleReport(), credential: 'viewer', status: 401, code: 'INVALID_TOKEN' },
  { name: 'a revoked agent', body: sampleReport(), credential: 'revoked', status: 401, code: 'AGENT_REVOKED' },
  { name: 'an unauthenticated huge body is refused before it is read', body: 'x'.repeat(6 * 1024 * 1024), credential: 'none', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'heartbeat: bad JSON', path: HEARTBEAT, body: '{"at":', status: 400, code: 'INVALID_JSON' },
  { name: 'heartbeat: missing metrics', path: HEARTBEAT, body: { at: '2025-03-01T10:00:00Z' }, status: 400, code: 'VALIDATION_FAILED', message: /missing required property "metrics"/ },
  { name: 'heartbeat: CPU above 100%', path: HEARTBEAT, body: heartbeat({ cpu: { usage_percent: 150, cores: 4 } }), status: 400, code: 'VALIDATION_FAILED', message: /body\/metrics\/cpu\/usage_percent must be <= 100/ },
  { name: 'heartbeat: negative memory', path: HEARTBEAT, body: heartbeat({ memory: { total_bytes: -1, used_bytes: 0 } }), status: 400, code: 'VALIDATION_FAILED', message: /total_bytes must be >= 0/ },
  { name: 'heartbeat: disks as an object', path: HEARTBEAT, body: heartbeat({ disks: { 'C:': 1 } }), status: 400, code: 'VALIDATION_FAILED', message: /body\/metrics\/disks must be array/ },
  { name: 'heartbeat: unknown GPU property', path: HEARTBEAT, body: heartbeat({ gpus: [{ name: 'A2000', fan: 30 }] }), status: 400, code: 'VALIDATION_FAILED', message: /gpus\/0 has unknown property "fan"/ },
  { name: 'heartbeat: bad time', path: HEARTBEAT, body: { ...sampleHeartbeat('now') }, status: 400, code: 'VALIDATION_FAILED', message: /body\/at must be a RFC 3339 date-time/ },
  { name: 'heartbeat: a 70 KiB body', path: HEARTBEAT, body: heartbeat({ cpu: { usage_percent: 1, cores: 1, model: 'm'.repeat(70 * 1024) } }), status: 413, code: 'BODY_TOO_LARGE' },
  { name: 'heartbeat: no token', path: HEARTBEAT, body: sampleHeartbeat('2025-03-01T10:00:00Z'), credential: 'none', status: 401, code: 'UNAUTHENTICATED' },
];

test(`${CASES.length} malformed report and heartbeat requests each get a 4xx with a message and write nothing`, async (t) => {
  const { enrolAgent, admin, send, rowCounts, server, sql, adminToken, viewerToken } = await reportsSetup(t);
  const agent = await enrolAgent('ws-good');
  const other = await enrolAgent('ws-other');
  const revoked = await enrolAgent('ws-revoked');
  assert.equal((await admin('DELETE', '/api/v1/agents/ws-revoked')).status, 200);
  // Sent to a server whose secret signed them, but 16 minutes ago: a 15-minute token has expired.
  const past = await createAgentAuthority(sql, server.bus, server.keys.accessToken, { now: () => Date.now() - 16 * 60_000 });
  const expired = past.issue({ agentId: agent.id, name: agent.name, organization: 'contoso', location: 'paris' }).token;
  past.close();
  const [prefix, payload, tag] = agent.accessToken.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: other.id, name: other.name };
  const tokens: Record<Credential, string | undefined> = {
    agent: agent.accessToken,
    none: undefined,
    forged: `${prefix}.${payload}.${'A'.repeat(tag.length)}`,
    'other-agent-claim': `${prefix}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${tag}`,
    expired,
    admin: adminToken,
    viewer: viewerToken,
    revoked: revoked.accessToken,
  };
  assert.ok(CASES.length >= 25);
  const before = await rowCounts();

  for (const c of CASES) {
    const token = tokens[c.credential ?? 'agent'];
    const answer = await send('POST', c.path ?? REPORTS, {
      body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
      headers: { 'content-type': c.contentType ?? 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    assert.equal(answer.status, c.status, `${c.name}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body?.error?.code, c.code, `${c.name}: ${JSON.stringify(answer.body)}`);
    assert.ok(answer.body.error.message.length > 10, `${c.name}: a message says why`);
    if (c.message) assert.match(answer.body.error.message, c.message, c.name);
    assert.deepEqual(await rowCounts(), before, `${c.name} wrote nothing`);
  }

  // The same agent with a good body is accepted: the refusals above were about the input.
  assert.equal((await agent.post(REPORTS, sampleReport())).status, 201);
});

test('the read API needs a viewer token and names unknown agents', async (t) => {
  const { send, viewer, enrolAgent } = await reportsSetup(t);
  const agent = await enrolAgent('ws-read');
  assert.equal((await send('GET', '/api/v1/agents')).status, 401);
  const withAgentToken = await send('GET', '/api/v1/agents', { headers: { authorization: `Bearer ${agent.accessToken}` } });
  assert.equal(withAgentToken.status, 401, 'an agent token is not a viewer token');
  for (const path of ['', '/runs', '/facts', '/packages', '/metrics', '/drift']) {
    const answer = await viewer(`/api/v1/agents/nobody${path}`);
    assert.equal(answer.status, 404, path);
    assert.match(answer.body.error.message, /No agent named "nobody"/);
  }
  assert.equal((await viewer('/api/v1/agents/ws-read/metrics?limit=0')).status, 400);
  assert.equal((await viewer('/api/v1/agents/ws-read/runs?type=shell')).status, 400);
});
