export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 720;
const H = 320;
const PAD = { left: 64, right: 16, top: 28, bottom: 44 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= value)!;
}

/** A line chart as a standalone SVG file (GitHub renders it inline in the Markdown report). */
export function lineChart(options: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y));
  const xMax = niceMax(Math.max(1, ...xs));
  const yMax = niceMax(Math.max(1, ...ys));
  const sx = (x: number) => PAD.left + (x / xMax) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const ticks = (max: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const grid = [
    ...ticks(yMax).map(
      (y) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>` +
        `<text x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${+y.toPrecision(3)}</text>`,
    ),
    ...ticks(xMax).map(
      (x) =>
        `<text x="${sx(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${+x.toPrecision(3)}</text>`,
    ),
  ];
  const lines = options.series.map(
    (s) =>
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points
        .map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
        .join(' ')}"/>`,
  );
  const legend = options.series.map(
    (s, i) =>
      `<rect x="${PAD.left + 10 + i * 170}" y="${PAD.top + 4}" width="12" height="12" fill="${s.color}"/>` +
      `<text x="${PAD.left + 28 + i * 170}" y="${PAD.top + 14}" font-size="12">${esc(s.name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
    ...grid,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(options.xLabel)}</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${H / 2})">${esc(options.yLabel)}</text>`,
    ...lines,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

/** Horizontal bars, one per label, for side-by-side totals. */
export function barChart(options: {
  title: string;
  unit: string;
  bars: { label: string; value: number; color: string }[];
}): string {
  const height = 40 + options.bars.length * 34;
  const max = niceMax(Math.max(1, ...options.bars.map((b) => b.value)));
  const left = 190;
  const width = W - left - 90;
  const rows = options.bars.map((b, i) => {
    const y = 34 + i * 34;
    const w = Math.max(1, (b.value / max) * width);
    return (
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="22" fill="${b.color}"/>` +
      `<text x="${left + w + 6}" y="${y + 15}" font-size="12">${esc(`${+b.value.toPrecision(4)} ${options.unit}`)}</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
