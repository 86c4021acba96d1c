// The choco v2 stand-in used by the agent's tests. Plain JavaScript so the system Node (20) can run
// it. State (catalog, installed packages, pins, calls) lives in the JSON file named by
// CHOCO_STANDIN_STATE. What it reproduces, and from which documented fact, is listed in README.md.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

const EXIT = { ok: 0, failed: 1, rebootRequired: 3010, rebootInitiated: 1641 };
/** Packages with scripted behaviour, as a real repository might hold them. */
const FAILING_PACKAGE = 'failing-package';
const REBOOT_PACKAGE = 'reboot-package';
/** An installer that starts the reboot itself (MSI 1641). */
const REBOOT_INITIATED_PACKAGE = 'reboot-initiated-package';
/** A package result that is neither done nor failed (a pinned package on upgrade). */
const SKIPPED = 'skipped';

export const DEFAULT_CATALOG = {
  chocolatey: ['2.4.1'],
  git: ['2.45.0', '2.46.0', '2.47.0'],
  '7zip': ['23.1.0', '24.8.0'],
  vlc: ['3.0.20', '3.0.21'],
  notepadplusplus: ['8.6.9', '8.7.0'],
  googlechrome: ['130.0.6723.117', '131.0.6778.86'],
  [FAILING_PACKAGE]: ['1.0.0'],
  [REBOOT_PACKAGE]: ['1.0.0', '1.1.0'],
  [REBOOT_INITIATED_PACKAGE]: ['2.0.0'],
};

const stateFile = process.env.CHOCO_STANDIN_STATE;
if (!stateFile) {
  process.stderr.write('choco stand-in: set CHOCO_STANDIN_STATE to the state file\n');
  process.exit(EXIT.failed);
}
const state = loadState(stateFile);
const argv = process.argv.slice(2);
state.calls.push(argv);
const { positional, options } = parseArgs(argv);
let exitCode;
try {
  exitCode = run(positional, options);
} finally {
  saveState(stateFile, state);
}
process.exit(exitCode);

function loadState(file) {
  let saved = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  return {
    catalog: saved.catalog ?? DEFAULT_CATALOG,
    installed: saved.installed ?? { chocolatey: '2.4.1' },
    pins: saved.pins ?? {},
    calls: saved.calls ?? [],
  };
}

function saveState(file, value) {
  writeFileSync(file + '.tmp', JSON.stringify(value, null, 2));
  renameSync(file + '.tmp', file);
}

/** choco options: `-n=x`, `--name=x` or `--name x`; values may be wrapped in single or double
 * quotes, which choco strips. */
function parseArgs(args) {
  const takesValue = new Set(['n', 'name', 'version', 's', 'source', 'except', 'install-arguments', 'ia', 'installargs', 'install-args']);
  const positional = [];
  const options = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const match = /^--?([A-Za-z][\w-]*)(?:[=:](.*))?$/.exec(arg);
    if (!match) {
      positional.push(arg);
      continue;
    }
    const [, name, inline] = match;
    const key = name.toLowerCase();
    if (inline !== undefined) options[key] = unquote(inline);
    else if (takesValue.has(key) && i + 1 < args.length) options[key] = unquote(args[++i]);
    else options[key] = true;
  }
  return { positional, options };
}

