// Plain-text output of the admin subcommands: aligned columns, times in ISO 8601, '-' for nothing.
// Records may come from the database (Date) or from a server's JSON (string): both print the same.

export function formatTime(value: Date | string | null | undefined): string {
  return value ? new Date(value).toISOString() : '-';
}

export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => row[col].length)));
  return all.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd()).join('\n');
}
