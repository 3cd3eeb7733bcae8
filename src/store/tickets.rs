//! Tickets: the inbox queries, one ticket by reference, inserts and field changes.
//!
//! A field change writes the new value and a `ticket_events` row in the same transaction, so the
//! timeline can never disagree with the ticket.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use crate::domain::{
    ContactId, CustomerId, PortalId, Priority, ProjectId, Source, StaffId, Status, TicketId,
};
use crate::error::Result;
use crate::store::paging::{self, Key, Page, Seek, keyset};
use crate::store::search::Plan;
use crate::store::{Conn, Context, Reader, Tx, projects, search, timeline};

/// A ticket as the inbox lists it. Labels and the formatted date ride along so the template
/// needs no filter calls per row (the inbox renders 50 rows per view). `Hash` keys the cache of
/// rendered rows (`web::fragments`).
#[derive(Debug, Clone, Serialize, Hash)]
pub struct TicketRow {
    pub id: TicketId,
    pub reference: String,
    pub project_name: String,
    pub subject: String,
    pub status: Status,
    pub status_label: &'static str,
    pub priority: Priority,
    pub priority_label: &'static str,
    pub source: Source,
    pub source_label: &'static str,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub assignee_name: Option<String>,
    pub expected_by: Option<String>,
    /// Shown on the project's shared board.
    pub shared: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// `updated_at` as shown ("2026-11-23 14:05 UTC").
    pub updated: String,
}

/// One ticket with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub id: TicketId,
    pub reference: String,
    pub project_id: ProjectId,
    pub project_key: String,
    pub project_name: String,
    pub number: i64,
    pub subject: String,
    pub body: String,
    pub status: Status,
    pub priority: Priority,
    pub source: Source,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub assignee_id: Option<StaffId>,
    pub assignee_name: Option<String>,
    pub expected_by: Option<String>,
    /// Shown on the project's shared board.
    pub shared: bool,
    /// What board visitors see instead of the subject, when set.
    pub public_title: Option<String>,
    /// Whether the requester has a receipt page (the ticket came through the share link).
    pub has_receipt: bool,
    /// Whether the requester still wants email about it (they can unsubscribe).
    pub requester_notify: bool,
    /// The portal it was opened in, by which contact, for which customer (portal tickets).
    pub portal_id: Option<PortalId>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Who a ticket is assigned to, as an inbox filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    Staff(StaffId),
}

/// The inbox filters; `None`/`Any` means "don't filter on this".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub project: Option<ProjectId>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: AssigneeFilter,
    /// A search of subject, public title and description (`store::search::plan`).
    pub search: Option<search::Plan>,
}

pub struct NewTicket<'a> {
    pub project_id: ProjectId,
    pub subject: &'a str,
    pub body: &'a str,
    pub priority: Priority,
    pub assignee_id: Option<StaffId>,
    pub source: Source,
    pub requester_name: Option<&'a str>,
    pub requester_email: Option<&'a str>,
    pub created_by: Option<StaffId>,
    /// Shown on the shared board from the start.
    pub shared: bool,
    /// The submitter's receipt token as stored (`Secret::key`: its SHA-256, led by its time for
    /// a timed token), for share-link submissions.
    pub receipt_hash: Option<&'a [u8]>,
    /// A portal ticket: the portal, the contact who asked, and their customer.
    pub portal: Option<PortalRequester>,
}

/// Who opened a portal ticket, and where.
#[derive(Debug, Clone, Copy)]
pub struct PortalRequester {
    pub portal: PortalId,
    pub contact: ContactId,
    pub customer: Option<CustomerId>,
}

/// The fields staff change from the ticket page.
#[derive(Debug, Clone)]
pub struct TicketUpdate {
    pub status: Status,
    pub priority: Priority,
    pub assignee_id: Option<StaffId>,
    pub expected_by: Option<String>,
}

