// Geometry of the console's SVG charts (rendered on the server, so they need no script). Pure.

export interface Bar { x: number; y: number; width: number; height: number; label: string; title: string }

/** Bars of `values` (0–max) in a width × height box with a bottom axis band of 16 units. */
export function bars(values: Array<{ label: string; value: number; title: string }>, width: number, height: number, max = 100): Bar[] {
  const plot = height - 16;
  const slot = width / Math.max(values.length, 1);
  return values.map((item, i) => {
    const h = max > 0 ? Math.round((Math.min(item.value, max) / max) * plot) : 0;
    return { x: Math.round(i * slot + slot * 0.15), y: plot - h, width: Math.max(Math.round(slot * 0.7), 1), height: h, label: item.label, title: item.title };
  });
}

/** An SVG path through points (t, v), scaled to width × height; t and v ranges from the data. */
export function linePath(points: Array<{ t: number; v: number }>, width: number, height: number, opts: { minV?: number; maxV?: number; step?: boolean } = {}): string {
  if (!points.length) return '';
  const t0 = points[0].t;
  const t1 = Math.max(points.at(-1)!.t, t0 + 1);
  const v0 = opts.minV ?? Math.min(...points.map((p) => p.v));
  const v1 = Math.max(opts.maxV ?? Math.max(...points.map((p) => p.v)), v0 + 1e-9);
  const x = (t: number) => ((t - t0) / (t1 - t0)) * width;
  const y = (v: number) => height - ((v - v0) / (v1 - v0)) * height;
  return points.map((p, i) => {
    const here = `${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`;
    if (i === 0) return `M${here}`;
    return opts.step ? `H${x(p.t).toFixed(1)} V${y(p.v).toFixed(1)}` : `L${here}`;
  }).join(' ');
}

/** Sparkline path of a series sampled newest first (as the metrics API answers), oldest on the left. */
export function sparkline(newestFirst: Array<{ at: string; value: number | undefined }>, width: number, height: number, max?: number): string {
  const points = newestFirst
    .flatMap((sample) => (sample.value === undefined || !Number.isFinite(sample.value) ? [] : [{ t: new Date(sample.at).getTime(), v: sample.value }]))
    .reverse();
  return points.length > 1 ? linePath(points, width, height, { minV: 0, maxV: max }) : '';
}
