-- 0007: files on tickets and replies. The bytes live once under data/files/{sha256}, written and
-- fsynced before the row that names them commits; a row belongs to its ticket's description
-- (`comment_id` NULL) or to one comment, and is internal exactly when that comment is a note.

CREATE TABLE attachments (
    id                  INTEGER PRIMARY KEY,
    ticket_id           INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    comment_id          INTEGER REFERENCES comments(id) ON DELETE CASCADE,
    sha256              TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    size                INTEGER NOT NULL,
    -- Judged by the bytes when stored, never by the name or what the client claimed.
    content_type        TEXT    NOT NULL,
    -- A PNG, JPEG, GIF or WebP (by its bytes): shown inline, as a thumbnail.
    inline_image        INTEGER NOT NULL DEFAULT 0,
    internal            INTEGER NOT NULL DEFAULT 0,
    uploaded_by_staff   INTEGER REFERENCES staff(id),
    uploaded_by_contact INTEGER REFERENCES contacts(id),
    created_at          INTEGER NOT NULL
);
CREATE INDEX attachments_ticket ON attachments(ticket_id, id);
CREATE INDEX attachments_sha ON attachments(sha256);

-- A project's link may let visitors attach screenshots (images only; off unless staff say so).
ALTER TABLE projects ADD COLUMN share_attachments INTEGER NOT NULL DEFAULT 0;
