/**
 * Test-side helpers for test/deploy: pull metric names out of PromQL, PromQL out of the alert rules
 * and the Grafana dashboard, and resolve names against what the service's registry exports.
 * Deliberately small and strict: anything it cannot verify is reported, never passed.
 */

/** PromQL keywords and literals that look like identifiers but are not metric names. */
const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'le',
]);

/**
 * Metric names referenced by one PromQL expression. Ignores function and aggregation names
 * (identifiers followed by `(`), keywords, label names and values, durations, numbers, strings and
 * Grafana variables ($__rate_interval, ${var}). A `{__name__="x"}` selector yields `x`; a regex
 * `__name__` selector cannot be verified and yields a `__name__=~...` marker that never resolves.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let s = expr;
  // Comments run to the end of the line.
  s = s.replace(/#[^\n]*/g, ' ');
  // Label matchers: collect __name__ selectors, then drop the braces with their strings.
  s = s.replace(/\{(?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\}/g, (block) => {
    for (const m of block.matchAll(/__name__\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g)) {
      const value = m[2].slice(1, -1);
      names.add(m[1] === '=' ? value : `__name__${m[1]}${value}`);
    }
    return ' ';
  });
  // Strings outside selectors (label_replace, count_values, ...).
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  // Range and subquery brackets: [5m], [$__rate_interval], [1h:1m].
  s = s.replace(/\[[^\]]*\]/g, ' ');
  // Label lists of grouping and vector matching: by (le, model), on (instance), group_left (x).
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');

  const token = /\$\{[^}]*\}|\$\w+|\d[\w.]*|\.\d[\w.]*|[A-Za-z_:][\w:]*/g;
  for (const m of s.matchAll(token)) {
    const word = m[0];
    if (!/^[A-Za-z_:]/.test(word)) continue; // numbers, durations, Grafana variables
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const rest = s.slice((m.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation call
    names.add(word);
  }
  return [...names];
}

export interface ExportedMetric {
  name: string;
  type: string; // counter | gauge | histogram | summary
}

/** Series names Prometheus itself records for every scrape target (not exported by the service). */
export const PROMETHEUS_SERIES = new Set(['up']);

/**
 * Every series name a scrape of the service can contain: counters and gauges as named, histograms
 * only as _bucket/_sum/_count (the bare name has no series), summaries as name, _sum and _count.
 */
export function exportedSeriesNames(metrics: ExportedMetric[]): Set<string> {
  const out = new Set<string>();
  for (const { name, type } of metrics) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) out.add(name + suffix);
    else out.add(name);
  }
  return out;
}

export interface UnknownReference {
  source: string;
  expr: string;
  metric: string;
}

/** References in `exprs` to series the service does not export (nor Prometheus records). */
export function unknownMetrics(
  exprs: { source: string; expr: string }[],
  known: Set<string>,
): UnknownReference[] {
  const unknown: UnknownReference[] = [];
  for (const { source, expr } of exprs) {
    for (const metric of metricNames(expr)) {
      if (!known.has(metric) && !PROMETHEUS_SERIES.has(metric)) unknown.push({ source, expr, metric });
    }
  }
  return unknown;
}

/**
 * `expr` values of a Prometheus rule file, without a YAML library: inline values (plain or quoted)
 * and block scalars (| or >). Each is tagged with the rule's name (`alert:` or `record:`).
 */
export function ruleExpressions(yamlText: string): { source: string; expr: string }[] {
  const lines = yamlText.split(/\r?\n/);
  const out: { source: string; expr: string }[] = [];
  let rule = '(no rule)';
  for (let i = 0; i < lines.length; i++) {
    const named = /^\s*-?\s*(alert|record):\s*(.+?)\s*$/.exec(lines[i]);
    if (named) rule = `${named[1]} ${unquote(named[2])}`;
    const m = /^(\s*)-?\s*expr:\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const value = m[2];
    if (/^[|>][+-]?$/.test(value)) {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || leading(lines[i + 1]) > indent)) {
        block.push(lines[++i].trim());
      }
      out.push({ source: rule, expr: block.join(value.startsWith('>') ? ' ' : '\n').trim() });
    } else {
      out.push({ source: rule, expr: unquote(value) });
    }
  }
  return out;
}

/** Number of rules (alert or record entries) in a rule file. */
export function ruleCount(yamlText: string): number {
  return yamlText.split(/\r?\n/).filter((l) => /^\s*-\s*(alert|record):/.test(l)).length;
}

function leading(line: string): number {
  return line.length - line.trimStart().length;
}

function unquote(value: string): string {
  if (value.startsWith('"') && value.endsWith('"')) return JSON.parse(value) as string;
  if (value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replace(/''/g, "'");
  return value;
}

export interface DashboardQuery {
  source: string;
  datasourceUid: string | undefined;
  expr?: string;
  rawSql?: string;
}

/** Every query target of a Grafana dashboard (panels, rows' nested panels) and templating query. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const d = dashboard as {
    panels?: Panel[];
    templating?: { list?: { name: string; query?: unknown; datasource?: { uid?: string } }[] };
  };
  const visit = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const t of panel.targets ?? []) {
        out.push({
          source: `panel "${panel.title}" target ${t.refId ?? '?'}`,
          datasourceUid: t.datasource?.uid ?? panel.datasource?.uid,
          expr: t.expr,
          rawSql: t.rawSql,
        });
      }
      visit(panel.panels);
    }
  };
  visit(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = v.query;
    const text = typeof q === 'string' ? q : (q as { query?: string } | undefined)?.query;
    if (text) out.push({ source: `variable ${v.name}`, datasourceUid: v.datasource?.uid, expr: templatingExpr(text) });
  }
  return out;
}

interface Panel {
  title?: string;
  datasource?: { uid?: string };
  targets?: { refId?: string; expr?: string; rawSql?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

/** label_values(metric{...}, label) / query_result(expr) -> the PromQL inside. */
function templatingExpr(query: string): string {
  const lv = /^\s*label_values\((.*),\s*[A-Za-z_]\w*\s*\)\s*$/.exec(query);
  if (lv) return lv[1];
  const qr = /^\s*query_result\((.*)\)\s*$/.exec(query);
  if (qr) return qr[1];
  return query;
}
