// Hostile input against the whole server (every route, real PostgreSQL): a table of malformed requests
// over every endpoint and a seeded fuzz of 5,000 more. Each gets a 4xx with a code and a message, none
// writes a row (a refused enrollment writes exactly its audit row), and what is valid but unusual
// (a Windows crash exit code, NUL in captured output, 100 inventories at once) is stored whole.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { MAX_DEPTH } from '@pswm/schemas/input-rules';
import { seeded } from '../../bench/agent-backoff-sim.ts';
import { enrolAgent } from './support/agent-identity.ts';
import { startFullServer } from './support/full-server.ts';
import type { RawAnswer } from './support/full-server.ts';
import { sampleHeartbeat, sampleReport, scriptRun } from './support/reports-setup.ts';

type Credential = 'admin' | 'viewer' | 'agent' | 'none';

interface Request {
  method: string;
  /** Sent as written: percent-escapes stay escapes. */
  path: string;
  credential: Credential;
  /** JSON text (see jsonText), or undefined for no body. */
  body?: string;
  headers?: Record<string, string>;
}

interface Case extends Request {
  name: string;
  /** Exact status; default: any 4xx. */
  status?: number;
  code?: string;
  message?: RegExp;
}

const API = '/api/v1';
const UUID = '5b0f3c1e-8c1a-4b7e-9a51-3f2d2b7c9e01';
const NUL = '\u0000';
const HIGH = '\uD800';
const LOW = '\uDC00';
/** Stands for a number JSON.stringify cannot write (1e400 parses to Infinity); jsonText puts it in. */
const RAW_NUMBER = (text: string) => `__raw_number_${text}__`;

/** JSON text of `value`, with RAW_NUMBER placeholders replaced by the bare number. */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/"__raw_number_([^"]+)__"/g, '$1');
}

/** `levels` arrays inside one another around `leaf`, as JSON text. */
function deepText(levels: number, leaf = '1'): string {
  return '['.repeat(levels) + leaf + ']'.repeat(levels);
}

const DEEP = '__deep__';
/** jsonText with the DEEP placeholder replaced by 20,000 levels of nesting. */
function withDeep(value: unknown): string {
  return jsonText(value).replace(`"${DEEP}"`, deepText(20_000));
}

const enrollBody = (overrides: Record<string, unknown> = {}) => ({
  method: 'queue', name: 'ws-new', hostname: 'ws-new.example', public_key: 'not-a-key', nonce: 'n', signature: 's', ...overrides,
});
const report = (overrides: Record<string, unknown> = {}) => sampleReport(overrides);
const withRun = (overrides: Record<string, unknown>) => sampleReport({ script_runs: [scriptRun(overrides)] });
const chocoRun = (overrides: Record<string, unknown>) => sampleReport({ choco_runs: [{ ...(sampleReport().choco_runs as object[])[0], ...overrides }] });
const heartbeat = (metrics: Record<string, unknown>) => {
  const base = sampleHeartbeat('2025-03-01T10:00:00Z') as { at: string; metrics: Record<string, unknown> };
  return { ...base, metrics: { ...base.metrics, ...metrics } };
};

const post = (path: string, body: string, credential: Credential, rest: Partial<Case> = {}): Omit<Case, 'name'> =>
  ({ method: 'POST', path, body, credential, ...rest });
const get = (path: string, credential: Credential, rest: Partial<Case> = {}): Omit<Case, 'name'> => ({ method: 'GET', path, credential, ...rest });
const del = (path: string, credential: Credential, rest: Partial<Case> = {}): Omit<Case, 'name'> => ({ method: 'DELETE', path, credential, ...rest });
const refused = (what: RegExp) => ({ status: 400, code: 'VALIDATION_FAILED', message: what });
const nulAt = (path: string) => refused(new RegExp(`^${path} contains U\\+0000`));
const surrogateAt = (path: string) => refused(new RegExp(`^${path} contains an unpaired UTF-16 surrogate`));
/** Nesting is judged on the text, before parsing: the refusal names the body, not the path. */
const tooDeep = refused(new RegExp(`^body is nested deeper than ${MAX_DEPTH} levels`));
const rangeAt = (path: string) => refused(new RegExp(`^${path} is outside ±9007199254740991`));
const badUrl = { status: 400, code: 'BAD_REQUEST', message: /not a valid url/ };

