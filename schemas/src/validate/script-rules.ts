// Rules inside one Script or ExternalFact that a JSON Schema states poorly: run mode parameters,
// the cron schedule, and shells on platforms that cannot run them.
import { parseCron } from '../cron.ts';
import { policyError } from '../errors.ts';
import type { Platform, PolicyDocument, PolicyError, Shell } from '../model.ts';
import { nameOf } from './checks.ts';
import type { CheckContext } from './checks.ts';

/** Shells that exist on Windows only. */
const WINDOWS_ONLY_SHELLS: readonly Shell[] = ['cmd', 'powershell'];

export function checkScriptRules({ documents }: CheckContext): PolicyError[] {
  const errors: PolicyError[] = [];
  for (const document of documents) {
    if (document.kind === 'Script') errors.push(...checkRunMode(document as PolicyDocument<'Script'>));
    if (document.kind === 'Script' || document.kind === 'ExternalFact') errors.push(...checkShellPlatforms(document as PolicyDocument<'Script' | 'ExternalFact'>));
  }
  return errors;
}

function checkRunMode(script: PolicyDocument<'Script'>): PolicyError[] {
  const { run = 'every_iteration', interval_hours: intervalHours, schedule } = script.spec;
  const at = (key: string) => script.positionOf(['spec', key]);
  const errors: PolicyError[] = [];
  if (run === 'interval' && intervalHours === undefined) {
    errors.push(policyError('RUN_MODE', `${nameOf(script)} has run: interval but no interval_hours; say how many hours apart it runs`, at('run')));
  }
  if (run !== 'interval' && intervalHours !== undefined) {
    errors.push(policyError('RUN_MODE', `${nameOf(script)} sets interval_hours but runs ${run}; interval_hours needs run: interval`, at('interval_hours')));
  }
  if (run === 'schedule' && schedule === undefined) {
    errors.push(policyError('RUN_MODE', `${nameOf(script)} has run: schedule but no schedule; give a cron expression such as "0 18 * * *"`, at('run')));
  }
  if (run !== 'schedule' && schedule !== undefined) {
    errors.push(policyError('RUN_MODE', `${nameOf(script)} sets schedule but runs ${run}; schedule needs run: schedule`, at('schedule')));
  }
  if (run !== 'schedule' && script.spec.catch_up_minutes !== undefined) {
    errors.push(policyError('RUN_MODE', `${nameOf(script)} sets catch_up_minutes but runs ${run}; catch_up_minutes needs run: schedule`, at('catch_up_minutes')));
  }
  if (schedule !== undefined) {
    const parsed = parseCron(schedule);
    if (!parsed.ok) errors.push(policyError('BAD_CRON', `${nameOf(script)} schedule "${schedule}" is not valid cron: ${parsed.message}`, at('schedule')));
  }
  return errors;
}

function checkShellPlatforms(document: PolicyDocument<'Script' | 'ExternalFact'>): PolicyError[] {
  const spec = document.spec as PolicyDocument<'Script'>['spec'];
  const platforms = spec.platforms;
  if (!platforms) return [];
  const errors: PolicyError[] = [];
  const shells: Array<{ shell: Shell; what: string }> = [{ shell: spec.shell, what: 'shell' }];
  if (spec.check?.shell) shells.push({ shell: spec.check.shell, what: 'check shell' });
  for (const { shell, what } of shells) {
    if (!WINDOWS_ONLY_SHELLS.includes(shell)) continue;
    platforms.forEach((platform: Platform, i: number) => {
      if (platform === 'windows') return;
      const message = `${nameOf(document)} uses ${what} ${shell}, which runs on windows only, but lists platform ${platform}; use pwsh, sh or bash, or remove ${platform}`;
      errors.push(policyError('SHELL_PLATFORM', message, document.positionOf(['spec', 'platforms', i])));
    });
  }
  return errors;
}
