-- Issue #18: each recorded verdict says how well its window's operating conditions were covered (regime,
-- coverage, hasBaseline, unfamiliar). NULL for decisions of model versions without a coverage model and for
-- AnomalyDetected v1 events (upcast to null); nothing stored is rewritten.
ALTER TABLE anomaly_results ADD COLUMN operating_conditions JSONB;