/** The malformed requests; `agent` names the enrolled agent the read routes look at. */
function malformedCases(agent: string): Case[] {
  const cases: Record<string, Omit<Case, 'name'>> = {
    // Enrollment: refused before the nonce is looked at, and audited.
    'enroll: NUL in the host name': post(`${API}/enroll`, jsonText(enrollBody({ hostname: `ws${NUL}` })), 'none', nulAt('body/hostname')),
    'enroll: a lone surrogate in the host name': post(`${API}/enroll`, jsonText(enrollBody({ hostname: `ws${HIGH}` })), 'none', surrogateAt('body/hostname')),
    'enroll: NUL in the name': post(`${API}/enroll`, jsonText(enrollBody({ name: `a${NUL}` })), 'none', nulAt('body/name')),
    'enroll: facts nested 20,000 deep': post(`${API}/enroll`, withDeep(enrollBody({ facts: { deep: DEEP } })), 'none', tooDeep),
    'enroll: a fact key with NUL': post(`${API}/enroll`, jsonText(enrollBody({ facts: { [`os${NUL}`]: 1 } })), 'none', refused(/^body\/facts has a key that contains U\+0000/)),
    'enroll: a fact of 1e400': post(`${API}/enroll`, jsonText(enrollBody({ facts: { n: RAW_NUMBER('1e400') } })), 'none', refused(/^body\/facts\/n is not a finite number/)),
    'enroll: a fact of 1e20': post(`${API}/enroll`, jsonText(enrollBody({ facts: { n: 1e20 } })), 'none', rangeAt('body/facts/n')),
    'enroll: a lone surrogate in the token': post(`${API}/enroll`, jsonText(enrollBody({ method: 'token', token: `t${LOW}` })), 'none', surrogateAt('body/token')),
    'enroll: NUL in the nonce': post(`${API}/enroll`, jsonText(enrollBody({ nonce: NUL })), 'none', nulAt('body/nonce')),
    'enroll: truncated JSON': post(`${API}/enroll`, '{"method":"queue","hostname":"', 'none', { status: 400, code: 'INVALID_JSON' }),
    'enroll: an unknown method': post(`${API}/enroll`, jsonText(enrollBody({ method: 'magic' })), 'none', { status: 400, code: 'VALIDATION_FAILED', message: /method/ }),
    'enroll: a host name of 1e400 instead of text': post(`${API}/enroll`, jsonText(enrollBody({ hostname: RAW_NUMBER('1e400') })), 'none', refused(/^body\/hostname is not a finite number/)),
    'enroll nonce: a body with NUL': post(`${API}/enroll/nonce`, jsonText({ x: NUL }), 'none', nulAt('body/x')),
    'enroll status: NUL as the request id': get(`${API}/enroll/requests/%00`, 'none', { ...nulAt('params/request_id'), headers: { 'x-pswm-nonce': 'n', 'x-pswm-signature': 's' } }),
    'enroll status: a lone surrogate as the request id': get(`${API}/enroll/requests/%ED%A0%80`, 'none', badUrl),
    // Token exchange.
    'token: NUL in agent_id': post(`${API}/agent/token`, jsonText({ agent_id: `a${NUL}`, assertion: 'x.y' }), 'none', nulAt('body/agent_id')),
    'token: a lone surrogate in agent_id': post(`${API}/agent/token`, jsonText({ agent_id: LOW, assertion: 'x.y' }), 'none', surrogateAt('body/agent_id')),
    'token: NUL in the assertion': post(`${API}/agent/token`, jsonText({ agent_id: UUID, assertion: `x${NUL}` }), 'none', nulAt('body/assertion')),
    'token: a body nested 20,000 deep': post(`${API}/agent/token`, withDeep({ agent_id: DEEP, assertion: 'x' }), 'none', tooDeep),
    'token: a megabyte of "[", refused before it is parsed': post(`${API}/agent/token`, '['.repeat(1_000_000), 'none', tooDeep),
    'token: agent_id 1e400': post(`${API}/agent/token`, jsonText({ agent_id: RAW_NUMBER('1e400'), assertion: 'x' }), 'none', refused(/not a finite number/)),
    // The agent's own routes.
    'agent whoami: NUL in the query': get(`${API}/agent/whoami?x=%00`, 'agent', nulAt('querystring/x')),
    'desired state: NUL in the query': get(`${API}/agent/desired-state?x=%00`, 'agent', nulAt('querystring/x')),
    'agent socket: NUL in the query': get(`${API}/agent/ws?x=%00`, 'agent', nulAt('querystring/x')),
    'report: NUL in a fact': post(`${API}/agent/reports`, jsonText(report({ facts: { os: `a${NUL}b` } })), 'agent', nulAt('body/facts/os')),
    'report: a fact key with a lone surrogate': post(`${API}/agent/reports`, jsonText(report({ facts: { [HIGH]: 1 } })), 'agent', refused(/^body\/facts has a key that contains an unpaired/)),
    'report: facts nested 20,000 deep': post(`${API}/agent/reports`, withDeep(report({ facts: { deep: DEEP } })), 'agent', tooDeep),
    'report: exit code 1e20': post(`${API}/agent/reports`, jsonText(withRun({ exit_code: 1e20 })), 'agent', rangeAt('body/script_runs/0/exit_code')),
    'report: exit code 2^32': post(`${API}/agent/reports`, jsonText(withRun({ exit_code: 2 ** 32 })), 'agent', refused(/exit_code must be <= 4294967295/)),
    'report: exit code below -2^31': post(`${API}/agent/reports`, jsonText(withRun({ exit_code: -(2 ** 31) - 1 })), 'agent', refused(/exit_code must be >= -2147483648/)),
    'report: a duration of 1e20 ms': post(`${API}/agent/reports`, jsonText(withRun({ duration_ms: 1e20 })), 'agent', rangeAt('body/script_runs/0/duration_ms')),
    'report: a choco exit code of 1e400': post(`${API}/agent/reports`, jsonText(chocoRun({ exit_code: RAW_NUMBER('1e400') })), 'agent', refused(/choco_runs\/0\/exit_code is not a finite number/)),
    'report: NUL in a script name': post(`${API}/agent/reports`, jsonText(withRun({ script: `s${NUL}` })), 'agent', nulAt('body/script_runs/0/script')),
    'report: a lone surrogate in a drift reason': post(`${API}/agent/reports`, jsonText(report({ drift: [{ kind: 'script', name: 'x', status: 'failed', reason: LOW }] })), 'agent', surrogateAt('body/drift/0/reason')),
    'report: started in year 0000': post(`${API}/agent/reports`, jsonText(report({ started_at: '0000-01-01T00:00:00Z' })), 'agent', refused(/started_at must be a RFC 3339 date-time/)),
    'report: finished on a leap second': post(`${API}/agent/reports`, jsonText(report({ finished_at: '2016-12-31T23:59:60Z' })), 'agent', refused(/finished_at must be a RFC 3339 date-time/)),
    'report: NUL in a package version': post(`${API}/agent/reports`, jsonText(report({ choco_packages: [{ name: 'git', version: `1${NUL}`, pinned: false }] })), 'agent', nulAt('body/choco_packages/0/version')),
    'report: 9007199254740993 as a duration': post(`${API}/agent/reports`, jsonText(withRun({ duration_ms: RAW_NUMBER('9007199254740993') })), 'agent', rangeAt('body/script_runs/0/duration_ms')),
    'heartbeat: NUL in the CPU model': post(`${API}/agent/heartbeat`, jsonText(heartbeat({ cpu: { usage_percent: 1, cores: 1, model: NUL } })), 'agent', nulAt('body/metrics/cpu/model')),
    'heartbeat: 1e20 bytes of memory': post(`${API}/agent/heartbeat`, jsonText(heartbeat({ memory: { total_bytes: 1e20, used_bytes: 0 } })), 'agent', rangeAt('body/metrics/memory/total_bytes')),
    'heartbeat: measured in year 0000': post(`${API}/agent/heartbeat`, jsonText({ ...heartbeat({}), at: '0000-01-01T00:00:00Z' }), 'agent', refused(/body\/at must be a RFC 3339 date-time/)),
    'heartbeat: disks nested 20,000 deep': post(`${API}/agent/heartbeat`, withDeep(heartbeat({ disks: DEEP })), 'agent', tooDeep),
    // API tokens.
    'tokens: NUL in a token name': post(`${API}/tokens`, jsonText({ role: 'viewer', name: `n${NUL}` }), 'admin', nulAt('body/name')),
    'tokens: a lone surrogate in a token name': post(`${API}/tokens`, jsonText({ role: 'viewer', name: HIGH }), 'admin', surrogateAt('body/name')),
    'tokens: a body nested 20,000 deep': post(`${API}/tokens`, withDeep({ role: DEEP }), 'admin', tooDeep),
    'tokens: revoke NUL': del(`${API}/tokens/%00`, 'admin', nulAt('params/id')),
    'tokens: NUL in the query': get(`${API}/tokens?x=%00`, 'admin', nulAt('querystring/x')),
    'whoami: NUL in the query': get(`${API}/whoami?x=%00`, 'viewer', nulAt('querystring/x')),
    // Agent administration.
    'agents: create with NUL in the name': post(`${API}/agents`, jsonText({ name: `a${NUL}`, organization: 'contoso', location: 'paris' }), 'admin', nulAt('body/name')),
    'agents: create with a lone surrogate in the organization': post(`${API}/agents`, jsonText({ name: 'a', organization: LOW, location: 'paris' }), 'admin', surrogateAt('body/organization')),
    'agents: revoke NUL': del(`${API}/agents/%00`, 'admin', nulAt('params/name')),
    'otp: 1e20 uses': post(`${API}/otp`, jsonText({ organization: 'contoso', location: 'paris', uses: 1e20 }), 'admin', rangeAt('body/uses')),
    'otp: NUL in the location': post(`${API}/otp`, jsonText({ organization: 'contoso', location: `p${NUL}` }), 'admin', nulAt('body/location')),
    'otp: revoke NUL': del(`${API}/otp/%00`, 'admin', nulAt('params/id')),
    'otp: NUL in the query': get(`${API}/otp?x=%00`, 'admin', nulAt('querystring/x')),
    'queue: NUL as the status filter': get(`${API}/enroll/queue?status=%00`, 'admin', nulAt('querystring/status')),
    'queue: approve NUL': post(`${API}/enroll/queue/%00/approve`, jsonText({ organization: 'contoso', location: 'paris' }), 'admin', nulAt('params/id')),
    'queue: approve with NUL in the organization': post(`${API}/enroll/queue/${UUID}/approve`, jsonText({ organization: NUL, location: 'paris' }), 'admin', nulAt('body/organization')),
    'queue: reject a lone surrogate': post(`${API}/enroll/queue/%ED%B0%80/reject`, '{}', 'admin', badUrl),
    // The fleet read API.
    'agents: NUL in q': get(`${API}/agents?q=%00`, 'viewer', nulAt('querystring/q')),
    'agents: NUL in after': get(`${API}/agents?after=a%00`, 'viewer', nulAt('querystring/after')),
    'agents: limit 1e30': get(`${API}/agents?limit=1e30`, 'viewer', { status: 400, code: 'VALIDATION_FAILED' }),
    'agent: NUL as the name': get(`${API}/agents/%00`, 'viewer', nulAt('params/name')),
    'agent: an undecodable name': get(`${API}/agents/%E0%A4%A`, 'viewer', badUrl),
    'runs: NUL as the name': get(`${API}/agents/%00/runs`, 'viewer', nulAt('params/name')),
    'runs: a cursor in year 0000': get(`${API}/agents/${agent}/runs?before=0000-01-01T00:00:00.000Z~${UUID}`, 'viewer', refused(/before must be the nextBefore/)),
    'runs: NUL in the script filter': get(`${API}/agents/${agent}/runs?script=%00`, 'viewer', nulAt('querystring/script')),
    'facts: NUL as the name': get(`${API}/agents/%00/facts`, 'viewer', nulAt('params/name')),
    'packages: NUL as the name': get(`${API}/agents/%00/packages`, 'viewer', nulAt('params/name')),
    'metrics: limit 1e30': get(`${API}/agents/${agent}/metrics?limit=1e30`, 'viewer', { status: 400, code: 'VALIDATION_FAILED' }),
    'drift: a lone surrogate as the name': get(`${API}/agents/%ED%A0%80/drift`, 'viewer', badUrl),
    // Audit, policy, reconciliation.
    'audit: before=1e30': get(`${API}/audit?before=1e30`, 'viewer', rangeAt('querystring/before')),
    'audit: before=-1e30': get(`${API}/audit?before=-1e30`, 'viewer', { status: 400, code: 'VALIDATION_FAILED' }),
    'audit: since year 0000': get(`${API}/audit?since=0000-01-01T00:00:00Z`, 'viewer', refused(/since must match format "date-time"/)),
    'audit: until a leap second': get(`${API}/audit?until=2016-12-31T23:59:60Z`, 'viewer', refused(/until must match format "date-time"/)),
    'audit: NUL in the actor': get(`${API}/audit?actor=%00`, 'viewer', nulAt('querystring/actor')),
    'reconciliations: before=1e30': get(`${API}/reconciliations?before=1e30`, 'viewer', rangeAt('querystring/before')),
    'reconcile: NUL in the query': post(`${API}/reconcile?wait=%00`, '{}', 'admin', nulAt('querystring/wait')),
    'revision: NUL in the query': get(`${API}/revision?x=%00`, 'viewer', nulAt('querystring/x')),
    'policy listing: offset 1e30': get(`${API}/policy/scripts?offset=1e30`, 'viewer', rangeAt('querystring/offset')),
    'policy document: NUL as the digest': get(`${API}/policy/documents/%00`, 'viewer', nulAt('params/sha256')),
    'signal: NUL in an agent name': post(`${API}/signal`, jsonText({ agents: [NUL] }), 'admin', nulAt('body/agents/0')),
    'signal: a lone surrogate in the reason': post(`${API}/signal`, jsonText({ all: true, reason: HIGH }), 'admin', surrogateAt('body/reason')),
    'signal: a body nested 20,000 deep': post(`${API}/signal`, withDeep({ agents: DEEP }), 'admin', tooDeep),
    // Outside the API prefix and outside any route.
    'health: NUL in the query': get('/health?x=%00', 'none', nulAt('querystring/x')),
    'ready: NUL in the query': get('/ready?x=%00', 'none', nulAt('querystring/x')),
    'metrics: NUL in the query': get('/metrics?x=%00', 'none', nulAt('querystring/x')),
    'no route: an undecodable path': get(`${API}/nothing%E0`, 'none', badUrl),
  };
  return Object.entries(cases).map(([name, c]) => ({ name, ...c }));
}

