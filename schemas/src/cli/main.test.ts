// The CLI as users and CI run it, on the real files: a few cases as a real child process (exit
// statuses 0, 1 and 2 through process.exitCode, paths relative to the working directory), the rest
// through the same entry function in this process, where a case costs no process start (~0.6 s CPU
// each for loading the modules and compiling the schemas).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pswmPolicy } from './policy-tool.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const TEMPLATE = new URL('../../../policy-repo-template/', import.meta.url).pathname;
const PLAN_FIXTURES = new URL('../plan/testdata/', import.meta.url).pathname;

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], cwd = process.cwd()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `pswm-policy <args>` in this process: what it prints and the exit status it returns. */
async function callCli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await pswmPolicy(args, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { status, stdout, stderr };
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ci Bot',
  GIT_AUTHOR_EMAIL: 'ci@example.test',
  GIT_COMMITTER_NAME: 'Ci Bot',
  GIT_COMMITTER_EMAIL: 'ci@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
};
let tmp = '';

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pswm-cli-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copyTemplate(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(TEMPLATE, dir, { recursive: true });
  return dir;
}

/** A git repository whose first commit is the template, and a git runner in it. */
function templateRepo(name: string) {
  const repo = copyTemplate(name);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: gitEnv, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'import the template');
  return { repo, git };
}

test('validate exits 0 on the template and says how much it checked', async () => {
  const result = await runCli(['validate', TEMPLATE]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Valid: \d+ documents in \d+ files\.\n$/);
});

test('validate exits 1 and prints every error as file:line:col: message [CODE] with a summary', async () => {
  const dir = copyTemplate('broken');
  fs.appendFileSync(path.join(dir, 'organizations/contoso/paris.yaml'), '    colour: blue\n');
  fs.rmSync(path.join(dir, 'scripts/windows/temp-cleanup.ps1'));
  const result = await runCli(['validate', 'broken'], tmp);
  assert.equal(result.status, 1);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), '2 errors in 2 files');
  assert.match(lines[0], /^broken\/organizations\/contoso\/paris\.yaml:\d+:\d+: .+ \[SCHEMA_UNKNOWN_PROPERTY\]$/);
  assert.match(lines[1], /^broken\/scripts\/windows\/temp-cleanup\.yaml:\d+:\d+: .+ \[FILE_NOT_FOUND\]$/);
});

test('validate --json reports valid, errors and warnings with repository-relative files', async () => {
  const valid = await callCli(['validate', '--json', TEMPLATE]);
  assert.equal(valid.status, 0);
  assert.deepEqual(JSON.parse(valid.stdout), { valid: true, errors: [], warnings: [] });

  const broken = await callCli(['validate', path.join(tmp, 'broken'), '--json']);
  assert.equal(broken.status, 1);
  const report = JSON.parse(broken.stdout);
  assert.equal(report.valid, false);
  assert.deepEqual(report.errors.map((e: { code: string; file: string }) => [e.code, e.file]), [
    ['SCHEMA_UNKNOWN_PROPERTY', 'organizations/contoso/paris.yaml'],
    ['FILE_NOT_FOUND', 'scripts/windows/temp-cleanup.yaml'],
  ]);
  for (const error of report.errors) assert.ok(error.line > 0 && error.col > 0 && error.message);
});

