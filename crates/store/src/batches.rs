//! Multi-row inserts sent in a few fixed sizes.
//!
//! The driver prepares every statement once per connection and keeps it in the connection's
//! cache (100 statements): a multi-row insert of n rows is a statement of its own for each n.
//! Batches of audit events and integration events, whose sizes vary with the load, are
//! therefore sent as chunks of [`SIZES`] rows, largest first. A connection then prepares at most
//! three shapes of each insert, instead of one for every batch size it ever saw, each kept with
//! its compiled program and parameter types until evicted.
//!
//! The largest chunk stays small: the PostgreSQL driver does not turn off Nagle's algorithm, and
//! a message it has to write in two parts waits for the server's delayed acknowledgement, 40 ms,
//! before its second part goes out. In PostgreSQL's statement log every 64-row insert of audit
//! events began 44 ms after the one before it (and ran in 1 ms); the 16-row ones followed each
//! other at once.

/// The row counts of one insert.
pub(crate) const SIZES: [usize; 3] = [16, 4, 1];

/// `rows` in order, cut into chunks of [`SIZES`] rows, largest first.
pub(crate) fn chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    let mut out = Vec::new();
    while left > 0 {
        let size = SIZES.into_iter().find(|&s| s <= left).unwrap_or(1);
        out.push(rows.by_ref().take(size).collect());
        left -= size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize) -> Vec<usize> {
        chunks((0..n).collect()).iter().map(Vec::len).collect()
    }

    #[test]
    fn a_batch_is_sent_in_chunks_of_a_few_sizes_in_order() {
        assert!(sizes(0).is_empty());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(7), [4, 1, 1, 1]);
        assert_eq!(sizes(16), [16]);
        assert_eq!(sizes(41), [16, 16, 4, 4, 1]);
        assert_eq!(sizes(500).len(), 32);
        for n in 0..=600 {
            let rows: Vec<usize> = (0..n).collect();
            let flat: Vec<usize> = chunks(rows.clone()).into_iter().flatten().collect();
            assert_eq!(flat, rows, "{n} rows");
            assert!(sizes(n).iter().all(|s| SIZES.contains(s)));
        }
    }
}
