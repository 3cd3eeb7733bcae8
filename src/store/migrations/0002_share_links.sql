-- 0002: the shareable no-account link (seed 000), agency branding settings, and the mail outbox.

-- The link's token is kept in the clear: staff must be able to see and copy the full URL at any
-- time, and it grants no more than the board itself shows. Regenerating replaces it at once.
ALTER TABLE projects ADD COLUMN share_token TEXT;
ALTER TABLE projects ADD COLUMN share_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN share_submissions INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN share_auto_publish INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN share_welcome TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN share_response_time TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX projects_share_token ON projects(share_token) WHERE share_token IS NOT NULL;

-- `shared`: shown on the project's board. `public_title`: what visitors see instead of the
-- subject, when set. `receipt_hash`: SHA-256 of the submitter's receipt token.
-- `public_updated_at`: the last change a visitor can see (status, expected date, public reply,
-- public title); internal notes and assignments do not move it.
ALTER TABLE tickets ADD COLUMN shared INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN public_title TEXT;
ALTER TABLE tickets ADD COLUMN receipt_hash BLOB;
ALTER TABLE tickets ADD COLUMN public_updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET public_updated_at = updated_at;
CREATE UNIQUE INDEX tickets_receipt ON tickets(receipt_hash) WHERE receipt_hash IS NOT NULL;
CREATE INDEX tickets_board ON tickets(project_id, shared, public_updated_at DESC, id DESC);

-- Shared tickets per project and status, for the board's counts (kept like ticket_counts).
CREATE TABLE board_counts (
    project_id INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (project_id, status)
) WITHOUT ROWID;
INSERT INTO board_counts (project_id, status, n)
    SELECT project_id, status, COUNT(*) FROM tickets WHERE shared = 1 GROUP BY project_id, status;

CREATE TRIGGER board_counts_insert AFTER INSERT ON tickets WHEN NEW.shared = 1 BEGIN
    INSERT INTO board_counts (project_id, status, n) VALUES (NEW.project_id, NEW.status, 1)
    ON CONFLICT (project_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER board_counts_delete AFTER DELETE ON tickets WHEN OLD.shared = 1 BEGIN
    UPDATE board_counts SET n = n - 1 WHERE project_id = OLD.project_id AND status = OLD.status;
END;

CREATE TRIGGER board_counts_update AFTER UPDATE OF project_id, status, shared ON tickets
WHEN OLD.project_id IS NOT NEW.project_id OR OLD.status IS NOT NEW.status OR OLD.shared IS NOT NEW.shared BEGIN
    UPDATE board_counts SET n = n - 1
        WHERE OLD.shared = 1 AND project_id = OLD.project_id AND status = OLD.status;
    INSERT INTO board_counts (project_id, status, n)
        SELECT NEW.project_id, NEW.status, 1 WHERE NEW.shared = 1
    ON CONFLICT (project_id, status) DO UPDATE SET n = n + 1;
END;

-- Instance-wide settings edited in the web UI (agency name, accent colour, …).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every email is a row first; a background thread delivers it and retries with back-off.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    to_addr         TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
