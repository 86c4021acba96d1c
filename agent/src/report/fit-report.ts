// A report that fits the server's body limit (advertised in X-Pswm-Report-Limit with the desired
// state; 4 MiB before the first one): the agent never builds a report the server refuses for its
// size, which would be refused on every re-send. Over the limit, captured output is cut first (the
// largest first, flagged *_truncated, as the server would flag it), then the largest facts are
// replaced by a note saying why. Each cut is listed, for the report-values drift item.
import type { InputProblem } from '@pswm/schemas/input-rules';
import type { WireReport } from './wire.ts';

export const DEFAULT_REPORT_LIMIT_BYTES = 4 * 1024 * 1024;
/** Kept free for what is added after fitting (the agent's own drift items, up to 4 KiB each). */
export const REPORT_HEADROOM_BYTES = 16 * 1024;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary. */
export function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

interface OutputField {
  path: string;
  bytes: number;
  cut(maxBytes: number): void;
}

function outputFields(report: WireReport): OutputField[] {
  const fields: OutputField[] = [];
  report.script_runs?.forEach((run, index) => {
    for (const stream of ['stdout', 'stderr'] as const) {
      fields.push({
        path: `/script_runs/${index}/${stream}`,
        bytes: Buffer.byteLength(run[stream], 'utf8'),
        cut(maxBytes) {
          run[stream] = cutUtf8(run[stream], maxBytes);
          run[`${stream}_truncated`] = true;
        },
      });
    }
  });
  report.choco_runs?.forEach((run, index) => {
    fields.push({
      path: `/choco_runs/${index}/output`,
      bytes: Buffer.byteLength(run.output, 'utf8'),
      cut(maxBytes) {
        run.output = cutUtf8(run.output, maxBytes);
        run.output_truncated = true;
      },
    });
  });
  return fields;
}

export function fitReport(input: WireReport, limitBytes: number): { report: WireReport; dropped: InputProblem[] } {
  const budget = Math.max(0, limitBytes - REPORT_HEADROOM_BYTES);
  let excess = jsonBytes(input) - budget;
  if (excess <= 0) return { report: input, dropped: [] };
  const report = structuredClone(input);
  const dropped: InputProblem[] = [];

  for (const field of outputFields(report).sort((a, b) => b.bytes - a.bytes)) {
    if (excess <= 0 || field.bytes === 0) break;
    const keep = Math.max(0, field.bytes - excess - 64); // 64: JSON escapes may make the cut count for more
    field.cut(keep);
    dropped.push({ path: field.path, reason: `cut to ${keep} bytes to fit the server's report limit of ${limitBytes} bytes` });
    excess = jsonBytes(report) - budget;
  }
  if (excess > 0 && report.facts) {
    const bySize = Object.entries(report.facts).map(([key, value]) => [key, jsonBytes(value)] as const).sort((a, b) => b[1] - a[1]);
    for (const [key, size] of bySize) {
      if (excess <= 0) break;
      report.facts[key] = { error: `left out: ${size} bytes, over the server's report limit of ${limitBytes} bytes` };
      dropped.push({ path: `/facts/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, reason: `left out (${size} bytes) to fit the server's report limit of ${limitBytes} bytes` });
      excess = jsonBytes(report) - budget;
    }
  }
  return { report, dropped };
}
