// Code-unit string order: compiled documents are hashed, so their order must not depend on the
// locale of the machine that compiled them (localeCompare does).
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
