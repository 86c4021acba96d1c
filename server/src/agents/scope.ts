// Where an agent may be placed: its name and organization/location follow the policy's own naming
// rules (one source: the schemas package), and once a policy is applied the organization and location
// must exist in it, so an admin's typo fails loudly instead of parking agents where no policy applies.
import common from '@pswm/schemas/json/common.schema.json' with { type: 'json' };
import type { Queryable } from '../db/database.ts';
import { apiError } from '../api/errors.ts';

export const AGENT_NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: 253, pattern: common.$defs.agentName.pattern } as const;
export const POLICY_NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: 63, pattern: common.$defs.name.pattern } as const;

const POLICY_NAME = new RegExp(common.$defs.name.pattern);

export interface Placement {
  organization: string;
  location: string;
}

/** Throws UNKNOWN_LOCATION unless the placement names an organization and location of the applied policy. */
export async function checkPlacement(sql: Queryable, placement: Placement): Promise<void> {
  const { organization, location } = placement;
  if (!POLICY_NAME.test(organization) || !POLICY_NAME.test(location)) {
    throw apiError('UNKNOWN_LOCATION', `"${organization}/${location}" is not a valid organization/location (lowercase names of policy documents).`);
  }
  const [found] = await sql<{ applied: boolean; organization: boolean; location: boolean }[]>`
    select exists (select 1 from policy_objects where kind = 'Organization') as applied,
           exists (select 1 from policy_objects where kind = 'Organization' and id = ${organization}) as organization,
           exists (select 1 from policy_objects where kind = 'Location' and id = ${`${organization}/${location}`}) as location`;
  // Before the first reconcile there is nothing to check against; agents may be prepared in advance.
  if (!found.applied) return;
  if (!found.organization) throw apiError('UNKNOWN_LOCATION', `The applied policy has no organization "${organization}".`);
  if (!found.location) throw apiError('UNKNOWN_LOCATION', `The applied policy has no location "${location}" in organization "${organization}".`);
}
