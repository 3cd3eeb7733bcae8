-- Search indexing once per commit instead of once per write.
--
-- Every write runs in a savepoint of its group's transaction (store/writer.rs), and FTS5 writes
-- out its pending terms as a new segment whenever a savepoint opens: indexing from the triggers
-- made one segment per ticket written, in both indexes, and the merges that follow. Measured on
-- 2 cores, indexing was a third of the cost of a durable create.
--
-- Now the triggers only note which tickets changed (`search_pending`); the writer indexes those
-- tickets, from their rows as they stand, just before the group's COMMIT
-- (`store::search::index_pending`). The index is still updated in the same transaction as the
-- ticket — a reader never sees one without the other — and `search_pending` is empty in every
-- state the writer commits. A change made outside it (the sqlite3 shell, a migration) is indexed
-- within a second by the background thread (`Db::index_leftovers`), by the writer's next commit,
-- or at the next start, whichever comes first.
CREATE TABLE search_pending (
    ticket_id INTEGER PRIMARY KEY,
    -- Not in the indexes yet (inserted in this transaction): nothing to delete before indexing.
    fresh INTEGER NOT NULL,
    -- Subject, public title or board text changed.
    titles INTEGER NOT NULL,
    -- Description changed.
    body INTEGER NOT NULL
);

DROP TRIGGER ticket_titles_insert;
DROP TRIGGER ticket_bodies_insert;
DROP TRIGGER ticket_search_delete;
DROP TRIGGER ticket_titles_update;
DROP TRIGGER ticket_bodies_update;

-- A bulk load (`search_backlog`) still leaves its tickets to the one pass at its end.
CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    INSERT INTO search_pending (ticket_id, fresh, titles, body) VALUES (NEW.id, 1, 1, 1)
    ON CONFLICT (ticket_id) DO UPDATE SET titles = 1, body = 1;
END;

CREATE TRIGGER ticket_titles_update AFTER UPDATE OF subject, public_title, shared, project_id
ON tickets
WHEN (OLD.subject IS NOT NEW.subject OR OLD.public_title IS NOT NEW.public_title
      OR OLD.board_doc IS NOT NEW.board_doc)
 AND NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    INSERT INTO search_pending (ticket_id, fresh, titles, body) VALUES (NEW.id, 0, 1, 0)
    ON CONFLICT (ticket_id) DO UPDATE SET titles = 1;
END;

CREATE TRIGGER ticket_bodies_update AFTER UPDATE OF body ON tickets
WHEN OLD.body IS NOT NEW.body
 AND NOT EXISTS (SELECT 1 FROM search_backlog WHERE NEW.id > from_id) BEGIN
    INSERT INTO search_pending (ticket_id, fresh, titles, body) VALUES (NEW.id, 0, 0, 1)
    ON CONFLICT (ticket_id) DO UPDATE SET body = 1;
END;

-- A deleted ticket leaves the indexes at once (rare: nothing in the product deletes tickets).
CREATE TRIGGER ticket_search_delete AFTER DELETE ON tickets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog WHERE OLD.id > from_id) BEGIN
    DELETE FROM ticket_titles WHERE rowid = OLD.id
        AND NOT EXISTS (SELECT 1 FROM search_pending WHERE ticket_id = OLD.id AND fresh);
    DELETE FROM ticket_bodies WHERE rowid = OLD.id
        AND NOT EXISTS (SELECT 1 FROM search_pending WHERE ticket_id = OLD.id AND fresh);
    DELETE FROM search_pending WHERE ticket_id = OLD.id;
END;
