-- 0001: the foundation — staff, sessions, one-time tokens, throttling, projects, tickets,
-- comments and the ticket timeline. Times are Unix seconds (UTC); booleans are 0/1.

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Only the SHA-256 of a session id is stored: a copy of the database signs nobody in.
CREATE TABLE staff_sessions (
    id_hash      BLOB    PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

-- One-time tokens (setup now; invitations, magic links, resets later), stored hashed.
CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    subject_id INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_kind ON tokens(kind);

-- Throttling: one row per counted event (a failed sign-in, a submission), by scope key.
CREATE TABLE throttle_events (
    id    INTEGER PRIMARY KEY,
    scope TEXT    NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX throttle_events_scope_at ON throttle_events(scope, at);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    archived    INTEGER NOT NULL DEFAULT 0,
    next_number INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    number          INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'pending', 'awaiting_reply', 'on_hold', 'resolved', 'closed')),
    priority        TEXT    NOT NULL DEFAULT 'normal'
                    CHECK (priority IN ('low', 'normal', 'high', 'urgent', 'critical')),
    assignee_id     INTEGER REFERENCES staff(id),
    source          TEXT    NOT NULL CHECK (source IN ('share', 'portal', 'staff', 'api')),
    requester_name  TEXT,
    requester_email TEXT,
    created_by      INTEGER REFERENCES staff(id),
    expected_by     TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (project_id, number)
);
-- The inbox sorts by last update, optionally within one filter.
CREATE INDEX tickets_updated ON tickets(updated_at DESC, id DESC);
CREATE INDEX tickets_project_updated ON tickets(project_id, updated_at DESC, id DESC);
CREATE INDEX tickets_status_updated ON tickets(status, updated_at DESC, id DESC);
CREATE INDEX tickets_assignee_updated ON tickets(assignee_id, updated_at DESC, id DESC);

-- Tickets per project and status, kept by triggers: the inbox shows counts per status on every
-- view, and counting 10,000 index entries per page view costs more than the rest of the page.
CREATE TABLE ticket_counts (
    project_id INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (project_id, status)
) WITHOUT ROWID;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts (project_id, status, n) VALUES (NEW.project_id, NEW.status, 1)
    ON CONFLICT (project_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE project_id = OLD.project_id AND status = OLD.status;
END;

CREATE TRIGGER ticket_counts_update AFTER UPDATE OF project_id, status ON tickets
WHEN OLD.project_id IS NOT NEW.project_id OR OLD.status IS NOT NEW.status BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE project_id = OLD.project_id AND status = OLD.status;
    INSERT INTO ticket_counts (project_id, status, n) VALUES (NEW.project_id, NEW.status, 1)
    ON CONFLICT (project_id, status) DO UPDATE SET n = n + 1;
END;

-- Replies and notes. `visibility` is the one column that decides whether a client sees it.
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author_staff_id INTEGER REFERENCES staff(id),
    author_name TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    visibility  TEXT    NOT NULL CHECK (visibility IN ('public', 'internal')),
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_ticket ON comments(ticket_id, created_at, id);

-- Field changes: the timeline and the audit trail.
CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    actor_staff_id INTEGER REFERENCES staff(id),
    actor_name TEXT    NOT NULL,
    field      TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, created_at, id);
