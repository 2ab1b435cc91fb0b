//! Clients of an organisation, and prefix search over their name, email and phone.

use sea_orm::sea_query::{Condition, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::entities::client;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// The value of `name_search`: `first last`, lowercased, inner whitespace collapsed.
pub fn name_key(first: &str, last: &str) -> String {
    normalise(&format!("{first} {last}"))
}

/// The value of `reverse_name_search`: `last first`, so that a last name matches as a prefix.
pub fn reverse_name_key(first: &str, last: &str) -> String {
    normalise(&format!("{last} {first}"))
}

/// The value of `email_search`: the address lowercased.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The value of `phone_search`: the digits of the number only, so `+49 30 1234` matches `4930`.
pub fn phone_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `prefix%` with `%`, `_` and the escape character itself escaped, for `LIKE ... ESCAPE '\'`.
fn prefix_pattern(prefix: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

/// Inserts a client.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: client::ActiveModel,
) -> Result<client::Model, DbErr> {
    row.insert(db).await
}

/// One client of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<client::Model>, DbErr> {
    scoped::get::<client::Entity>(db, org, id).await
}

/// One client, locked until the transaction ends (PostgreSQL; SQLite has a single writer
/// anyway), so that writes about one client's treatments take turns.
pub async fn get_for_update(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<client::Model>, DbErr> {
    client::Entity::find_by_id(id)
        .filter(client::Column::OrganizationId.eq(org))
        .lock_exclusive()
        .one(db)
        .await
}

/// Saves the `Set` fields of `changes` and increments the version, only if the stored version
/// is still `expected_version`. Answers whether the row was updated.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    expected_version: i32,
    changes: client::ActiveModel,
) -> Result<bool, DbErr> {
    let result = client::Entity::update_many()
        .set(changes)
        .col_expr(
            client::Column::Version,
            sea_orm::sea_query::Expr::col(client::Column::Version).add(1),
        )
        .filter(client::Column::OrganizationId.eq(org))
        .filter(client::Column::Id.eq(id))
        .filter(client::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A page of the organisation's clients; with `q`, only those whose name (first, last, or
/// `first last`), email or phone digits start with it, ignoring case.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    q: Option<&str>,
    page: PageRequest,
) -> Result<Page<client::Model>, DbErr> {
    let mut query = client::Entity::find().filter(client::Column::OrganizationId.eq(org));
    if let Some(q) = q.map(normalise).filter(|q| !q.is_empty()) {
        let mut any = Condition::any()
            .add(client::Column::NameSearch.like(prefix_pattern(&q)))
            .add(client::Column::ReverseNameSearch.like(prefix_pattern(&q)))
            .add(client::Column::EmailSearch.like(prefix_pattern(&q)));
        let digits = phone_key(&q);
        // Only a query that is a phone number (digits and the usual separators) searches phones,
        // so that `anna 2` does not find every number starting with 2.
        let phone_like = q
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
        if phone_like && !digits.is_empty() {
            any = any.add(client::Column::PhoneSearch.like(prefix_pattern(&digits)));
        }
        query = query.filter(any);
    }
    scoped::page(db, query, page).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keys_ignore_case_spacing_and_phone_punctuation() {
        assert_eq!(name_key(" Anna ", "de  Vries"), "anna de vries");
        assert_eq!(reverse_name_key("Anna", "de Vries"), "de vries anna");
        assert_eq!(email_key(" Anna@Example.TEST"), "anna@example.test");
        assert_eq!(phone_key("+49 (30) 123-45"), "493012345");
    }
}