test('hostile input against every endpoint: 4xx with a message, nothing written, unusual but valid input stored whole', async (t) => {
  const server = await startFullServer(t, ['--rate-limit', '0']);
  const agent = await enrolAgent(server.url, server.adminToken, 'ws-fuzz', { organization: 'contoso', location: 'paris' });
  const tokens: Record<Credential, string | undefined> = { admin: server.adminToken, viewer: server.viewerToken, agent: agent.accessToken, none: undefined };
  const send = (request: Request): Promise<RawAnswer> => server.send(request.method, request.path, {
    body: request.body,
    headers: {
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(tokens[request.credential] ? { authorization: `Bearer ${tokens[request.credential]}` } : {}),
      ...request.headers,
    },
  });
  const rowCounts = await rowCounter(server.sql);
  const isEnroll = (request: Request) => request.method === 'POST' && request.path === `${API}/enroll`;

  await t.test('a table of malformed requests over every endpoint', async () => {
    const cases = malformedCases(agent.name);
    assert.ok(cases.length >= 60, `${cases.length} cases`);
    for (const c of cases) {
      const before = await rowCounts();
      const answer = await send(c);
      const what = `${c.name}: ${answer.status} ${answer.text.slice(0, 300)}`;
      if (c.status) assert.equal(answer.status, c.status, what);
      else assert.ok(answer.status >= 400 && answer.status < 500, what);
      if (c.code) assert.equal(answer.body?.error?.code, c.code, what);
      assert.ok(answer.body?.error?.message?.length > 10, `${what}: a message says why`);
      if (c.message) assert.match(answer.body.error.message, c.message, what);
      const after = await rowCounts();
      // A refused enrollment is still an enrollment attempt: it is audited, and writes nothing else.
      const expected = isEnroll(c) ? { ...before, audit_log: before.audit_log + 1 } : before;
      assert.deepEqual(after, expected, `${c.name} wrote nothing${isEnroll(c) ? ' but its audit row' : ''}`);
    }
    const refusals = await server.sql<{ outcome: string; details: { code: string; hostname: string | null } }[]>`
      select outcome, details from audit_log where action = 'agent.enroll' and actor like 'enrollment:ws-new%' order by id`;
    assert.ok(refusals.length >= 8 && refusals.every((row) => row.outcome === 'failure'), 'every refused enrollment is audited as a failure');
    assert.equal(refusals[0].details.hostname, 'ws\uFFFD', 'what was refused is audited in a form PostgreSQL keeps');
  });

  await t.test(`a seeded fuzz of ${FUZZ_REQUESTS} requests that each break a rule: all 4xx, nothing written`, async (t) => {
    const [cpuStart, wallStart] = [process.cpuUsage(), Date.now()];
    const seed = Number(process.env.PSWM_FUZZ_SEED ?? 1405);
    const random = seeded(seed);
    const requests = Array.from({ length: FUZZ_REQUESTS }, () => fuzzRequest(random, agent.name));
    const before = await rowCounts();
    const answers = await inParallel(requests, FUZZ_CONCURRENCY, send);
    const cpu = process.cpuUsage(cpuStart);
    t.diagnostic(`${FUZZ_REQUESTS} requests in ${Date.now() - wallStart} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU (server and client)`);
    const failures = answers
      .map((answer, index) => ({ answer, request: requests[index] }))
      .filter(({ answer }) => answer.status < 400 || answer.status >= 500 || !answer.body?.error?.message);
    assert.deepEqual(
      failures.slice(0, 5).map(({ answer, request }) => `${request.method} ${request.path} ${(request.body ?? '').slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 200)}`),
      [], `seed ${seed}: ${failures.length} requests were not a 4xx with a message (PSWM_FUZZ_SEED reproduces)`,
    );
    const enrollments = requests.filter(isEnroll).length;
    assert.deepEqual(await rowCounts(), { ...before, audit_log: before.audit_log + enrollments }, `seed ${seed}: only the refused enrollments' audit rows were written`);
    assert.equal((await send({ method: 'GET', path: `${API}/agents/${agent.name}`, credential: 'viewer' })).status, 200, 'the server still serves');
  });

  await t.test('a Windows crash exit code and NUL in captured output are stored whole', async () => {
    const crash = scriptRun({ exit_code: 0xC0000005, stdout: `before${NUL}after`, stderr: `x${HIGH}` });
    const signed = scriptRun({ exit_code: -1073741819, started_at: '2025-03-01T10:00:03.000Z' });
    const choco = { ...(sampleReport().choco_runs as object[])[0], exit_code: 4294967295 };
    const answer = await send({ method: 'POST', path: `${API}/agent/reports`, credential: 'agent', body: jsonText(sampleReport({ script_runs: [crash, signed], choco_runs: [choco] })) });
    assert.equal(answer.status, 201, answer.text);
    const runs = (await send({ method: 'GET', path: `${API}/agents/${agent.name}/runs`, credential: 'viewer' })).body.runs as Array<{ id: string; exitCode: number; stdout?: string; stderr?: string }>;
    const byId = new Map(runs.map((run) => [run.id, run]));
    assert.equal(byId.get(crash.id as string)?.exitCode, 3221225477);
    assert.equal(byId.get(crash.id as string)?.stdout, 'before\uFFFDafter');
    assert.equal(byId.get(crash.id as string)?.stderr, 'x\uFFFD');
    assert.equal(byId.get(signed.id as string)?.exitCode, -1073741819);
    assert.ok(runs.some((run) => run.exitCode === 4294967295), 'the largest unsigned 32-bit code');
    const facts = sampleReport({ facts: { deep: JSON.parse(deepText(MAX_DEPTH - 2)) } });
    assert.equal((await send({ method: 'POST', path: `${API}/agent/reports`, credential: 'agent', body: jsonText(facts) })).status, 201, `facts nested ${MAX_DEPTH} levels in all are accepted`);
  });

  await t.test('100 inventory reports of one agent at once are all stored, and the newest inventory wins', async () => {
    const reports = Array.from({ length: 100 }, (_, i) => {
      const finished = new Date(Date.UTC(2025, 3, 1, 10, 0, i)).toISOString();
      return sampleReport({ script_runs: [], choco_runs: [], drift: [], started_at: finished, finished_at: finished, choco_packages: [{ name: 'git', version: `2.${i}.0`, pinned: false }, { name: `pkg-${i}`, version: '1.0', pinned: false }] });
    });
    const answers = await Promise.all(reports.map((body) => send({ method: 'POST', path: `${API}/agent/reports`, credential: 'agent', body: jsonText(body) })));
    assert.deepEqual(answers.filter((answer) => answer.status !== 201).map((answer) => `${answer.status} ${answer.text}`), []);
    const packages = (await send({ method: 'GET', path: `${API}/agents/${agent.name}/packages`, credential: 'viewer' })).body.packages;
    assert.deepEqual(packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`), ['git 2.99.0', 'pkg-99 1.0']);
  });
});

const FUZZ_REQUESTS = 5_000;
const FUZZ_CONCURRENCY = 16;

/** Row counts of every table, in one statement. */
async function rowCounter(sql: import('postgres').Sql): Promise<() => Promise<Record<string, number>>> {
  const tables = (await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`).map((row) => row.name);
  const text = `select ${tables.map((table) => `(select count(*)::int from "${table}") as "${table}"`).join(', ')}`;
  return async () => ({ ...(await sql.unsafe(text))[0] }) as Record<string, number>;
}

async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  }));
  return results;
}

