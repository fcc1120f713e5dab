import type { paths } from './schema';

/**
 * Response bodies by path + method + status, never by component name: the names in components.schemas are
 * generated and may change (e.g. `__schemaN` → real names) without the contract changing.
 */
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;

export type SystemList = Json<'/api/v1/systems', 'get'>;
export type SystemItem = SystemList['items'][number];
export type SystemHealth = Json<'/api/v1/systems/{id}/health', 'get'>;
export type AnomalyTrend = Json<'/api/v1/systems/{id}/anomaly-trend', 'get'>;
export type AnomalySwimlane = Json<'/api/v1/systems/{id}/anomaly-swimlane', 'get'>;
export type AnomaliesPage = Json<'/api/v1/systems/{id}/anomalies', 'get'>;
export type AnomalyItem = AnomaliesPage['items'][number];
export type AnomalyDetail = Json<'/api/v1/anomalies/{id}', 'get'>;
export type Readings = Json<'/api/v1/systems/{id}/readings', 'get'>;
export type SensorCurves = Json<'/api/v1/systems/{id}/sensor-curves', 'get'>;
export type ModelVersionList = Json<'/api/v1/models', 'get'>;
export type ModelComparison = Json<'/api/v1/models/compare', 'get'>;
export type QuarantinePage = Json<'/api/v1/quarantine', 'get'>;
export type Verdict = NonNullable<AnomalyItem['feedback']>;
export type Severity = AnomalyItem['severity'];
export type AnomalyQuery = NonNullable<paths['/api/v1/systems/{id}/anomalies']['get']['parameters']['query']>;
