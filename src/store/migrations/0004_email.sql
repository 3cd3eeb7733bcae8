-- 0004: email that leaves the box, and a closed loop with share-link visitors.

-- The outbox, made trustworthy: a Message-ID fixed when the message is queued (a retry after an
-- unknown outcome is the same message), the Reply-To and one-click unsubscribe target it carries,
-- when delivery first failed (the staff banner) and when it was given up (`failed_at`).
ALTER TABLE outbox ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN unsubscribe_url TEXT;
ALTER TABLE outbox ADD COLUMN first_failed_at INTEGER;
ALTER TABLE outbox ADD COLUMN failed_at INTEGER;
-- The ticket a requester's notification is about: unsubscribing cancels what is still queued.
ALTER TABLE outbox ADD COLUMN ticket_id INTEGER;
-- 1 when the mail server refused a message for good (or its address is malformed): given up at
-- once. One such message is a bad address, not email being down (the staff banner waits for
-- several within an hour).
ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
-- 1 when the requester unsubscribed before it went: never sent, not even by "Retry now".
ALTER TABLE outbox ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET message_id = '<outbox-' || id || '-' || created_at || '@porchlight>';
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_given_up ON outbox(failed_at) WHERE failed_at IS NOT NULL;

-- Tokens for one ticket, stored hashed like every token: `receipt` links open its receipt page
-- (one per email to the requester, every link ever sent keeps working; the first is the
-- submission's own); `unsubscribe` links only stop email about it — they go into a mail header
-- that providers store and fetch, so they must open nothing else.
CREATE TABLE ticket_tokens (
    hash       BLOB    PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL DEFAULT 'receipt' CHECK (kind IN ('receipt', 'unsubscribe')),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ticket_tokens_ticket ON ticket_tokens(ticket_id);
INSERT INTO ticket_tokens (hash, ticket_id, created_at)
    SELECT receipt_hash, id, created_at FROM tickets WHERE receipt_hash IS NOT NULL;
DROP INDEX tickets_receipt;
ALTER TABLE tickets DROP COLUMN receipt_hash;

-- Whether the requester (a share-link visitor who gave an email) still wants email about it.
ALTER TABLE tickets ADD COLUMN requester_notify INTEGER NOT NULL DEFAULT 1;

-- What each staff member wants to be emailed about (their own choice, on /account).
ALTER TABLE staff ADD COLUMN notify_new_tickets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN notify_assigned_replies INTEGER NOT NULL DEFAULT 1;

-- New tickets from a project's link go to its default assignee, if it has one.
ALTER TABLE projects ADD COLUMN default_assignee_id INTEGER REFERENCES staff(id);