function unquote(value) {
  return value.replace(/^(["'])(.*)\1$/, '$2').replace(/^'(.*)'$/, '$1');
}

function run([command, ...rest], options) {
  switch (command) {
    case 'list':
      if (options['local-only'] || options.lo) return fail("Invalid argument --local-only. This argument has been removed from the list command and cannot be used.");
      return listPackages(options);
    case 'outdated':
      return outdated(options);
    case 'pin':
      return pin(rest[0] ?? 'list', options);
    case 'install':
    case 'upgrade':
    case 'uninstall':
      if (!(options.y || options.yes || options.confirm)) return fail(`The stand-in cannot answer prompts: run choco ${command} with -y.`);
      return packageCommand(command, rest, options);
    default:
      return fail(`Could not find a command registered that meets '${command}'.`);
  }
}

function limitOutput(options) {
  return Boolean(options.r || options['limit-output'] || options.limitoutput);
}

function listPackages(options) {
  const names = Object.keys(state.installed).sort();
  if (limitOutput(options)) for (const name of names) out(`${name}|${state.installed[name]}`);
  else {
    out('Chocolatey v2.4.1');
    for (const name of names) out(`${name} ${state.installed[name]}`);
    out(`${names.length} packages installed.`);
  }
  return EXIT.ok;
}

function outdated(options) {
  const rows = [];
  for (const name of Object.keys(state.installed).sort()) {
    const available = latest(name);
    if (!available || compareVersions(available, state.installed[name]) <= 0) continue;
    const pinned = name in state.pins;
    if (pinned && options['ignore-pinned']) continue;
    rows.push(`${name}|${state.installed[name]}|${available}|${pinned}`);
  }
  if (!limitOutput(options)) out('Outdated Packages\n Output is package name | current version | available version | pinned?\n');
  for (const row of rows) out(row);
  if (!limitOutput(options)) out(`\nChocolatey has determined ${rows.length} package(s) are outdated.`);
  return EXIT.ok;
}

function pin(action, options) {
  const name = typeof options.n === 'string' ? options.n : options.name;
  if (action === 'list') {
    for (const pinned of Object.keys(state.pins).sort()) out(limitOutput(options) ? `${pinned}|${state.pins[pinned]}` : `${pinned} ${state.pins[pinned]}`);
    return EXIT.ok;
  }
  if (typeof name !== 'string') return fail(`A package name is required to ${action} a pin.`);
  const key = findInstalled(name);
  if (action === 'add') {
    const version = typeof options.version === 'string' ? options.version : key && state.installed[key];
    if (!key || state.installed[key] !== version) return fail(`Unable to find package named '${name}' to pin. Please check to ensure it is installed.`);
    if (state.pins[key] === version) return nothingToChange();
    state.pins[key] = version;
    out(`Successfully added a pin for ${key} v${version}.`);
    return EXIT.ok;
  }
  if (action === 'remove') {
    if (!key || !(key in state.pins)) return nothingToChange();
    const version = state.pins[key];
    delete state.pins[key];
    out(`Successfully removed a pin for ${key} v${version}.`);
    return EXIT.ok;
  }
  return fail(`Unknown pin action '${action}'.`);
}

function nothingToChange() {
  out('Nothing to change. Pin already set or removed.');
  return EXIT.ok;
}

function packageCommand(command, names, options) {
  if (options['ignore-pinned'] && command === 'upgrade') options.ignorePinsAnyway = true;
  const requested = command === 'upgrade' && names.length === 1 && names[0].toLowerCase() === 'all' ? allUpgradable(options) : names;
  const results = requested.map((name) => (command === 'uninstall' ? uninstall(name) : installOrUpgrade(command, name, options)));
  const done = results.filter((r) => r !== EXIT.failed && r !== SKIPPED).length;
  const verb = { install: 'installed', upgrade: 'upgraded', uninstall: 'uninstalled' }[command];
  const failed = results.filter((r) => r === EXIT.failed).length;
  out(`\nChocolatey ${verb} ${done}/${results.length} packages.${failed ? ` ${failed} packages failed.` : ''}`);
  if (failed) return EXIT.failed;
  for (const [code, name] of [[EXIT.rebootInitiated, REBOOT_INITIATED_PACKAGE], [EXIT.rebootRequired, REBOOT_PACKAGE]]) {
    if (!results.includes(code)) continue;
    out(' Packages requiring reboot:');
    out(` - ${name} (exit code ${code})`);
    return code;
  }
  return EXIT.ok;
}

/** `upgrade all`: every installed package except pinned ones (unless --ignore-pinned, which
 * upgrades them anyway) and those named in --except. */
function allUpgradable(options) {
  const except = new Set(String(options.except ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  return Object.keys(state.installed).sort().filter((name) => {
    if (except.has(name)) return false;
    if (name in state.pins && !options.ignorePinsAnyway) {
      out(`${name} is pinned. Skipping pinned package.`);
      return false;
    }
    return true;
  });
}

function installOrUpgrade(command, requestedName, options) {
  const name = findCatalog(requestedName);
  // versions match the NuGet way (24.08 is 24.8.0); the catalog's spelling is what gets installed
  const wanted = typeof options.version === 'string' ? name && state.catalog[name].find((v) => compareVersions(v, options.version) === 0) : name && latest(name);
  if (!name || !wanted) {
    out(`${requestedName} not installed. The package was not found with the source(s) listed.`);
    out(` Source(s): '${options.s ?? options.source ?? 'https://community.chocolatey.org/api/v2/'}'`);
    if (typeof options.version === 'string') out(` Version: "${options.version}"`);
    return EXIT.failed;
  }
  const current = state.installed[name];
  if (current !== undefined) {
    if (command === 'install' && !options.force) {
      out(`${name} v${current} already installed.\n Use --force to reinstall, specify a version to install, or try upgrade.`);
      return EXIT.ok;
    }
    if (name in state.pins && !options.ignorePinsAnyway) {
      out(`${name} is pinned. Skipping pinned package.`);
      return SKIPPED;
    }
    const order = compareVersions(wanted, current);
    if (order === 0) {
      out(`${name} v${current} is the latest version available based on your source(s).`);
      return EXIT.ok;
    }
    if (order < 0 && !options['allow-downgrade'] && !options.force) {
      out(`A newer version of ${name} (v${current}) is already installed.\n Use --allow-downgrade or --force to attempt to install a lower version.`);
      return EXIT.failed;
    }
  }
  out(`${name} v${wanted} [Approved]`);
  if (name === FAILING_PACKAGE) {
    out(`ERROR: Running ["C:\\ProgramData\\chocolatey\\lib\\${name}\\tools\\setup.exe" /S] was not successful. Exit code was '1603'. See log for possible error messages.`);
    out(`The ${command} of ${name} was NOT successful.`);
    return EXIT.failed;
  }
  out(`${name} package files ${command} completed. Performing other installation steps.`);
  state.installed[name] = wanted;
  out(` The ${command} of ${name} was successful.`);
  if (name === REBOOT_INITIATED_PACKAGE) return EXIT.rebootInitiated;
  return name === REBOOT_PACKAGE ? EXIT.rebootRequired : EXIT.ok;
}

function uninstall(requestedName) {
  const name = findInstalled(requestedName);
  if (!name) {
    out(`${requestedName} is not installed. Cannot uninstall a non-existent package.`);
    return EXIT.failed;
  }
  const version = state.installed[name];
  delete state.installed[name];
  delete state.pins[name];
  out(`${name} v${version}\n ${name} has been successfully uninstalled.`);
  return EXIT.ok;
}

function findInstalled(name) {
  return Object.keys(state.installed).find((n) => n.toLowerCase() === name.toLowerCase());
}

function findCatalog(name) {
  return Object.keys(state.catalog).find((n) => n.toLowerCase() === name.toLowerCase());
}

function latest(name) {
  const versions = [...(state.catalog[name] ?? [])].sort(compareVersions);
  return versions[versions.length - 1];
}

function compareVersions(a, b) {
  const pa = String(a).split('.').map(Number);
  const pb = String(b).split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function out(line) {
  process.stdout.write(line + '\n');
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  return EXIT.failed;
}
