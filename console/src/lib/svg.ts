// The console's charts as standalone SVG documents, served as images (/charts/*.svg) so a page's
// render does not wait for them. Colours are presentation attributes (no <style>: the CSP allows
// none) chosen to read on both the light and the dark theme. Pure.
import { bars, linePath } from './charts.ts';

const ACCENT = '#3b82f6';
const AXIS = '#8b949e';

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function svg(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escape(title)}</title>${body}</svg>`;
}

/** Compliance per day as bars (percent of reporting agents), day labels under them. */
export function complianceSvg(days: Array<{ day: string; agents: number; compliant: number }>): string {
  const items = days.map((d) => {
    const percent = d.agents ? Math.round((d.compliant / d.agents) * 1000) / 10 : 0;
    return { label: d.day.slice(5), value: percent, title: `${d.day}: ${d.agents ? `${percent} % compliant (${d.compliant} of ${d.agents} agents)` : 'no reports'}` };
  });
  const body = bars(items, 560, 160).map((bar) =>
    `<rect x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="${ACCENT}"><title>${escape(bar.title)}</title></rect>` +
    `<text x="${bar.x + bar.width / 2}" y="156" text-anchor="middle" font-size="10" font-family="sans-serif" fill="${AXIS}">${escape(bar.label)}</text>`).join('');
  return svg(560, 160, 'Share of reporting agents with no failed or drifted item, per day', `<line x1="0" y1="144" x2="560" y2="144" stroke="${AXIS}"/>${body}`);
}

/** Cumulative agents that applied a revision since it was applied, as a step line. */
export function rolloutSvg(rollout: { revision: string | null; since: string | null; affected: number; applied: number; progress: Array<{ at: string; applied: number }> }, now = Date.now()): string {
  const start = rollout.since ? new Date(rollout.since).getTime() : undefined;
  const points = start === undefined ? [] : [{ t: start, v: 0 }, ...rollout.progress.map((p) => ({ t: new Date(p.at).getTime(), v: p.applied })), { t: now, v: rollout.applied }];
  const path = linePath(points, 560, 110, { minV: 0, maxV: Math.max(rollout.affected, 1), step: true });
  const caption = `${rollout.applied} of ${rollout.affected} affected agents applied ${rollout.revision?.slice(0, 10) ?? '—'}`;
  return svg(560, 140, `Rollout: ${caption}`,
    `<line x1="0" y1="120" x2="560" y2="120" stroke="${AXIS}"/>` +
    (path ? `<path d="${path}" transform="translate(0 10)" fill="none" stroke="${ACCENT}" stroke-width="2"/>` : '') +
    `<text x="0" y="136" font-size="11" font-family="sans-serif" fill="${AXIS}">${escape(caption)}</text>`);
}

export function svgResponse(body: string): Response {
  return new Response(body, { headers: { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store' } });
}