const ROW_COLUMNS: &str =
    "t.id, p.key || '-' || t.number, p.name, t.subject, t.status, t.priority, t.source,
    t.requester_name, t.requester_email, a.name, t.expected_by, t.created_at, t.updated_at, t.shared";

const FROM: &str = "FROM tickets t JOIN projects p ON p.id = t.project_id LEFT JOIN staff a ON a.id = t.assignee_id";

/// What a row needs besides the ticket: its project and assignee.
const JOINS: &str =
    "JOIN projects p ON p.id = t.project_id LEFT JOIN staff a ON a.id = t.assignee_id";

// Enum columns are read as borrowed text (no allocation); the CHECK constraints in the schema
// keep them to known keys, and the fallbacks only guard against a hand-edited database.
fn status(row: &Row<'_>, i: usize) -> rusqlite::Result<Status> {
    Ok(Status::parse(row.get_ref(i)?.as_str()?).unwrap_or(Status::Open))
}

fn priority(row: &Row<'_>, i: usize) -> rusqlite::Result<Priority> {
    Ok(Priority::parse(row.get_ref(i)?.as_str()?).unwrap_or(Priority::Normal))
}

fn source(row: &Row<'_>, i: usize) -> rusqlite::Result<Source> {
    Ok(Source::parse(row.get_ref(i)?.as_str()?).unwrap_or(Source::Staff))
}

fn row_from(row: &Row<'_>) -> rusqlite::Result<TicketRow> {
    let (status, priority, source) = (status(row, 4)?, priority(row, 5)?, source(row, 6)?);
    let updated_at = row.get(12)?;
    Ok(TicketRow {
        id: TicketId(row.get(0)?),
        reference: row.get(1)?,
        project_name: row.get(2)?,
        subject: row.get(3)?,
        status,
        status_label: status.label(),
        priority,
        priority_label: priority.label(),
        source,
        source_label: source.label(),
        requester_name: row.get(7)?,
        requester_email: row.get(8)?,
        assignee_name: row.get(9)?,
        expected_by: row.get(10)?,
        shared: row.get(13)?,
        created_at: row.get(11)?,
        updated_at,
        updated: crate::clock::format_datetime(updated_at),
    })
}

/// The WHERE conditions for `filter` (values pushed onto `args`); the status filter is left
/// out when `with_status` is false (the per-status counts are taken over the other filters).
fn where_clause(filter: &TicketFilter, with_status: bool, args: &mut Vec<Value>) -> String {
    let mut clauses = Vec::new();
    if let Some(project) = filter.project {
        args.push(Value::Integer(project.0));
        clauses.push(format!("t.project_id = ?{}", args.len()));
    }
    if let (true, Some(status)) = (with_status, filter.status) {
        args.push(Value::Text(status.key().into()));
        clauses.push(format!("t.status = ?{}", args.len()));
    }
    if let Some(priority) = filter.priority {
        args.push(Value::Text(priority.key().into()));
        clauses.push(format!("t.priority = ?{}", args.len()));
    }
    match filter.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => clauses.push("t.assignee_id IS NULL".into()),
        AssigneeFilter::Staff(id) => {
            args.push(Value::Integer(id.0));
            clauses.push(format!("t.assignee_id = ?{}", args.len()));
        }
    }
    if clauses.is_empty() {
        "1".into()
    } else {
        clauses.join(" AND ")
    }
}

/// What a staff search walk tests on each ticket.
const SEARCHED: [&str; 3] = ["t.subject", "t.public_title", "t.body"];

