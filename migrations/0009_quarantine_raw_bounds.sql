-- Issue #20: a quarantined row keeps at most 4 KiB of its text; the whole text's size and hash say what it was.
-- Rows projected before this migration hold their raw input whole (raw_bytes/raw_sha256 NULL until a rebuild).
ALTER TABLE quarantined_rows ADD COLUMN raw_bytes INTEGER;
ALTER TABLE quarantined_rows ADD COLUMN raw_sha256 TEXT;
ALTER TABLE quarantined_rows ADD COLUMN raw_truncated BOOLEAN NOT NULL DEFAULT false;
