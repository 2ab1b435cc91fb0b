//! Page requests as clients send them: `limit` (default 50, at most 200) and an opaque cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use skinledger_store::{Page as StorePage, PageRequest};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The default page size.
pub const DEFAULT_LIMIT: u64 = 50;
/// The largest page size.
pub const MAX_LIMIT: u64 = 200;

/// A client's page request, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct PageParams {
    /// Requested page size.
    pub limit: Option<u64>,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// Checks the limit and decodes the cursor.
    pub fn parse(&self) -> Result<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => Some(
                decode_cursor(cursor)
                    .ok_or_else(|| Error::invalid("cursor", "is not a cursor of this list"))?,
            ),
        };
        Ok(PageRequest { after, limit })
    }
}

/// A page as clients receive it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, or `null` at the end.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts a store page, mapping each row.
    pub fn from_store<R>(page: StorePage<R>, f: impl FnMut(R) -> T) -> Self {
        let next_cursor = page.next_after.map(encode_cursor);
        Self {
            items: page.items.into_iter().map(f).collect(),
            next_cursor,
        }
    }
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let params = PageParams {
            limit: Some(10),
            cursor: Some(encode_cursor(id)),
        };
        assert_eq!(params.parse().ok().and_then(|p| p.after), Some(id));
        let bad = PageParams {
            limit: None,
            cursor: Some("not-a-cursor".into()),
        };
        assert!(bad.parse().is_err());
        let too_many = PageParams {
            limit: Some(201),
            cursor: None,
        };
        assert!(too_many.parse().is_err());
    }
}
