// Expiry durations as people write them on a command line: "30m", "24h", "7d", "2w".
const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

export const DURATION_PATTERN = DURATION.source;

export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  return seconds > 0 ? seconds : undefined;
}
