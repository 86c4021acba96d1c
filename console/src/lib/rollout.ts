/** GET /api/v1/fleet/rollout's answer. */
export interface Rollout { revision: string | null; since: string | null; affected: number; applied: number; progress: Array<{ at: string; applied: number }> }
