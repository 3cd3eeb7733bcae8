-- 0005: lists that stay flat at a million tickets.

-- Tickets counted by every inbox filter but search: project, status, priority and assignee
-- (0 = nobody), kept by triggers. Any combination of those filters is answered by summing a
-- few rows of this table instead of counting tickets. It replaces `ticket_counts`.
CREATE TABLE ticket_tallies (
    project_id  INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    priority    TEXT    NOT NULL,
    assignee_id INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (project_id, status, priority, assignee_id)
) WITHOUT ROWID;
INSERT INTO ticket_tallies (project_id, status, priority, assignee_id, n)
    SELECT project_id, status, priority, COALESCE(assignee_id, 0), COUNT(*)
    FROM tickets GROUP BY 1, 2, 3, 4;

DROP TRIGGER ticket_counts_insert;
DROP TRIGGER ticket_counts_delete;
DROP TRIGGER ticket_counts_update;
DROP TABLE ticket_counts;

CREATE TRIGGER ticket_tallies_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_tallies (project_id, status, priority, assignee_id, n)
    VALUES (NEW.project_id, NEW.status, NEW.priority, COALESCE(NEW.assignee_id, 0), 1)
    ON CONFLICT (project_id, status, priority, assignee_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_tallies_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_tallies SET n = n - 1
    WHERE project_id = OLD.project_id AND status = OLD.status AND priority = OLD.priority
      AND assignee_id = COALESCE(OLD.assignee_id, 0);
END;

CREATE TRIGGER ticket_tallies_update AFTER UPDATE OF project_id, status, priority, assignee_id ON tickets
WHEN OLD.project_id IS NOT NEW.project_id OR OLD.status IS NOT NEW.status
  OR OLD.priority IS NOT NEW.priority OR OLD.assignee_id IS NOT NEW.assignee_id BEGIN
    UPDATE ticket_tallies SET n = n - 1
    WHERE project_id = OLD.project_id AND status = OLD.status AND priority = OLD.priority
      AND assignee_id = COALESCE(OLD.assignee_id, 0);
    INSERT INTO ticket_tallies (project_id, status, priority, assignee_id, n)
    VALUES (NEW.project_id, NEW.status, NEW.priority, COALESCE(NEW.assignee_id, 0), 1)
    ON CONFLICT (project_id, status, priority, assignee_id) DO UPDATE SET n = n + 1;
END;

-- Search: FTS5 with the trigram tokenizer, so that any substring of three or more characters
-- matches, as the LIKE search before it did (and "checkout" finds "Checkout"). Contentless (the
-- text lives in `tickets` only) with deletes allowed, kept by triggers in the ticket's own
-- transaction. Titles and descriptions are indexed apart: the board searches titles only, and a
-- word common in descriptions must not make every title search read all of them. The public
-- title is indexed apart from the subject: the board searches the public title where there is
-- one and the subject only where there is none (`store::search`), so a hidden subject can never
-- be probed from outside.
--
-- The third column, `board`, holds what a share-link visitor may search — the title they see —
-- for shared tickets only, after a marker of the ticket's project: control characters that
-- encode its id between two \x01, which no search can contain (they are stripped from queries)
-- and no other project's marker contains. A board search is `{board}: "marker" AND {board}:
-- "phrase"`, so everything about it — how many match, how it runs — depends on that board
-- alone, never on tickets elsewhere (`store::search::plan_board`).
ALTER TABLE tickets ADD COLUMN board_doc TEXT GENERATED ALWAYS AS (
    CASE WHEN shared THEN
        char(1) || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
            CAST(project_id AS TEXT), '0', char(16)), '1', char(17)), '2', char(18)), '3', char(19)),
            '4', char(20)), '5', char(21)), '6', char(22)), '7', char(23)), '8', char(24)),
            '9', char(25))
        || char(1) || ' ' || COALESCE(public_title, subject)
    END
) VIRTUAL;
CREATE VIRTUAL TABLE ticket_titles USING fts5(
    subject, public_title, board,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE VIRTUAL TABLE ticket_bodies USING fts5(
    body,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
-- Merging: each write does a bounded piece of merge work once a level holds 16 segments (FTS5's
-- default is 4), and a level is merged whole only at 32. Measured at 1,000,000 tickets, durable
-- creates went from about 2,300/s to 4,500/s; searches read a few more segments, which measured
-- no slower. (`store::AUTOMERGE` puts this back after a bulk load.)
INSERT INTO ticket_titles (ticket_titles, rank) VALUES ('automerge', 16);
INSERT INTO ticket_titles (ticket_titles, rank) VALUES ('crisismerge', 32);
INSERT INTO ticket_bodies (ticket_bodies, rank) VALUES ('automerge', 16);
INSERT INTO ticket_bodies (ticket_bodies, rank) VALUES ('crisismerge', 32);
INSERT INTO ticket_titles (rowid, subject, public_title, board)
    SELECT id, subject, public_title, board_doc FROM tickets;
INSERT INTO ticket_bodies (rowid, body) SELECT id, body FROM tickets;

-- Tickets with an id above `from_id` are not in the search indexes yet: a bulk load (seeding the
-- demo) is writing them and indexes them in one pass at the end, or was killed and is finished
-- when the database is next opened (`Db::bulk_load`, `Store::open`). Empty otherwise, so the
-- triggers below index every change in its own transaction.
CREATE TABLE search_backlog (from_id INTEGER NOT NULL);

CREATE TRIGGER ticket_titles_insert AFTER INSERT ON tickets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    INSERT INTO ticket_titles (rowid, subject, public_title, board)
    VALUES (NEW.id, NEW.subject, NEW.public_title, NEW.board_doc);
END;

CREATE TRIGGER ticket_bodies_insert AFTER INSERT ON tickets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    INSERT INTO ticket_bodies (rowid, body) VALUES (NEW.id, NEW.body);
END;

CREATE TRIGGER ticket_search_delete AFTER DELETE ON tickets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog WHERE OLD.id > from_id) BEGIN
    DELETE FROM ticket_titles WHERE rowid = OLD.id;
    DELETE FROM ticket_bodies WHERE rowid = OLD.id;
END;

CREATE TRIGGER ticket_titles_update AFTER UPDATE OF subject, public_title, shared, project_id
ON tickets
WHEN (OLD.subject IS NOT NEW.subject OR OLD.public_title IS NOT NEW.public_title
      OR OLD.board_doc IS NOT NEW.board_doc)
 AND NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    DELETE FROM ticket_titles WHERE rowid = OLD.id;
    INSERT INTO ticket_titles (rowid, subject, public_title, board)
    VALUES (NEW.id, NEW.subject, NEW.public_title, NEW.board_doc);
END;

CREATE TRIGGER ticket_bodies_update AFTER UPDATE OF body ON tickets
WHEN OLD.body IS NOT NEW.body
 AND NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    DELETE FROM ticket_bodies WHERE rowid = OLD.id;
    INSERT INTO ticket_bodies (rowid, body) VALUES (NEW.id, NEW.body);
END;
