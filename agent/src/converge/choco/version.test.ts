import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeVersion, sameVersion } from './version.ts';

// From NuGet's "Normalized version numbers" (the rules Chocolatey v2 applies), plus the padding to
// three numbers NuGet's normalised string always has, and the 24.08.
const NORMALISED: Array<[string, string]> = [
  // leading zeros are removed
  ['1.00', '1.0.0'],
  ['1.01.1', '1.1.1'],
  ['1.00.0.1', '1.0.0.1'],
  ['24.08', '24.8.0'],
  ['2024.01.05', '2024.1.5'],
  // a zero fourth number is left out; a non-zero one stays
  ['1.0.0.0', '1.0.0'],
  ['1.0.01.0', '1.0.1'],
  ['4.8.1.0', '4.8.1'],
  ['3.3.3.1', '3.3.3.1'],
  // at least three numbers
  ['1', '1.0.0'],
  ['24.8', '24.8.0'],
  ['24.8.0', '24.8.0'],
  // SemVer 2.0.0 build metadata is removed
  ['1.0.7+r3456', '1.0.7'],
  // prerelease labels stay, compared without case; the fourth-zero rule applies before them
  ['1.0.0-Beta', '1.0.0-beta'],
  ['4.8.1.0-rtw', '4.8.1-rtw'],
  ['1.0-RC.1+build.5', '1.0.0-rc.1'],
  // not a NuGet version: kept as written (lowercased), matched only by the same spelling
  ['1.2.3.4.5', '1.2.3.4.5'],
  ['latest', 'latest'],
  ['1.0-', '1.0-'],
];

test('versions normalise as NuGet/Chocolatey do', () => {
  for (const [version, expected] of NORMALISED) assert.equal(normalizeVersion(version), expected, version);
});

test('spellings of one version are the same version; different versions are not', () => {
  assert.equal(sameVersion('24.08', '24.8.0'), true);
  assert.equal(sameVersion('24.8.0.0', '24.08'), true);
  assert.equal(sameVersion('1.0.0-BETA', '1.0.0-beta'), true);
  assert.equal(sameVersion('24.8.0', '24.8.1'), false);
  assert.equal(sameVersion('1.0.0', '1.0.0-beta'), false);
  assert.equal(sameVersion('1.0.0.1', '1.0.0'), false);
});
