const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const short = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function utc(iso: string): string {
  return `${new Date(iso).toISOString().replace('.000Z', 'Z')} (UTC)`;
}

/** A time in the browser's zone; UTC on hover. */
export function Time({ iso, compact }: { iso: string | null | undefined; compact?: boolean }) {
  if (!iso) return <span class="muted">–</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={utc(iso)}>
      {(compact ? short : local).format(d)}
    </time>
  );
}

export const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const COMPONENTS = ['cooler', 'valve', 'pump', 'accumulator'] as const;
export const SEVERITY_COLOR: Record<string, string> = {
  ok: '#3c9d5d',
  none: '#3c9d5d',
  low: '#e9b949',
  medium: '#f08a4b',
  high: '#d64545',
  critical: '#8b1e3f',
};
export const COMPONENT_COLOR: Record<string, string> = {
  cooler: '#2b7bb9',
  valve: '#8e6ac8',
  pump: '#2a9d8f',
  accumulator: '#c77d2e',
  unattributed: '#8a8f98',
};

export function Severity({ value }: { value: string }) {
  return <span class={`sev sev-${value}`}>{value === 'none' ? 'ok' : value}</span>;
}

/** Readings older than this are flagged stale on the overview. */
export const STALE_MS = 10 * 60_000;
