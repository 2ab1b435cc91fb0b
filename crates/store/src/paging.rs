//! Keyset paging: lists continue after the last id seen, never by OFFSET.

use uuid::Uuid;

/// A request for one page.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Continue after this id (ids are UUIDv7, so this is creation order).
    pub after: Option<Uuid>,
    /// How many rows at most.
    pub limit: u64,
}

/// One page of rows, and the id to continue after when more remain.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The last id of this page when another page follows.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more remain.
    pub fn from_rows(mut rows: Vec<T>, limit: u64, id: impl Fn(&T) -> Uuid) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_after = if more { rows.last().map(&id) } else { None };
        Self {
            items: rows,
            next_after,
        }
    }

    /// Converts every row.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}
