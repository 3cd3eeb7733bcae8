-- 0008: module permissions (seed 002). Levels: off, view, comment, create, full. Ticket
-- visibility: own, customer, organization. A portal has defaults; a contact's non-NULL column
-- overrides the portal's (NULL: inherit).

ALTER TABLE portals ADD COLUMN tickets_level TEXT NOT NULL DEFAULT 'create'
    CHECK (tickets_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE portals ADD COLUMN projects_level TEXT NOT NULL DEFAULT 'view'
    CHECK (projects_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE portals ADD COLUMN pages_level TEXT NOT NULL DEFAULT 'view'
    CHECK (pages_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE portals ADD COLUMN ticket_visibility TEXT NOT NULL DEFAULT 'own'
    CHECK (ticket_visibility IN ('own', 'customer', 'organization'));

ALTER TABLE contacts ADD COLUMN tickets_level TEXT
    CHECK (tickets_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE contacts ADD COLUMN projects_level TEXT
    CHECK (projects_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE contacts ADD COLUMN pages_level TEXT
    CHECK (pages_level IN ('off', 'view', 'comment', 'create', 'full'));
ALTER TABLE contacts ADD COLUMN ticket_visibility TEXT
    CHECK (ticket_visibility IN ('own', 'customer', 'organization'));

-- Staff viewing a portal as a customer (seed 003): 15 minutes, read-only, hashed like every
-- session; the contact's own sessions are never touched.
CREATE TABLE view_as_sessions (
    id_hash     BLOB    PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    portal_id   INTEGER NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    -- NULL: as the customer's manager; else as this contact.
    contact_id  INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    -- The staff sign-in it was started from: signing out (or that session ending) ends it.
    staff_session_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- What admins can read back: who viewed as whom, and when it ended.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    staff_id   INTEGER REFERENCES staff(id) ON DELETE SET NULL,
    staff_name TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_created ON audit_log(created_at DESC, id DESC);
