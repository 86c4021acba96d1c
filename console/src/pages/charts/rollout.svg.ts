import type { APIRoute } from 'astro';
import { apiGet, query } from '../../lib/api.ts';
import type { Rollout } from '../../lib/rollout.ts';
import { rolloutSvg, svgResponse } from '../../lib/svg.ts';

export const GET: APIRoute = async (context) => {
  const revision = context.url.searchParams.get('revision');
  const rollout = await apiGet<Rollout>(context, `/api/v1/fleet/rollout${query({ revision: revision && /^[0-9a-f]{7,64}$/.test(revision) ? revision : undefined })}`);
  return svgResponse(rolloutSvg(rollout));
};