/// One page of the inbox, most recently updated first (search hits: best-ranked first).
pub fn list(
    r: &impl Reader,
    filter: &TicketFilter,
    seek: Seek,
    limit: usize,
) -> Result<Page<TicketRow>> {
    if let Some(plan @ Plan::Walk { .. }) = &filter.search {
        return list_walked(r, filter, plan, seek, limit);
    }
    let mut args = Vec::new();
    let hits = filter.search.as_ref().and_then(|p| p.hits_cte(&mut args));
    let clause = where_clause(filter, true, &mut args);
    let rank = hits.as_ref().map(|_| "h.rank");
    let (position, order) = keyset(rank, "t.updated_at", "t.id", seek, &mut args);
    args.push(Value::Integer(limit as i64 + 1));
    // With few search hits the page is made from them (CROSS JOIN: hits first), never by
    // walking the inbox and asking about every ticket.
    let (with, from) = match &hits {
        Some(cte) => (
            format!("WITH {cte}"),
            format!("FROM hits h CROSS JOIN tickets t ON t.id = h.id {JOINS}"),
        ),
        None => (String::new(), FROM.to_string()),
    };
    let sql = format!(
        "{with} SELECT {ROW_COLUMNS}, {} {from} WHERE {clause} AND {position}
         ORDER BY {order} LIMIT ?{}",
        rank.unwrap_or("0"),
        args.len()
    );
    let run = || -> rusqlite::Result<Vec<(TicketRow, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                let ticket = row_from(row)?;
                let key = Key {
                    rank: row.get(14)?,
                    sort: ticket.updated_at,
                    id: ticket.id.0,
                };
                Ok((ticket, key))
            })?
            .collect()
    };
    let fetched = run().context(|| "listing the inbox".to_string())?;
    Ok(Page::from_fetched(fetched, limit, seek))
}

/// A page of a search with too many matches to rank: the inbox walked in its order, at most
/// `paging::WALK_BUDGET` tickets looked at (see `store::paging`).
fn list_walked(
    r: &impl Reader,
    filter: &TicketFilter,
    plan: &Plan,
    seek: Seek,
    limit: usize,
) -> Result<Page<TicketRow>> {
    let mut args = Vec::new();
    let clause = where_clause(filter, true, &mut args);
    let hit = plan
        .walk_condition(&SEARCHED, &mut args)
        .expect("a walk has a condition");
    let (position, order) = keyset(None, "t.updated_at", "t.id", seek, &mut args);
    args.push(Value::Integer(paging::WALK_BUDGET + 1));
    let sql = format!(
        "SELECT t.id, t.updated_at, {hit} FROM tickets t WHERE {clause} AND {position}
         ORDER BY {order} LIMIT ?{}",
        args.len()
    );
    let walked =
        paging::walk(r.conn(), &sql, args, limit).context(|| "searching the inbox".to_string())?;
    let fetched = rows_for(r, &walked.hits)?;
    Ok(Page::from_walk(fetched, limit, seek, &walked))
}

/// The inbox rows of the tickets at `keys`, in that order, each with its key (a ticket deleted
/// meanwhile is left out).
fn rows_for(r: &impl Reader, keys: &[Key]) -> Result<Vec<(TicketRow, Key)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; keys.len()].join(", ");
    let sql = format!("SELECT {ROW_COLUMNS} {FROM} WHERE t.id IN ({marks})");
    let run = || -> rusqlite::Result<Vec<TicketRow>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(keys.iter().map(|k| k.id)), row_from)?
            .collect()
    };
    let mut found: std::collections::HashMap<i64, TicketRow> = run()
        .context(|| "loading inbox rows".to_string())?
        .into_iter()
        .map(|row| (row.id.0, row))
        .collect();
    Ok(keys
        .iter()
        .filter_map(|k| found.remove(&k.id).map(|row| (row, *k)))
        .collect())
}

/// The tallies behind [`status_counts`] without a search (project, priority, assignee: `?1`–`?3`,
/// NULL for any), summed per status in Rust, not with GROUP BY: SQLite would build a temporary
/// b-tree for it on every call (measured: a tenth of the cost of an inbox page built afresh).
/// Public for the query-plan test.
pub const STATUS_TALLIES: &str = "SELECT status, n FROM ticket_tallies
     WHERE (?1 IS NULL OR project_id = ?1) AND (?2 IS NULL OR priority = ?2)
       AND (?3 IS NULL OR assignee_id = ?3)";

