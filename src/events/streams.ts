/** Stream naming, in one place: category prefix + id. */
export const streams = {
  readings: (systemId: string) => `readings-${systemId}`,
  /** Quarantined rows that carry no usable system id. */
  unassignedQuarantine: 'readings-_unassigned',
  anomalies: (systemId: string) => `anomalies-${systemId}`,
  /** per-equipment healthy baselines (BaselineEstablished) */
  baselines: (systemId: string) => `baselines-${systemId}`,
  analysis: (analysisId: string) => `analysis-${analysisId}`,
  models: 'models',
} as const;

export const categories = {
  readings: 'readings-',
  anomalies: 'anomalies-',
  analysis: 'analysis-',
} as const;

export function systemIdOfStream(streamId: string): string | undefined {
  const match = /^(?:readings|anomalies)-(.+)$/.exec(streamId);
  return match && match[1] !== '_unassigned' ? match[1] : undefined;
}