test('usage mistakes exit 2 with a message naming the problem', async () => {
  for (const [args, message] of [
    [['validate', '--jsn'], /Unknown option '--jsn'/],
    [['validate', 'a', 'b'], /unexpected argument "b"/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['plan'], /missing --base/],
    [['plan', '--base-dir', 'x'], /--base-dir and --head-dir must be given together/],
    [['explain', '--agent', 'A', '--org', 'o'], /missing --location/],
    [['explain', '--agent', 'A', '--org', 'o', '--location', 'l', '--fact', 'novalue'], /--fact expects key=value/],
  ] as const) {
    const result = await callCli([...args]);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.match(result.stderr, /--help" for usage/);
  }
  // and the process exits with it
  const exited = await runCli(['validate', '--jsn']);
  assert.equal(exited.status, 2);
  assert.match(exited.stderr, /Unknown option '--jsn'[\s\S]*--help" for usage/);
});

test('--version prints the package version', async () => {
  const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await callCli(['--version']);
  assert.equal(result.status, 0);
  assert.equal(result.stdout.trim(), `pswm-policy ${version} (node ${process.versions.node})`);
});

test('--help documents the tool and every subcommand with its options and defaults', async () => {
  const tool = await callCli(['--help']);
  assert.equal(tool.status, 0);
  for (const name of ['validate', 'plan', 'explain']) assert.match(tool.stdout, new RegExp(`^  ${name} `, 'm'));
  const expectations: Record<string, RegExp[]> = {
    validate: [/--json/, /default: the current directory/],
    plan: [/--repo <dir>/, /--base <rev>/, /--head <rev>.*default: HEAD/, /--base-dir/, /--head-dir/, /--json/],
    explain: [/--agent NAME/, /--org ORG/, /--location LOCATION/, /--fact key=value/, /default: none/],
  };
  for (const [name, patterns] of Object.entries(expectations)) {
    const help = await callCli([name, '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`^Usage: pswm-policy ${name}`));
    for (const pattern of patterns) assert.match(help.stdout, pattern, `${name} --help`);
  }
});

test('plan compares two commits of a real git repository', async () => {
  const { repo, git } = templateRepo('repo');
  const base = git('rev-parse', 'HEAD');
  const paris = path.join(repo, 'organizations/contoso/paris.yaml');
  fs.writeFileSync(paris, fs.readFileSync(paris, 'utf8').replace('interval_seconds: 900', 'interval_seconds: 600'));
  fs.appendFileSync(path.join(repo, 'scripts/linux/motd.sh'), 'echo "managed by pswm"\n');
  git('commit', '-q', '-am', 'faster Paris, louder motd');

  const text = await callCli(['plan', '--repo', repo, '--base', base.slice(0, 8), '--head', 'main']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^Comparing base ${base.slice(0, 8)} \\(${base.slice(0, 12)}\\) with head main \\(`));
  assert.match(text.stdout, /^  ~ Location\/contoso\/paris \(organizations\/contoso\/paris\.yaml\)$/m);
  assert.match(text.stdout, /^  ~ Script\/lab-motd \(scripts\/linux\/motd\.yaml\)$/m);
  assert.match(text.stdout, /^  ~ contoso\/paris\n      ~ setting agent\.interval_seconds: 900 → 600$/m);
  assert.match(text.stdout, /^  ~ fabrikam\/lab-linux\n      ~ script lab-motd$/m);
  assert.match(text.stdout, /^Plan: 0 objects added, 2 changed, 0 removed; 2 agent groups affected$/m);
  assert.doesNotMatch(text.stdout, /PARIS-KIOSK-01/, 'the kiosk keeps its own interval, so the Paris change does not reach it');

  const json = await callCli(['plan', '--repo', repo, '--base', 'HEAD~1', '--json']);
  assert.equal(json.status, 0, json.stderr);
  const plan = JSON.parse(json.stdout);
  assert.equal(plan.base.revision, base);
  assert.equal(plan.head.revision, git('rev-parse', 'HEAD'));
  assert.deepEqual(plan.objects.changed.map((o: { kind: string; id: string }) => `${o.kind}/${o.id}`), ['Location/contoso/paris', 'Script/lab-motd']);
  assert.deepEqual(plan.groups.map((g: { scope: string }) => g.scope), ['contoso/paris', 'fabrikam/lab-linux']);
});

test('plan exits 1 and prints the errors of an invalid revision, or names an unknown one', async () => {
  const repo = path.join(tmp, 'repo');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: gitEnv, encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(repo, 'settings.yaml'), 'apiVersion: pswm/v1\nkind: Settings\nmetadata: {name: global}\nspec: {settings: {agent: {interval_seconds: "often"}}}\n');
  git('commit', '-q', '-am', 'break the settings');
  const invalid = await callCli(['plan', '--repo', repo, '--base', 'HEAD~1', '--head', 'HEAD']);
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /^head HEAD \([0-9a-f]{12}\) is not valid policy \(\d+ errors\):$/m);
  assert.match(invalid.stderr, /^  settings\.yaml:4:\d+: .+ \[SCHEMA_TYPE\]$/m);

  const unknown = await callCli(['plan', '--repo', repo, '--base', 'no-such-branch']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /revision "no-such-branch" not found/);
});

test('validate --base and plan refuse a revision that removes more than the deletion budget, as the server does', async () => {
  const { repo, git } = templateRepo('budget');
  git('rm', '-q', ...fs.readdirSync(path.join(repo, 'scripts/windows')).filter((f) => f.endsWith('.yaml')).map((f) => `scripts/windows/${f}`));
  git('commit', '-q', '-m', 'remove the Windows scripts');
  const refusal = /the revision removes 5 of 19 policy objects \(26\.3%\), more than the deletion budget of 25%/;

  const plan = await callCli(['plan', '--repo', repo, '--base', 'HEAD~1']);
  assert.equal(plan.status, 1);
  assert.match(plan.stdout, /^Plan: 0 objects added, 0 changed, 5 removed/m, 'the plan is still printed');
  assert.match(plan.stderr, refusal);
  assert.match(plan.stderr, /\[DELETION_BUDGET_EXCEEDED\]$/m);
  const json = JSON.parse((await callCli(['plan', '--repo', repo, '--base', 'HEAD~1', '--json'])).stdout);
  assert.equal(json.deletion_budget.ok, false);

  const validate = await runCli(['validate', repo, '--base', 'HEAD~1'], repo);
  assert.equal(validate.status, 1);
  assert.match(validate.stdout, /^settings\.yaml:\d+:\d+: the revision removes 5 of 19 .* \[DELETION_BUDGET_EXCEEDED\]$/m);
  assert.equal((await callCli(['validate', repo, '--base', 'HEAD'])).status, 0, 'nothing removed against itself');
  assert.equal((await callCli(['validate', repo])).status, 0, 'without --base there is nothing to compare');

  const settings = path.join(repo, 'settings.yaml');
  fs.writeFileSync(settings, fs.readFileSync(settings, 'utf8').replace(/allow_mass_deletion: false/, 'allow_mass_deletion: true'));
  assert.match(fs.readFileSync(settings, 'utf8'), /allow_mass_deletion: true/);
  git('commit', '-q', '-am', 'allow it');
  assert.equal((await callCli(['plan', '--repo', repo, '--base', 'HEAD~2'])).status, 0, 'the head\'s Settings allow mass deletion');
});

test('plan --base-dir/--head-dir prints the same plan as the planner fixture', async () => {
  const fixture = path.join(PLAN_FIXTURES, 'settings-change-at-location');
  const result = await callCli(['plan', '--base-dir', path.join(fixture, 'base'), '--head-dir', path.join(fixture, 'head')]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.slice(result.stdout.indexOf('\n\n') + 2), fs.readFileSync(path.join(fixture, 'expected.txt'), 'utf8'));
});

test('explain prints each setting with the file:line that set it and the values it overrode', async () => {
  const result = await runCli(['explain', '--agent', 'PARIS-KIOSK-01', '--org', 'contoso', '--location', 'paris', '--fact', 'os.family=windows', '.'], TEMPLATE);
  assert.equal(result.status, 0, result.stderr);
  const paris = fs.readFileSync(path.join(TEMPLATE, 'organizations/contoso/paris.yaml'), 'utf8').split('\n');
  const parisLine = paris.findIndex((line) => line.includes('interval_seconds: 900')) + 1;
  const kiosk = fs.readFileSync(path.join(TEMPLATE, 'overrides/paris-kiosk-01.yaml'), 'utf8').split('\n');
  const kioskLine = kiosk.findIndex((line) => line.includes('interval_seconds: 300')) + 1;
  assert.match(result.stdout, new RegExp(`^  agent\\.interval_seconds = 300 +overrides/paris-kiosk-01\\.yaml:${kioskLine} \\(AgentOverride/paris-kiosk-01\\)$`, 'm'));
  assert.match(result.stdout, new RegExp(`^      overrides 900 from organizations/contoso/paris\\.yaml:${parisLine} \\(Location/contoso/paris\\)$`, 'm'));
  assert.match(result.stdout, /^Scripts: set-timezone-paris \[windows\], .*disable-smbv1/m);

  const json = await callCli(['explain', '--agent', 'LAB-BUILD-03', '--org', 'fabrikam', '--location', 'lab-linux', '--json', TEMPLATE]);
  assert.equal(json.status, 0, json.stderr);
  const explained = JSON.parse(json.stdout);
  const consent = explained.settings.find((s: { key: string }) => s.key === 'remote_console.require_consent');
  assert.deepEqual([consent.value, consent.document, consent.file], [false, 'Location/fabrikam/lab-linux', 'organizations/fabrikam/lab-linux.yaml']);
  assert.ok(!explained.scripts.includes('disable-smbv1'), 'no facts given: the windows fact selector does not match');
});
