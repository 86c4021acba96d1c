// Package versions as Chocolatey compares them. Chocolatey v2 reads versions the NuGet way, so one
// version has several spellings (`24.08`, `24.8`, `24.8.0`, `24.8.0.0`); comparing the strings would
// call a machine drifted forever. The normalised form follows NuGet's documented rules ("Normalized
// version numbers", NuGet package versioning): leading zeros are dropped from each number, a zero
// fourth number is left out, at least three numbers are written, SemVer build metadata (`+…`) is
// removed, and the prerelease label compares without regard to case.

const NUMERIC = /^\d+$/;

/** The normalised spelling of a NuGet version, or the trimmed text lowercased when it is not one
 * (then only the same spelling matches). Pure. */
export function normalizeVersion(version: string): string {
  const text = version.trim();
  const withoutMetadata = text.split('+')[0];
  const dash = withoutMetadata.indexOf('-');
  const release = dash < 0 ? withoutMetadata : withoutMetadata.slice(0, dash);
  const label = dash < 0 ? '' : withoutMetadata.slice(dash + 1);
  const numbers = release.split('.');
  if (numbers.length > 4 || !numbers.every((n) => NUMERIC.test(n)) || (dash >= 0 && label === '')) return text.toLowerCase();
  const parts = numbers.map((n) => n.replace(/^0+(?=\d)/, ''));
  while (parts.length < 3) parts.push('0');
  if (parts.length === 4 && parts[3] === '0') parts.pop();
  return parts.join('.') + (label ? `-${label.toLowerCase()}` : '');
}

/** Do two spellings name the same package version? */
export function sameVersion(a: string, b: string): boolean {
  return normalizeVersion(a) === normalizeVersion(b);
}
