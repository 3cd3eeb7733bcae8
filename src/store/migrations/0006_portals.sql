-- 0006: signed-in portals — organisations, customers, contacts (portal accounts), portals, their
-- sessions, and which portal, contact and customer a ticket belongs to.

CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    organization_id INTEGER REFERENCES organizations(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX customers_organization ON customers(organization_id);

-- Email domains whose owners may sign up as the customer's contacts ("Customer signup"). A domain
-- belongs to one customer at most.
CREATE TABLE customer_domains (
    domain      TEXT    NOT NULL COLLATE NOCASE PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_domains_customer ON customer_domains(customer_id);

-- A portal: its own address, branding (NULL/'' = the workspace's), registration modes and the
-- project its new tickets go to.
CREATE TABLE portals (
    id                 INTEGER PRIMARY KEY,
    slug               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL,
    enabled            INTEGER NOT NULL DEFAULT 0,
    accent_color       TEXT,
    logo               TEXT,
    welcome            TEXT    NOT NULL DEFAULT '',
    response_time      TEXT    NOT NULL DEFAULT '',
    allow_invites      INTEGER NOT NULL DEFAULT 1,
    customer_signup    INTEGER NOT NULL DEFAULT 0,
    open_registration  INTEGER NOT NULL DEFAULT 0,
    default_project_id INTEGER REFERENCES projects(id),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- Slugs a portal had before: their addresses keep redirecting to the current one.
CREATE TABLE portal_old_slugs (
    slug      TEXT    NOT NULL PRIMARY KEY,
    portal_id INTEGER NOT NULL REFERENCES portals(id) ON DELETE CASCADE
) WITHOUT ROWID;

-- Which customers' contacts may use which portal.
CREATE TABLE portal_customers (
    portal_id   INTEGER NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    PRIMARY KEY (portal_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX portal_customers_customer ON portal_customers(customer_id);

-- Portal accounts. `portal_id` is the portal they joined through (a contact without a customer
-- reaches that one only); `password_hash` is NULL for magic-link-only accounts.
CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name           TEXT    NOT NULL,
    customer_id    INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    portal_id      INTEGER REFERENCES portals(id) ON DELETE SET NULL,
    password_hash  TEXT,
    role           TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'manager')),
    label          TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'invited' CHECK (status IN ('active', 'disabled', 'invited')),
    avatar         TEXT,
    notify_replies INTEGER NOT NULL DEFAULT 1,
    notify_status  INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX contacts_customer ON contacts(customer_id, id);
CREATE INDEX contacts_created ON contacts(created_at DESC, id DESC);

-- Contact sessions: their own table and cookie, never a staff session.
CREATE TABLE contact_sessions (
    id_hash      BLOB    PRIMARY KEY,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contact_sessions_contact ON contact_sessions(contact_id);

-- Signups waiting for their address to be confirmed: nothing else exists until the link in the
-- email is used (then the contact is made), so an unconfirmed signup holds no address.
CREATE TABLE signups (
    hash        BLOB    PRIMARY KEY,
    portal_id   INTEGER NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    email       TEXT    NOT NULL COLLATE NOCASE,
    name        TEXT    NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signups_email ON signups(email, portal_id);

-- A one-time token valid in one portal only (magic links, invitations, resets).
ALTER TABLE tokens ADD COLUMN portal_id INTEGER;
CREATE INDEX tokens_subject ON tokens(subject_id, kind);

-- Which portal a ticket was opened in, by which contact, for which customer (copied from the
-- contact when the ticket is made, so "my company's tickets" is one indexed range).
ALTER TABLE tickets ADD COLUMN portal_id INTEGER REFERENCES portals(id);
ALTER TABLE tickets ADD COLUMN contact_id INTEGER REFERENCES contacts(id);
ALTER TABLE tickets ADD COLUMN customer_id INTEGER REFERENCES customers(id);
CREATE INDEX tickets_portal_contact ON tickets(portal_id, contact_id, updated_at DESC, id DESC)
    WHERE portal_id IS NOT NULL;
CREATE INDEX tickets_portal_customer ON tickets(portal_id, customer_id, updated_at DESC, id DESC)
    WHERE portal_id IS NOT NULL;
CREATE INDEX tickets_customer ON tickets(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX tickets_contact ON tickets(contact_id) WHERE contact_id IS NOT NULL;

ALTER TABLE comments ADD COLUMN author_contact_id INTEGER REFERENCES contacts(id);

-- Portal tickets per portal × customer × contact × status, kept by triggers in the ticket's own
-- transaction: the dashboard and the portal's status tabs are sums over a few rows, not counts.
CREATE TABLE portal_tallies (
    portal_id   INTEGER NOT NULL,
    customer_id INTEGER NOT NULL, -- 0: none
    contact_id  INTEGER NOT NULL, -- 0: none
    status      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (portal_id, contact_id, customer_id, status)
) WITHOUT ROWID;
CREATE INDEX portal_tallies_customer ON portal_tallies(portal_id, customer_id);

CREATE TRIGGER portal_tallies_insert AFTER INSERT ON tickets WHEN NEW.portal_id IS NOT NULL BEGIN
    INSERT INTO portal_tallies (portal_id, customer_id, contact_id, status, n)
    VALUES (NEW.portal_id, COALESCE(NEW.customer_id, 0), COALESCE(NEW.contact_id, 0), NEW.status, 1)
    ON CONFLICT (portal_id, contact_id, customer_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER portal_tallies_delete AFTER DELETE ON tickets WHEN OLD.portal_id IS NOT NULL BEGIN
    UPDATE portal_tallies SET n = n - 1
    WHERE portal_id = OLD.portal_id AND customer_id = COALESCE(OLD.customer_id, 0)
      AND contact_id = COALESCE(OLD.contact_id, 0) AND status = OLD.status;
END;

CREATE TRIGGER portal_tallies_update AFTER UPDATE OF portal_id, customer_id, contact_id, status ON tickets
WHEN OLD.portal_id IS NOT NEW.portal_id OR OLD.customer_id IS NOT NEW.customer_id
  OR OLD.contact_id IS NOT NEW.contact_id OR OLD.status IS NOT NEW.status BEGIN
    UPDATE portal_tallies SET n = n - 1
    WHERE OLD.portal_id IS NOT NULL AND portal_id = OLD.portal_id
      AND customer_id = COALESCE(OLD.customer_id, 0) AND contact_id = COALESCE(OLD.contact_id, 0)
      AND status = OLD.status;
    INSERT INTO portal_tallies (portal_id, customer_id, contact_id, status, n)
    SELECT NEW.portal_id, COALESCE(NEW.customer_id, 0), COALESCE(NEW.contact_id, 0), NEW.status, 1
    WHERE NEW.portal_id IS NOT NULL
    ON CONFLICT (portal_id, contact_id, customer_id, status) DO UPDATE SET n = n + 1;
END;
