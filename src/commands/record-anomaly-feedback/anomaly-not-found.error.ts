/** The anomaly id names no recorded AnomalyDetected (the controller answers 404). */
export class AnomalyNotFoundError extends Error {
  constructor(readonly anomalyId: string) {
    super(`no anomaly ${anomalyId}`);
    this.name = 'AnomalyNotFoundError';
  }
}
