/** A small dependency-free SVG of per-component confusion matrices. */
export interface ConfusionPanel {
  title: string;
  labels: number[];
  matrix: number[][];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function confusionSvg(title: string, panels: ConfusionPanel[]): string {
  const cell = 44, pad = 70, gap = 40;
  const widths = panels.map((p) => pad + p.labels.length * cell);
  const W = widths.reduce((a, b) => a + b + gap, gap);
  const H = 60 + pad + Math.max(...panels.map((p) => p.labels.length)) * cell + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${gap}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  let x0 = gap;
  panels.forEach((p, pi) => {
    const K = p.labels.length;
    const y0 = 60 + pad;
    out.push(`<text x="${x0}" y="52" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<text x="${x0 + pad + (K * cell) / 2}" y="${y0 - 30}" text-anchor="middle">predicted</text>`);
    out.push(`<text x="${x0 + 10}" y="${y0 + (K * cell) / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 10} ${y0 + (K * cell) / 2})">true</text>`);
    p.labels.forEach((l, k) => {
      out.push(`<text x="${x0 + pad + k * cell + cell / 2}" y="${y0 - 8}" text-anchor="middle">${l}</text>`);
      out.push(`<text x="${x0 + pad - 8}" y="${y0 + k * cell + cell / 2 + 4}" text-anchor="end">${l}</text>`);
    });
    p.matrix.forEach((row, i) => {
      const tot = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((v, j) => {
        const f = v / tot;
        const shade = Math.round(255 - f * 200);
        const color = i === j ? `rgb(${shade},${Math.round(255 - f * 120)},${shade})` : `rgb(255,${shade},${shade})`;
        const cx = x0 + pad + j * cell, cy = y0 + i * cell;
        out.push(`<rect x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="${color}" stroke="#999"/>`);
        out.push(`<text x="${cx + cell / 2}" y="${cy + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
      });
    });
    x0 += widths[pi] + gap;
  });
  out.push('</svg>');
  return out.join('\n');
}
