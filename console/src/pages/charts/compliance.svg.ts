import type { APIRoute } from 'astro';
import { apiGet } from '../../lib/api.ts';
import { complianceSvg, svgResponse } from '../../lib/svg.ts';

export const GET: APIRoute = async (context) => {
  const { days } = await apiGet<{ days: Array<{ day: string; agents: number; compliant: number }> }>(context, '/api/v1/fleet/compliance?days=14');
  return svgResponse(complianceSvg(days));
};
