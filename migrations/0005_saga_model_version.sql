-- The model version the inference saga scores with, as of its checkpoint: set by ModelVersionPromoted events in
-- log order, so a restart (or a replay) scores every window with the version that was active at that point.
CREATE TABLE inference_saga_model (
  name          TEXT PRIMARY KEY,
  model_version TEXT NOT NULL
);
