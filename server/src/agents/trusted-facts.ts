// Trusted facts: what the server itself knows about an agent, under the reserved `trusted` fact key,
// for target selectors that must not depend on what the agent says about itself (docs/security.md
// "Facts and trust"). An agent cannot set them: reported and enrollment facts under `trusted` are
// dropped, and the server's values are put in their place when the compiler reads the fleet.
import type postgres from 'postgres';

export const TRUSTED_FACT_KEY = 'trusted';

export function isTrustedFactKey(key: string): boolean {
  return key === TRUSTED_FACT_KEY || key.startsWith(`${TRUSTED_FACT_KEY}.`);
}

/** The agent's facts without any key it is not allowed to set. Pure. */
export function withoutTrustedFacts<T>(entries: Array<[string, T]>): Array<[string, T]> {
  return entries.filter(([key]) => !isTrustedFactKey(key));
}

export interface TrustedFacts {
  name: string;
  organization: string;
  location: string;
  /** token, otp or queue; absent when the server cannot tell. */
  enrollment_method?: string;
  enrolled_at?: string;
}

/** SQL for an agents row `a`: how it enrolled, from the credential it used. */
export function enrollmentMethodSql(sql: postgres.Sql | postgres.TransactionSql) {
  return sql`case
    when exists (select 1 from enrollment_tokens t where t.agent_id = a.id and t.used_at is not null) then 'token'
    when exists (select 1 from enrollment_requests r where r.agent_id = a.id and r.status = 'approved') then 'queue'
    when a.enrolled_at is not null then 'otp'
  end`;
}

export function trustedFacts(row: { name: string; organization: string; location: string; enrollment_method: string | null; enrolled_at: Date | null }): TrustedFacts {
  return {
    name: row.name,
    organization: row.organization,
    location: row.location,
    ...(row.enrollment_method ? { enrollment_method: row.enrollment_method } : {}),
    ...(row.enrolled_at ? { enrolled_at: row.enrolled_at.toISOString() } : {}),
  };
}
