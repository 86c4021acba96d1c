// Local consent for a console session. Linux and macOS: the consent command (PSWM_CONSOLE_CONSENT_COMMAND,
// run through the shell) decides: exit status 0 allows, anything else denies, and no answer within
// the policy's timeout means the policy's default answer. It learns who asks and why from
// PSWM_CONSOLE_ACTOR, PSWM_CONSOLE_REASON and PSWM_CONSOLE_SESSION. Windows: asking the logged-on
// user needs the interactive-session (tray) component, which does not exist yet, so consent there is
// unavailable and the session is refused.
import { spawn } from 'node:child_process';
import type { ConsoleConsentAnswer } from '@pswm/schemas/console-wire';
import { killSession } from './kill-session.ts';

export const CONSENT_COMMAND_ENV = 'PSWM_CONSOLE_CONSENT_COMMAND';

export type ConsentOutcome = { answer: ConsoleConsentAnswer } | { unavailable: string };

export async function askConsent(opts: {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  timeoutMs: number;
  request: { actor: string; reason: string; session: string };
}): Promise<ConsentOutcome> {
  if (opts.platform === 'win32') return { unavailable: 'consent on Windows needs a prompt in the logged-on user\'s session, which this agent does not have yet' };
  const command = opts.env[CONSENT_COMMAND_ENV];
  if (!command) return { unavailable: `remote_console.require_consent is true and this agent has no consent command (${CONSENT_COMMAND_ENV})` };
  return new Promise((resolve) => {
    const child = spawn(command, {
      shell: true,
      detached: true,
      stdio: 'ignore',
      env: { ...opts.env, PSWM_CONSOLE_ACTOR: opts.request.actor, PSWM_CONSOLE_REASON: opts.request.reason, PSWM_CONSOLE_SESSION: opts.request.session },
    });
    const timer = setTimeout(() => {
      resolve({ answer: 'timed-out' });
      if (child.pid) void killSession(child.pid);
    }, opts.timeoutMs);
    child.once('error', () => (clearTimeout(timer), resolve({ answer: 'denied' })));
    child.once('exit', (code) => (clearTimeout(timer), resolve({ answer: code === 0 ? 'allowed' : 'denied' })));
  });
}
