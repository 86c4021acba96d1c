// Which repository files are policy. CI definitions are YAML too but are not policy, and
// dot-folders (.git, .github, .gitlab, editor settings) never hold policy.

export function isPolicyFile(path: string): boolean {
  if (!/\.ya?ml$/i.test(path)) return false;
  const segments = path.split('/');
  if (segments.slice(0, -1).some((segment) => segment.startsWith('.'))) return false;
  const name = segments[segments.length - 1];
  return !name.startsWith('.'); // .gitlab-ci.yml, .pre-commit-config.yaml, ...
}
