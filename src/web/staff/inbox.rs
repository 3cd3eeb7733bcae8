//! The inbox (`/`): every ticket, most recently updated first, with filters by project, status,
//! priority and assignee, a subject search, counts per status and pagination.

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::Object;

use crate::view;
use rouille::Response;
use serde::Serialize;

use crate::domain::{Priority, StaffId, Status};
use crate::error::Result;
use crate::store::staff::Staff;
use crate::store::tickets::{AssigneeFilter, TicketFilter, TicketRow};
use crate::store::{self};
use crate::web::staff::url_with;
use crate::web::{Ctx, respond};
use crate::web::{fragments, listing};

/// Tickets per page.
pub const PAGE_SIZE: usize = 50;

/// The filters as they appear in the query string (kept as text to rebuild links).
#[derive(Debug, Default, Serialize)]
struct Query {
    project: String,
    status: String,
    priority: String,
    assignee: String,
    q: String,
}

impl Query {
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("project", self.project.clone()),
            ("status", self.status.clone()),
            ("priority", self.priority.clone()),
            ("assignee", self.assignee.clone()),
            ("q", self.q.clone()),
        ]
    }

    /// The URL of this query with one parameter replaced (and the page reset).
    fn with(&self, key: &str, value: &str) -> String {
        let params: Vec<_> = self
            .params()
            .into_iter()
            .map(|(k, v)| {
                if k == key {
                    (k, value.to_string())
                } else {
                    (k, v)
                }
            })
            .collect();
        url_with("/", &params)
    }
}

/// "Sam Agent" → "SA", "Ada" → "A": the assignee's badge on a one-line inbox row.
fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: Option<&&str>| w.and_then(|w| w.chars().next());
    let mut out: String = first(words.first()).into_iter().collect();
    if words.len() > 1 {
        out.extend(first(words.last()));
    }
    out.to_uppercase()
}

/// A row handed to the template as a lazy object: fields are converted only when the template
/// reads them. Why: serialising 50 rows into template maps up front, and freeing them after,
/// cost about a fifth of the inbox's CPU.
#[derive(Debug)]
struct RowView(TicketRow);

impl Object for RowView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let t = &self.0;
        let text = |s: &str| Value::from(s);
        let optional = |s: &Option<String>| s.as_deref().map_or(Value::from(()), Value::from);
        Some(match key {
            "reference" => text(&t.reference),
            "project_name" => text(&t.project_name),
            "subject" => text(&t.subject),
            "status" => text(t.status.key()),
            "status_label" => text(t.status_label),
            "priority" => text(t.priority.key()),
            "priority_label" => text(t.priority_label),
            "source" => text(t.source.key()),
            "source_label" => text(t.source_label),
            "requester_name" => optional(&t.requester_name),
            "requester_email" => optional(&t.requester_email),
            "assignee_name" => optional(&t.assignee_name),
            "expected_by" => optional(&t.expected_by),
            "shared" => Value::from(t.shared),
            "assignee_initials" => t
                .assignee_name
                .as_deref()
                .map_or(Value::from(()), |n| Value::from(initials(n))),
            "updated" => text(&t.updated),
            "updated_iso" => Value::from(crate::clock::iso(t.updated_at)),
            "updated_at" => Value::from(t.updated_at),
            "created_at" => Value::from(t.created_at),
            _ => return None,
        })
    }
}

pub fn list(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    // Everything the view depends on: who asks ("me" filters), the day (dates), the query.
    let params = ["project", "status", "priority", "assignee", "q", "at"].map(|k| ctx.query(k));
    let key = format!("{}|{}|{params:?}", me.id, crate::clock::now() / 86_400);
    let page_ctx = fragments::view(key, ctx.data_version()?, || view(ctx, me))?;
    respond::page(ctx, "staff/inbox.html", page_ctx)
}

/// The inbox's data under the request's filters (see `fragments::view`).
fn view(ctx: &Ctx<'_>, me: &Staff) -> Result<Value> {
    let db = ctx.db;
    let projects = store::projects::list(db, true)?;
    let staff = store::staff::list_active(db)?;

    // Unknown filter values are ignored rather than failing: the page stays usable.
    let query = Query {
        project: ctx
            .query("project")
            .filter(|k| projects.iter().any(|p| &p.key == k))
            .unwrap_or_default(),
        status: ctx
            .query("status")
            .filter(|s| Status::parse(s).is_some())
            .unwrap_or_default(),
        priority: ctx
            .query("priority")
            .filter(|s| Priority::parse(s).is_some())
            .unwrap_or_default(),
        assignee: ctx.query("assignee").unwrap_or_default(),
        q: ctx
            .query("q")
            .map(|q| q.chars().filter(|c| !c.is_control()).take(200).collect())
            .unwrap_or_default(),
    };
    let assignee = match query.assignee.as_str() {
        "" => AssigneeFilter::Any,
        "none" => AssigneeFilter::Unassigned,
        "me" => AssigneeFilter::Staff(me.id),
        other => other
            .parse()
            .map(|id| AssigneeFilter::Staff(StaffId(id)))
            .unwrap_or_default(),
    };
    let filter = TicketFilter {
        project: projects
            .iter()
            .find(|p| p.key == query.project)
            .map(|p| p.id),
        status: Status::parse(&query.status),
        priority: Priority::parse(&query.priority),
        assignee,
        search: match query.q.as_str() {
            "" => None,
            q => Some(store::search::plan(db, q)?),
        },
    };

    let counts = store::tickets::status_counts(db, &filter)?;
    let total = listing::total(counts.as_deref(), filter.status);
    let seek = listing::seek(ctx.query("at").as_deref());
    let page = listing::fetch(seek, |seek| {
        store::tickets::list(db, &filter, seek, PAGE_SIZE)
    })?;
    let pagination = listing::links(&page, |at| {
        let mut params = query.params();
        params.push(("at", at.to_string()));
        url_with("/", &params)
    });
    let tickets = if page.rows.is_empty() {
        Value::from(false)
    } else {
        fragments::rows(
            &ctx.app.templates,
            "staff/inbox_row.html",
            &page.rows,
            |row| Value::from_object(RowView(row.clone())),
        )?
    };
    let tabs = listing::status_tabs(counts.as_deref(), filter.status, |status| {
        query.with("status", status)
    });
    let filtered = !(query.project.is_empty()
        && query.priority.is_empty()
        && query.assignee.is_empty()
        && query.q.is_empty());

    Ok(view! {
            nav => "inbox",
            tickets,
            tabs,
            total,
            // Staff searches go uncounted only when they match too many to count.
            uncounted => "Many matches, newest first",
            filtered,
            query,
            projects,
            staff,
            priorities => Priority::options(),
            pagination,
    })
}
