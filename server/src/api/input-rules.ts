// The central input rule of the API: every route's body, path parameters and query string keep the
// limits of @pswm/schemas/input-rules (no U+0000 or unpaired surrogates, nesting ≤ 64 levels, finite
// numbers within the safe integers) or the request is a 400 naming the first offending value. JSON
// nesting is judged on the text, before parsing (JSON.parse spends seconds on a megabyte of "[");
// the rest before schema validation and again after it, because ajv turns "?before=1e30" into the
// number 1e30 only while validating.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findInputProblem, INPUT_REASONS, jsonTextTooDeep, sanitizeInput } from '@pswm/schemas/input-rules';
import type { InputProblem } from '@pswm/schemas/input-rules';
import { apiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Body strings kept whatever they hold (captured process output), as JSON Pointers: U+0000 and
     * unpaired surrogates there become U+FFFD instead of a 400.
     */
    repairTextAt?: RegExp;
  }
}

async function inputRulesPlugin(app: FastifyInstance): Promise<void> {
  const parseJson = app.getDefaultJsonParser('error', 'error'); // fastify's own, proto poisoning refused
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (jsonTextTooDeep(text as string)) done(refusal('body', { path: '', reason: INPUT_REASONS.depth }), undefined);
    else parseJson(request, text as string, done);
  });
  app.addHook('preValidation', async (request) => {
    refuseProblem('params', request.params);
    refuseProblem('querystring', request.query);
    request.body = checkedBody(request);
  });
  app.addHook('preHandler', async (request) => {
    refuseProblem('params', request.params);
    refuseProblem('querystring', request.query);
  });
}

function refuseProblem(part: string, value: unknown): void {
  const problem = findInputProblem(value);
  if (problem) throw refusal(part, problem);
}

/** The body, with text at the route's repairTextAt paths repaired; a 400 for anything else. */
function checkedBody(request: FastifyRequest): unknown {
  const { body } = request;
  // A raw body (the git webhook keeps the bytes its signature covers) is the route's to read.
  if (Buffer.isBuffer(body)) return body;
  const problem = findInputProblem(body);
  if (!problem) return body;
  const repairAt = request.routeOptions.config.repairTextAt;
  if (!repairAt || problem.reason === INPUT_REASONS.depth) throw refusal('body', problem);
  const cleaned = sanitizeInput(body, { repairAt: (path) => repairAt.test(path) });
  const refused = cleaned.dropped.find((dropped) => !dropped.repaired);
  if (refused) throw refusal('body', refused);
  return cleaned.value;
}

function refusal(part: string, problem: InputProblem): Error {
  return apiError('VALIDATION_FAILED', `${part}${problem.path} ${problem.reason}.`);
}

export const inputRules = fp(inputRulesPlugin, { name: 'pswm-input-rules' });
