//! Classifying database errors the layers above act on.

use sea_orm::{DbErr, SqlErr};

/// Whether `err` is a unique-constraint violation (a duplicate the database refused).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `err` is the database refusing the data itself, a foreign or unique key it does not
/// accept: the same data is refused again however often it is sent.
pub fn is_constraint_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// What a database failure means for the request that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The disk is full: nothing more can be written until space is freed.
    StorageFull,
    /// The database cannot be reached or cannot write now (connection lost or refused, pool
    /// exhausted, a read-only file, an I/O error); retrying later may succeed.
    Unavailable,
    /// Anything else: a fault of the request or of the code.
    Other,
}

/// Classifies `err`: SQLite result codes `SQLITE_FULL` (storage), `SQLITE_READONLY`,
/// `SQLITE_IOERR`, `SQLITE_CANTOPEN`, `SQLITE_BUSY`, `SQLITE_LOCKED` and PostgreSQL classes
/// 08 (connection), 53 (resources) and 57P (shutdown, cannot connect now) as unavailable, as
/// are lost connections and pool timeouts of either.
pub fn failure(err: &DbErr) -> Failure {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Failure::Unavailable,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            driver_failure(e)
        }
        _ => Failure::Other,
    }
}

/// [`failure`] of the driver's own error.
pub(crate) fn driver_failure(err: &sea_orm::sqlx::Error) -> Failure {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => Failure::Unavailable,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.parse::<u32>() {
                // SQLite: the primary result code is the low byte of an extended one.
                Ok(n) if n & 0xff == 13 => Failure::StorageFull,
                Ok(n) if [5, 6, 8, 10, 14].contains(&(n & 0xff)) => Failure::Unavailable,
                // PostgreSQL: 53100 disk_full.
                _ if code == "53100" => Failure::StorageFull,
                _ if code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P") =>
                {
                    Failure::Unavailable
                }
                _ => Failure::Other,
            }
        }
        _ => Failure::Other,
    }
}
