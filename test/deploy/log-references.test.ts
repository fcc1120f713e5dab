/**
 * The dashboard's log queries may only use the labels and structured metadata the log shipper sets
 * (deploy/alloy/config.alloy), so a renamed field cannot leave a logs panel silently empty.
 *
 *   NODE_OPTIONS=--experimental-vm-modules npx jest test/deploy
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** What Alloy attaches to each line: indexed labels and per-line structured metadata. */
export function shipperFields(alloy: string): { labels: Set<string>; metadata: Set<string> } {
  const block = (name: string) => new RegExp(`${name}\\s*\\{\\s*values\\s*=\\s*\\{([^}]*)\\}`).exec(alloy)?.[1] ?? '';
  const keys = (text: string) => [...text.matchAll(/^\s*([a-z_][a-z0-9_]*)\s*=/gm)].map((m) => m[1]!);
  const labels = new Set([...alloy.matchAll(/target_label\s*=\s*"([^"]+)"/g)].map((m) => m[1]!).filter((l) => !l.startsWith('__')));
  for (const k of keys(block('stage.labels'))) labels.add(k);
  return { labels, metadata: new Set(keys(block('stage.structured_metadata'))) };
}

/** Splits a LogQL pipeline at `|` outside quotes and braces. */
function stages(expr: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote = false;
  let depth = 0;
  for (const ch of expr) {
    if (ch === '"') quote = !quote;
    if (!quote && ch === '{') depth++;
    if (!quote && ch === '}') depth--;
    if (!quote && depth === 0 && ch === '|') {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

/** Every label or metadata name a LogQL query reads that the shipper must provide (not those it extracts itself). */
export function unknownLogFields(expr: string, fields: { labels: Set<string>; metadata: Set<string> }): string[] {
  const unknown: string[] = [];
  const withoutStrings = (s: string) => s.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const selector of expr.matchAll(/\{([^}]*)\}/g))
    for (const m of withoutStrings(selector[1]!).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) if (!fields.labels.has(m[1]!)) unknown.push(m[1]!);
  for (const by of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const name of by[1]!.split(',').map((s) => s.trim()).filter(Boolean)) if (!fields.labels.has(name)) unknown.push(name);
  const extracted = new Set<string>();
  for (const stage of stages(expr.replace(/^[^{]*\{[^}]*\}/, '')).slice(1)) {
    const text = withoutStrings(stage);
    const parser = /^(json|logfmt|regexp|pattern|label_format)\b(.*)$/s.exec(text);
    if (parser) {
      for (const m of parser[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=/g)) extracted.add(m[1]!);
      continue;
    }
    if (/^(line_format|unwrap|drop|keep|decolorize)\b/.test(text) || /^[=!]~?\s*""/.test(text)) continue;
    for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|==|>=|<=|=|>|<)/g))
      if (!fields.labels.has(m[1]!) && !fields.metadata.has(m[1]!) && !extracted.has(m[1]!)) unknown.push(m[1]!);
  }
  return unknown;
}

function lokiQueries(dashboard: { panels: { title?: string; datasource?: { type?: string }; targets?: { expr?: string; datasource?: { type?: string } }[]; panels?: unknown[] }[] }) {
  const out: { panel: string; expr: string }[] = [];
  const walk = (panels: typeof dashboard.panels) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if ((t.datasource?.type ?? p.datasource?.type) === 'loki' && t.expr) out.push({ panel: p.title ?? '', expr: t.expr });
      walk((p.panels ?? []) as typeof dashboard.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

describe('log queries vs the fields the shipper sets', () => {
  const fields = shipperFields(read('deploy/alloy/config.alloy'));

  it('reads the shipper: labels service and level, structured metadata correlation_id, route, status_code', () => {
    expect([...fields.labels].sort()).toEqual(['level', 'service']);
    expect([...fields.metadata].sort()).toEqual(['correlation_id', 'route', 'status_code']);
  });

  it('reports a field the shipper does not set (negative case: the check can fail)', () => {
    expect(unknownLogFields('{service="api", route="/x"} | request_id="1" | json t="responseTime" | t > 1 | level="error"', fields)).toEqual(['route', 'request_id']);
    expect(unknownLogFields('sum by (service, pod) (count_over_time({service=~"a|b"}[5m]))', fields)).toEqual(['pod']);
  });

  it('the dashboard has a logs panel, a per-request panel, and only uses shipped fields', () => {
    const queries = lokiQueries(JSON.parse(read('deploy/grafana/dashboards/anomaly-platform.json')));
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries.some((q) => /correlation_id="\$correlation_id"/.test(q.expr))).toBe(true);
    expect(queries.map((q) => ({ panel: q.panel, unknown: unknownLogFields(q.expr, fields) })).filter((q) => q.unknown.length)).toEqual([]);
  });

  it('the Loki datasource links a correlation_id to the per-request panel', () => {
    const datasources = read('deploy/grafana/provisioning/datasources/datasources.yml');
    expect(datasources).toMatch(/matcherRegex: correlation_id/);
    const panel = /viewPanel=(\d+)/.exec(datasources)?.[1];
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/anomaly-platform.json')) as { panels: { id: number; targets?: { expr?: string }[] }[] };
    expect(dashboard.panels.find((p) => String(p.id) === panel)?.targets?.[0]?.expr).toMatch(/correlation_id="\$correlation_id"/);
  });
});