// --- the fuzz -------------------------------------------------------------------------------------

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

interface Template {
  method: string;
  /** With :param placeholders. */
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: () => unknown;
  credential: Credential;
}

function templates(agent: string): Template[] {
  const placement = { organization: 'contoso', location: 'paris' };
  return [
    { method: 'POST', path: `${API}/enroll`, body: () => enrollBody({ facts: { os: { name: 'Windows', build: 26100 }, tags: ['a', 'b'] } }), credential: 'none' },
    { method: 'POST', path: `${API}/enroll/nonce`, body: () => ({ hint: 'x' }), credential: 'none' },
    { method: 'GET', path: `${API}/enroll/requests/:id`, params: { id: UUID }, credential: 'none' },
    { method: 'POST', path: `${API}/agent/token`, body: () => ({ agent_id: UUID, assertion: 'a.b' }), credential: 'none' },
    { method: 'GET', path: `${API}/agent/whoami`, query: { x: '1' }, credential: 'agent' },
    { method: 'GET', path: `${API}/agent/desired-state`, query: { x: '1' }, credential: 'agent' },
    { method: 'POST', path: `${API}/agent/reports`, body: () => sampleReport(), credential: 'agent' },
    { method: 'POST', path: `${API}/agent/heartbeat`, body: () => sampleHeartbeat('2025-03-01T10:00:00Z'), credential: 'agent' },
    { method: 'POST', path: `${API}/tokens`, body: () => ({ role: 'viewer', name: 'fuzz' }), credential: 'admin' },
    { method: 'DELETE', path: `${API}/tokens/:id`, params: { id: UUID }, credential: 'admin' },
    { method: 'POST', path: `${API}/agents`, body: () => ({ name: 'fuzz-agent', ...placement }), credential: 'admin' },
    { method: 'DELETE', path: `${API}/agents/:name`, params: { name: 'nobody' }, credential: 'admin' },
    { method: 'POST', path: `${API}/otp`, body: () => ({ ...placement, uses: 5, expires_in: '24h' }), credential: 'admin' },
    { method: 'DELETE', path: `${API}/otp/:id`, params: { id: UUID }, credential: 'admin' },
    { method: 'GET', path: `${API}/enroll/queue`, query: { status: 'pending' }, credential: 'admin' },
    { method: 'POST', path: `${API}/enroll/queue/:id/approve`, params: { id: UUID }, body: () => placement, credential: 'admin' },
    { method: 'POST', path: `${API}/enroll/queue/:id/reject`, params: { id: UUID }, body: () => ({}), credential: 'admin' },
    { method: 'GET', path: `${API}/agents`, query: { q: 'ws', limit: '10', after: 'a' }, credential: 'viewer' },
    { method: 'GET', path: `${API}/agents/:name`, params: { name: agent }, credential: 'viewer' },
    { method: 'GET', path: `${API}/agents/:name/runs`, params: { name: agent }, query: { limit: '5', before: `2025-03-01T10:00:00.000Z~${UUID}` }, credential: 'viewer' },
    { method: 'GET', path: `${API}/agents/:name/facts`, params: { name: agent }, credential: 'viewer' },
    { method: 'GET', path: `${API}/agents/:name/metrics`, params: { name: agent }, query: { limit: '5' }, credential: 'viewer' },
    { method: 'GET', path: `${API}/audit`, query: { since: '2025-01-01T00:00:00Z', before: '100', actor: 'x' }, credential: 'viewer' },
    { method: 'GET', path: `${API}/reconciliations`, query: { before: '10', limit: '5' }, credential: 'viewer' },
    { method: 'GET', path: `${API}/policy/scripts`, query: { offset: '0', limit: '5' }, credential: 'viewer' },
    { method: 'GET', path: `${API}/policy/documents/:sha256`, params: { sha256: 'a'.repeat(64) }, credential: 'viewer' },
    { method: 'POST', path: `${API}/signal`, body: () => ({ agents: ['nobody'], reason: 'fuzz' }), credential: 'admin' },
    { method: 'GET', path: `${API}/revision`, query: { x: '1' }, credential: 'viewer' },
  ];
}

