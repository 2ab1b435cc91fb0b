//! Classifying database errors the layers above act on.

use sea_orm::{DbErr, SqlErr};

/// Whether `err` is a unique-constraint violation (a duplicate the database refused).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