/// Ticket counts per status under every filter but the status one, in `Status::ALL` order;
/// `None` when a search matches too many to count (`store::search::FEW`). Without a search they
/// are sums over the trigger-maintained `ticket_tallies`, whatever the other filters: no ticket
/// is counted on a page view.
pub fn status_counts(r: &impl Reader, filter: &TicketFilter) -> Result<Option<Vec<(Status, i64)>>> {
    let mut args = Vec::new();
    let sql = match &filter.search {
        None => {
            args.push(filter.project.map_or(Value::Null, |p| Value::Integer(p.0)));
            args.push(
                filter
                    .priority
                    .map_or(Value::Null, |p| Value::Text(p.key().into())),
            );
            args.push(match filter.assignee {
                AssigneeFilter::Any => Value::Null,
                AssigneeFilter::Unassigned => Value::Integer(0),
                AssigneeFilter::Staff(id) => Value::Integer(id.0),
            });
            STATUS_TALLIES.to_string()
        }
        // Staff searches are counted only when the index answers them.
        Some(plan) => match plan.hits_cte(&mut args) {
            Some(cte) => {
                let clause = where_clause(filter, false, &mut args);
                format!(
                    "WITH {cte} SELECT t.status, COUNT(*) FROM hits h JOIN tickets t ON t.id = h.id
                     WHERE {clause} GROUP BY t.status"
                )
            }
            None => return Ok(None),
        },
    };
    let run = || -> rusqlite::Result<Vec<(Status, i64)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                Ok((status(row, 0)?, row.get::<_, i64>(1)?))
            })?
            .collect()
    };
    let found = run().context(|| "counting tickets by status".to_string())?;
    Ok(Some(
        Status::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    found.iter().filter(|(f, _)| f == s).map(|(_, n)| *n).sum(),
                )
            })
            .collect(),
    ))
}

/// The columns of a [`Ticket`], in `ticket_from` order.
const TICKET_COLUMNS: &str =
    "t.id, p.key || '-' || t.number, t.project_id, p.key, p.name, t.number, t.subject, t.body,
    t.status, t.priority, t.source, t.requester_name, t.requester_email, t.assignee_id, a.name,
    t.expected_by, t.created_at, t.updated_at, t.shared, t.public_title,
    EXISTS (SELECT 1 FROM ticket_tokens k WHERE k.ticket_id = t.id AND k.kind = 'receipt'),
    t.requester_notify, t.portal_id, t.contact_id,
    (SELECT name FROM contacts WHERE id = t.contact_id), t.customer_id,
    (SELECT name FROM customers WHERE id = t.customer_id)";

fn ticket_from(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    Ok(Ticket {
        id: TicketId(row.get(0)?),
        reference: row.get(1)?,
        project_id: ProjectId(row.get(2)?),
        project_key: row.get(3)?,
        project_name: row.get(4)?,
        number: row.get(5)?,
        subject: row.get(6)?,
        body: row.get(7)?,
        status: status(row, 8)?,
        priority: priority(row, 9)?,
        source: source(row, 10)?,
        requester_name: row.get(11)?,
        requester_email: row.get(12)?,
        assignee_id: row.get::<_, Option<i64>>(13)?.map(StaffId),
        assignee_name: row.get(14)?,
        expected_by: row.get(15)?,
        shared: row.get(18)?,
        public_title: row.get(19)?,
        has_receipt: row.get(20)?,
        requester_notify: row.get(21)?,
        portal_id: row.get::<_, Option<i64>>(22)?.map(PortalId),
        contact_id: row.get::<_, Option<i64>>(23)?.map(ContactId),
        contact_name: row.get(24)?,
        customer_id: row.get::<_, Option<i64>>(25)?.map(CustomerId),
        customer_name: row.get(26)?,
        created_at: row.get(16)?,
        updated_at: row.get(17)?,
    })
}