/** Values that break a rule, as JSON placeholders (RAW_NUMBER, DEEP) or strings. */
const BAD_NUMBERS = ['1e20', '-1e300', '1e400', '-1e400', '9007199254740993', '18446744073709551616'];
const badText = (random: Random, around: string): string => {
  const bad = pick(random, [NUL, HIGH, LOW, `${LOW}${HIGH}`]);
  const at = Math.floor(random() * (around.length + 1));
  return around.slice(0, at) + bad + around.slice(at);
};
const BAD_QUERY = ['%00', 'a%00b', '1e30', '-1e30', '1e400', '0000-01-01T00:00:00Z', '2016-12-31T23:59:60Z'];
const READ_AS_NUMBER_OR_DATE = ['limit', 'before', 'offset', 'since'];
/** Captured output is repaired rather than refused, so bad text there breaks no rule. */
const REPAIRED_KEYS = ['stdout', 'stderr', 'output'];

function fuzzRequest(random: Random, agent: string): Request {
  const template = pick(random, templates(agent));
  const params = { ...template.params };
  const query = { ...template.query };
  let body = template.body?.();
  // Noise first (it may make the request wrong in other ways), then one change that breaks a rule,
  // so every request must be refused whatever the noise did.
  if (body !== undefined && random() < 0.5) body = noise(random, body);
  const targets = [
    ...(body !== undefined ? ['body'] : []),
    ...(Object.keys(params).length ? ['params'] : []),
    ...(Object.keys(query).length || body === undefined ? ['query'] : []),
  ];
  const target = pick(random, targets);
  let deep = 0;
  if (target === 'body') {
    const mutated = breakRule(random, body);
    body = mutated.value;
    deep = mutated.deep;
  } else if (target === 'params') {
    const key = pick(random, Object.keys(params));
    params[key] = pick(random, ['%00', `${params[key]}%00`, '%ED%A0%80', `%E0%A4%A`]);
  } else {
    const key = Object.keys(query).length && random() < 0.7 ? pick(random, Object.keys(query)) : 'x';
    // Out of range or not storable breaks a rule only where the route reads the value as a number or date.
    query[key] = pick(random, READ_AS_NUMBER_OR_DATE.includes(key) ? BAD_QUERY : ['%00', 'a%00b']);
  }
  const path = template.path.replace(/:(\w+)/g, (_, name: string) => params[name]);
  const search = Object.entries(query).map(([key, value]) => `${key}=${value}`).join('&');
  let text = body === undefined ? undefined : jsonText(body);
  if (text !== undefined && deep) text = text.replace(`"${DEEP}"`, deepText(deep));
  if (text !== undefined && random() < 0.05) text = text.slice(0, Math.floor(random() * text.length)); // truncated JSON
  return { method: template.method, path: search ? `${path}?${search}` : path, credential: template.credential, body: text };
}

