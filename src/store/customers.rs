//! Organisations and customers: the agency's clients, the email domains that let their people
//! sign up, and which organisation groups them.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use crate::domain::{CustomerId, OrganizationId};
use crate::error::Result;
use crate::store::paging::{Key, Page, Seek, keyset};
use crate::store::{Conn, Context, Reader, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// How many customers it groups.
    pub customers: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub organization_id: Option<OrganizationId>,
    pub organization_name: Option<String>,
    /// Email domains for self-signup, lowercase, sorted.
    pub domains: Vec<String>,
    /// How many contacts it has.
    pub contacts: i64,
    pub created_at: i64,
}

/// Name and id, for select boxes.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub key: i64,
    pub label: String,
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally (`ESCAPE '\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

// ---- organisations ------------------------------------------------------------------------

pub fn organizations(r: &impl Reader) -> Result<Vec<Organization>> {
    let run = || -> rusqlite::Result<Vec<Organization>> {
        r.conn()
            .prepare_cached(
                "SELECT o.id, o.name, (SELECT COUNT(*) FROM customers c WHERE c.organization_id = o.id),
                        o.created_at
                 FROM organizations o ORDER BY o.name",
            )?
            .query_map([], |row| {
                Ok(Organization {
                    id: OrganizationId(row.get(0)?),
                    name: row.get(1)?,
                    customers: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })?
            .collect()
    };
    run().context(|| "listing organisations".to_string())
}

pub fn organization(r: &impl Reader, id: OrganizationId) -> Result<Option<Organization>> {
    Ok(organizations(r)?.into_iter().find(|o| o.id == id))
}

/// Whether another organisation (not `except`) has this name (names are unique, any case).
pub fn organization_name_taken(
    r: &impl Reader,
    name: &str,
    except: Option<OrganizationId>,
) -> Result<bool> {
    r.conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM organizations WHERE name = ?1 AND id IS NOT ?2)",
        )
        .and_then(|mut s| s.query_row(params![name, except.map(|e| e.0)], |row| row.get(0)))
        .context(|| "checking an organisation name".to_string())
}

pub fn insert_organization(tx: &Tx<'_>, name: &str) -> Result<OrganizationId> {
    tx.conn
        .execute(
            "INSERT INTO organizations (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
            params![name, tx.now],
        )
        .context(|| "adding an organisation".to_string())?;
    Ok(OrganizationId(tx.conn.last_insert_rowid()))
}

pub fn rename_organization(tx: &Tx<'_>, id: OrganizationId, name: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE organizations SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, name, tx.now],
        )
        .context(|| format!("renaming organisation {id}"))?;
    Ok(())
}

// ---- customers ----------------------------------------------------------------------------

const COLUMNS: &str = "c.id, c.name, c.organization_id, o.name,
    (SELECT group_concat(domain, ' ') FROM (SELECT domain FROM customer_domains d WHERE d.customer_id = c.id ORDER BY domain)),
    (SELECT COUNT(*) FROM contacts k WHERE k.customer_id = c.id), c.created_at";

const FROM: &str = "FROM customers c LEFT JOIN organizations o ON o.id = c.organization_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Customer> {
    let domains: Option<String> = row.get(4)?;
    Ok(Customer {
        id: CustomerId(row.get(0)?),
        name: row.get(1)?,
        organization_id: row.get::<_, Option<i64>>(2)?.map(OrganizationId),
        organization_name: row.get(3)?,
        domains: domains
            .map(|d| d.split(' ').map(str::to_string).collect())
            .unwrap_or_default(),
        contacts: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// A page of customers, newest first; `q` matches the name or a domain, `organization` filters.
pub fn list(
    r: &impl Reader,
    q: Option<&str>,
    organization: Option<OrganizationId>,
    seek: Seek,
    limit: usize,
) -> Result<Page<Customer>> {
    let mut args = Vec::new();
    let mut clauses = vec!["1".to_string()];
    if let Some(q) = q {
        args.push(Value::Text(like_pattern(q)));
        let n = args.len();
        clauses.push(format!(
            "(c.name LIKE ?{n} ESCAPE '\\' OR EXISTS (SELECT 1 FROM customer_domains d
               WHERE d.customer_id = c.id AND d.domain LIKE ?{n} ESCAPE '\\'))"
        ));
    }
    if let Some(org) = organization {
        args.push(Value::Integer(org.0));
        clauses.push(format!("c.organization_id = ?{}", args.len()));
    }
    let (position, order) = keyset(None, "c.created_at", "c.id", seek, &mut args);
    args.push(Value::Integer(limit as i64 + 1));
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE {} AND {position} ORDER BY {order} LIMIT ?{}",
        clauses.join(" AND "),
        args.len()
    );
    let run = || -> rusqlite::Result<Vec<(Customer, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                let c = from_row(row)?;
                let key = Key {
                    rank: 0,
                    sort: c.created_at,
                    id: c.id.0,
                };
                Ok((c, key))
            })?
            .collect()
    };
    let fetched = run().context(|| "listing customers".to_string())?;
    Ok(Page::from_fetched(fetched, limit, seek))
}

pub fn get(r: &impl Reader, id: CustomerId) -> Result<Option<Customer>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE c.id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], from_row).optional())
        .context(|| format!("loading customer {id}"))
}

/// Every customer as a select option, by name.
pub fn choices(r: &impl Reader) -> Result<Vec<Choice>> {
    let run = || -> rusqlite::Result<Vec<Choice>> {
        r.conn()
            .prepare_cached("SELECT id, name FROM customers ORDER BY name")?
            .query_map([], |row| {
                Ok(Choice {
                    key: row.get(0)?,
                    label: row.get(1)?,
                })
            })?
            .collect()
    };
    run().context(|| "listing customers by name".to_string())
}

/// The customer named `name` (any case), for imports.
pub fn find_by_name(r: &impl Reader, name: &str) -> Result<Option<CustomerId>> {
    r.conn()
        .prepare_cached("SELECT id FROM customers WHERE name = ?1")
        .and_then(|mut s| s.query_row([name], |row| row.get(0)).optional())
        .map(|id| id.map(CustomerId))
        .context(|| "finding a customer by name".to_string())
}

pub fn name_taken(r: &impl Reader, name: &str, except: Option<CustomerId>) -> Result<bool> {
    r.conn()
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM customers WHERE name = ?1 AND id IS NOT ?2)")
        .and_then(|mut s| s.query_row(params![name, except.map(|e| e.0)], |row| row.get(0)))
        .context(|| "checking a customer name".to_string())
}

/// The domains in `domains` that another customer (not `except`) already lists.
pub fn domains_taken(
    r: &impl Reader,
    domains: &[String],
    except: Option<CustomerId>,
) -> Result<Vec<String>> {
    let mut taken = Vec::new();
    for d in domains {
        let other: Option<i64> = r
            .conn()
            .prepare_cached("SELECT customer_id FROM customer_domains WHERE domain = ?1")
            .and_then(|mut s| s.query_row([d], |row| row.get(0)).optional())
            .context(|| "checking a customer domain".to_string())?;
        if other.is_some_and(|o| Some(CustomerId(o)) != except) {
            taken.push(d.clone());
        }
    }
    Ok(taken)
}

/// The customer whose domains include the domain of `email`.
pub fn for_email_domain(r: &impl Reader, email: &str) -> Result<Option<CustomerId>> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    r.conn()
        .prepare_cached("SELECT customer_id FROM customer_domains WHERE domain = ?1")
        .and_then(|mut s| s.query_row([domain], |row| row.get(0)).optional())
        .map(|id| id.map(CustomerId))
        .context(|| "finding a customer by email domain".to_string())
}

pub struct CustomerFields<'a> {
    pub name: &'a str,
    pub organization_id: Option<OrganizationId>,
    pub domains: &'a [String],
}

pub fn insert(tx: &Tx<'_>, c: &CustomerFields<'_>) -> Result<CustomerId> {
    tx.conn
        .execute(
            "INSERT INTO customers (name, organization_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![c.name, c.organization_id.map(|o| o.0), tx.now],
        )
        .context(|| "adding a customer".to_string())?;
    let id = CustomerId(tx.conn.last_insert_rowid());
    set_domains(tx, id, c.domains)?;
    Ok(id)
}

pub fn update(tx: &Tx<'_>, id: CustomerId, c: &CustomerFields<'_>) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE customers SET name = ?2, organization_id = ?3, updated_at = ?4 WHERE id = ?1",
            params![id.0, c.name, c.organization_id.map(|o| o.0), tx.now],
        )
        .context(|| format!("updating customer {id}"))?;
    set_domains(tx, id, c.domains)
}

fn set_domains(tx: &Tx<'_>, id: CustomerId, domains: &[String]) -> Result<()> {
    tx.conn
        .execute(
            "DELETE FROM customer_domains WHERE customer_id = ?1",
            [id.0],
        )
        .context(|| format!("replacing the domains of customer {id}"))?;
    for d in domains {
        tx.conn
            .execute(
                "INSERT INTO customer_domains (domain, customer_id) VALUES (?1, ?2)",
                params![d, id.0],
            )
            .context(|| format!("adding a domain to customer {id}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
