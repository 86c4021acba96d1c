// Whether a console may open on an agent, and for how long: the agent's effective remote_console
// settings (from the applied policy) under the server's own ceilings. Pure.
import type { ConsoleRefusal } from '@pswm/schemas/console-wire';
import type { SettingsBlock } from '../../../schemas/src/model.ts';

export type ConsoleSettings = Required<NonNullable<SettingsBlock['remote_console']>>;

/** The schema's defaults: what an agent without a document (or a key) lives by. */
export const CONSOLE_DEFAULTS: ConsoleSettings = {
  enabled: false, require_consent: true, idle_timeout_minutes: 15, max_duration_minutes: 120, consent_timeout_seconds: 60, consent_default: 'deny',
};

export interface ServerConsoleLimits {
  /** The longest idle time and duration this server allows, whatever the policy says. */
  maxIdleSeconds: number;
  maxDurationSeconds: number;
}

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
  requireConsent: boolean;
  /** How long the agent may wait for consent (the server waits that long, and a margin, for its answer). */
  consentTimeoutMs: number;
}

export function decideConsole(
  settings: Partial<ConsoleSettings> | undefined,
  server: ServerConsoleLimits,
): { ok: true; limits: SessionLimits } | { ok: false; refusal: ConsoleRefusal; message: string } {
  const effective = { ...CONSOLE_DEFAULTS, ...settings };
  if (!effective.enabled) {
    return { ok: false, refusal: 'disabled', message: 'remote_console.enabled is false in this agent\'s effective policy' };
  }
  return {
    ok: true,
    limits: {
      idleMs: Math.min(effective.idle_timeout_minutes * 60, server.maxIdleSeconds) * 1000,
      maxMs: Math.min(effective.max_duration_minutes * 60, server.maxDurationSeconds) * 1000,
      requireConsent: effective.require_consent,
      consentTimeoutMs: effective.consent_timeout_seconds * 1000,
    },
  };
}
