-- 0003: hardening before the portals.

-- Throttling by counters per time bucket instead of one row per event: a check reads a handful
-- of rows whatever the limit. `last_at` is the time of the bucket's latest event: the bucket
-- counts until that event leaves the window. Events counted so far are dropped (at most a
-- running lockout is forgiven).
DROP TABLE throttle_events;
CREATE TABLE throttle_counts (
    scope   TEXT    NOT NULL,
    start   INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (scope, start)
) WITHOUT ROWID;
CREATE INDEX throttle_counts_start ON throttle_counts(start);

-- A project's shareable link may look different from the workspace: its own accent colour and
-- logo (`{sha256}.{ext}` under data/files). NULL: the workspace's branding applies.
ALTER TABLE projects ADD COLUMN share_accent_color TEXT;
ALTER TABLE projects ADD COLUMN share_logo TEXT;