/// The ticket `KEY-number`, or `None`. This is the staff read path (staff see every ticket);
/// outside actors read through their own scoped queries (`store::share`).
pub fn get_by_ref(r: &impl Reader, key: &str, number: i64) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} {FROM} WHERE p.key = ?1 AND t.number = ?2");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params![key, number], ticket_from).optional())
        .context(|| format!("loading ticket {key}-{number}"))
}

/// The ticket with row id `id` (staff read path, like [`get_by_ref`]).
pub fn get(r: &impl Reader, id: TicketId) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} {FROM} WHERE t.id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], ticket_from).optional())
        .context(|| format!("loading ticket id {id}"))
}

/// Inserts a ticket with the project's next number; returns its id and number.
pub fn insert(tx: &Tx<'_>, new: &NewTicket<'_>) -> Result<(TicketId, i64)> {
    insert_as_of(tx, new, Status::Open, tx.now, tx.now)
}

/// [`insert`] with a given status and times — for seeding the demo, whose history is made up.
/// Never used for real tickets.
pub fn insert_as_of(
    tx: &Tx<'_>,
    new: &NewTicket<'_>,
    status: Status,
    created_at: i64,
    updated_at: i64,
) -> Result<(TicketId, i64)> {
    let number = projects::take_next_number(tx, new.project_id)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO tickets (project_id, number, subject, body, status, priority, assignee_id, source,
                                  requester_name, requester_email, created_by, shared,
                                  created_at, updated_at, public_updated_at,
                                  portal_id, contact_id, customer_id)
             VALUES (?1, ?2, ?3, ?4, ?13, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?14, ?15, ?16, ?17)",
        )
        .and_then(|mut s| {
            s.execute(params![
                new.project_id.0,
                number,
                new.subject.trim(),
                new.body,
                new.priority.key(),
                new.assignee_id.map(|a| a.0),
                new.source.key(),
                new.requester_name,
                new.requester_email,
                new.created_by.map(|a| a.0),
                new.shared,
                created_at,
                status.key(),
                updated_at,
                new.portal.map(|p| p.portal.0),
                new.portal.map(|p| p.contact.0),
                new.portal.and_then(|p| p.customer.map(|c| c.0)),
            ])
        })
        .context(|| format!("inserting ticket {number} in project {}", new.project_id))?;
    let id = TicketId(tx.conn.last_insert_rowid());
    if let Some(hash) = new.receipt_hash {
        crate::store::share::add_receipt_token(tx, id, hash)?;
    }
    Ok((id, number))
}

/// A client answered: a ticket that was *Awaiting Reply* goes back to *Open*, on the timeline as
/// the client's doing. Returns whether the status changed.
pub fn reopen_on_client_reply(
    tx: &Tx<'_>,
    id: TicketId,
    actor: &timeline::Actor<'_>,
) -> Result<bool> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE tickets SET status = 'open', updated_at = ?2, public_updated_at = ?2
             WHERE id = ?1 AND status = 'awaiting_reply'",
        )
        .and_then(|mut s| s.execute(params![id.0, tx.now]))
        .context(|| format!("reopening ticket id {id}"))?;
    if changed > 0 {
        timeline::insert_event(
            tx,
            id,
            actor,
            "status",
            Some(Status::AwaitingReply.label()),
            Some(Status::Open.label()),
        )?;
    }
    Ok(changed > 0)
}

/// A client closes or reopens their ticket: the status changes, on the timeline as their doing.
/// Returns whether it changed (`from` must still be the status, so a double submit is a no-op).
pub fn set_status_by_client(
    tx: &Tx<'_>,
    id: TicketId,
    from: Status,
    to: Status,
    actor: &timeline::Actor<'_>,
) -> Result<bool> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE tickets SET status = ?3, updated_at = ?4, public_updated_at = ?4
             WHERE id = ?1 AND status = ?2",
        )
        .and_then(|mut s| s.execute(params![id.0, from.key(), to.key(), tx.now]))
        .context(|| format!("changing the status of ticket id {id}"))?;
    if changed > 0 {
        timeline::insert_event(
            tx,
            id,
            actor,
            "status",
            Some(from.label()),
            Some(to.label()),
        )?;
    }
    Ok(changed > 0)
}