/** A copy of `value` with one leaf, key or item replaced so that it breaks a rule. */
function breakRule(random: Random, value: unknown): { value: unknown; deep: number } {
  const copy = structuredClone(value);
  const containers = containersOf(copy);
  const container = pick(random, containers);
  const keys = Object.keys(container);
  // An array gets an item (a named property of an array is not sent); an object a new or existing key.
  const fresh = Array.isArray(container) ? String(container.length) : `k${Math.floor(random() * 100)}`;
  const key = keys.length && random() < 0.8 ? pick(random, keys) : fresh;
  const current = (container as Record<string, unknown>)[key];
  const kind = REPAIRED_KEYS.includes(key) ? 0.5 + random() / 2 : random();
  let deep = 0;
  let replacement: unknown;
  if (kind < 0.45) replacement = badText(random, typeof current === 'string' ? current : 'text');
  else if (kind < 0.7) replacement = RAW_NUMBER(pick(random, BAD_NUMBERS));
  else if (kind < 0.85) {
    replacement = DEEP;
    deep = MAX_DEPTH + 1 + Math.floor(random() * 20_000);
  } else {
    if (Array.isArray(container)) container.push({ [badText(random, 'key')]: 1 });
    else (container as Record<string, unknown>)[badText(random, 'key')] = 'v';
    return { value: copy, deep };
  }
  (container as Record<string, unknown>)[key] = replacement;
  return { value: copy, deep };
}

/** Changes that make a request wrong in ordinary ways: a dropped key, a wrong type, an unknown key. */
function noise(random: Random, value: unknown): unknown {
  const copy = structuredClone(value);
  const container = pick(random, containersOf(copy)) as Record<string, unknown> | unknown[];
  const keys = Object.keys(container);
  const kind = random();
  if (kind < 0.3 && keys.length) delete (container as Record<string, unknown>)[pick(random, keys)];
  else if (kind < 0.7 && keys.length) (container as Record<string, unknown>)[pick(random, keys)] = pick(random, [null, true, 0, -1, 1.5, '', 'x'.repeat(300), [], {}]);
  else if (Array.isArray(container)) container.push(1);
  else container[`unknown_${Math.floor(random() * 10)}`] = 1;
  return copy;
}

/** Every object and array in `value` (the root included), depth first. */
function containersOf(value: unknown): Array<Record<string, unknown> | unknown[]> {
  const found: Array<Record<string, unknown> | unknown[]> = [];
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    found.push(node as Record<string, unknown>);
    for (const child of Object.values(node)) visit(child);
  };
  visit(value);
  return found;
}