/// Marks a ticket as just updated (a reply or note was added). `public` also moves the date
/// board visitors see — for changes they can see, never for internal notes.
pub fn touch(tx: &Tx<'_>, id: TicketId, public: bool) -> Result<()> {
    tx.conn
        .prepare_cached(
            "UPDATE tickets SET updated_at = ?2, public_updated_at = CASE WHEN ?3 THEN ?2 ELSE public_updated_at END
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, tx.now, public]))
        .context(|| format!("marking ticket id {id} updated"))?;
    Ok(())
}

/// Shows or hides a ticket on the shared board and sets its public title, recording the
/// changes on the timeline. Returns how many of the two changed.
pub fn set_sharing(
    tx: &Tx<'_>,
    ticket: &Ticket,
    shared: bool,
    public_title: Option<&str>,
    actor: &timeline::Actor<'_>,
) -> Result<usize> {
    let mut changed = 0;
    if shared != ticket.shared {
        let (old, new) = if shared {
            ("hidden", "shown")
        } else {
            ("shown", "hidden")
        };
        timeline::insert_event(tx, ticket.id, actor, "shared", Some(old), Some(new))?;
        changed += 1;
    }
    if public_title != ticket.public_title.as_deref() {
        timeline::insert_event(
            tx,
            ticket.id,
            actor,
            "public_title",
            ticket.public_title.as_deref(),
            public_title,
        )?;
        changed += 1;
    }
    if changed > 0 {
        tx.conn
            .execute(
                "UPDATE tickets SET shared = ?2, public_title = ?3, updated_at = ?4, public_updated_at = ?4 WHERE id = ?1",
                params![ticket.id.0, shared, public_title, tx.now],
            )
            .context(|| format!("updating the sharing of ticket {}", ticket.reference))?;
    }
    Ok(changed)
}

/// Applies `update` to `ticket`, recording one timeline event per changed field. Returns how
/// many fields changed (0 leaves the ticket untouched).
pub fn update(
    tx: &Tx<'_>,
    ticket: &Ticket,
    update: &TicketUpdate,
    actor: &timeline::Actor<'_>,
) -> Result<usize> {
    let mut changes: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
    if update.status != ticket.status {
        changes.push((
            "status",
            Some(ticket.status.label().into()),
            Some(update.status.label().into()),
        ));
    }
    if update.priority != ticket.priority {
        changes.push((
            "priority",
            Some(ticket.priority.label().into()),
            Some(update.priority.label().into()),
        ));
    }
    if update.assignee_id != ticket.assignee_id {
        let new_name = match update.assignee_id {
            Some(id) => crate::store::staff::get(tx, id)?.map(|s| s.name),
            None => None,
        };
        changes.push(("assignee", ticket.assignee_name.clone(), new_name));
    }
    if update.expected_by != ticket.expected_by {
        changes.push((
            "expected_by",
            ticket.expected_by.clone(),
            update.expected_by.clone(),
        ));
    }
    if changes.is_empty() {
        return Ok(0);
    }
    // Status and the expected-by date are on the board; priority and assignee are not.
    let visible = update.status != ticket.status || update.expected_by != ticket.expected_by;
    tx.conn
        .execute(
            "UPDATE tickets SET status = ?2, priority = ?3, assignee_id = ?4, expected_by = ?5, updated_at = ?6,
                    public_updated_at = CASE WHEN ?7 THEN ?6 ELSE public_updated_at END
             WHERE id = ?1",
            params![
                ticket.id.0,
                update.status.key(),
                update.priority.key(),
                update.assignee_id.map(|a| a.0),
                update.expected_by,
                tx.now,
                visible
            ],
        )
        .context(|| format!("updating ticket {}", ticket.reference))?;
    for (field, old, new) in &changes {
        timeline::insert_event(tx, ticket.id, actor, field, old.as_deref(), new.as_deref())?;
    }
    Ok(changes.len())
}
