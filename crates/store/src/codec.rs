//! Typed values in text columns: rows come out of the store already decoded, and a value the
//! code no longer understands is refused as a database error naming its column, never parsed
//! again further up.
//!
//! - [`Text<T>`] keeps a wire enum (or any `T: FromStr + Display`) as its name: written with
//!   `Display`, read with `FromStr`. The column stays a text column.
//! - [`Json<T>`] keeps a serde value as JSON text: written with `serde_json::to_string` (compact,
//!   fields in declaration order), read with `serde_json::from_str`. The column stays a text
//!   column too; the database never sees JSON.
//!
//! Both wrap the value in a public field and dereference to it; `From<T>` builds them, so
//! `Set(TreatmentStatus::Draft.into())` writes a column and `*row.status` reads it.

use std::fmt::{self, Display};
use std::ops::{Deref, DerefMut};
use std::str::FromStr;

use sea_orm::Value;
use sea_orm::sea_query::postgres_array::NotU8;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ActiveValue, ColIdx, DbErr, IntoActiveValue, QueryResult, TryGetError, TryGetable};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value kept in a text column as its name (`Display` writes it, `FromStr` reads it back).
///
/// A stored name that does not parse fails the read with a [`DbErr::Type`] naming the column
/// and the name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<T>(pub T);

/// A value kept in a text column as JSON (`serde_json::to_string` writes it,
/// `serde_json::from_str` reads it back).
///
/// Stored text that does not decode fails the read with a [`DbErr::Json`] naming the column and
/// what serde found wrong (where, and the offending token), not the whole document: it may hold
/// health data, and the error is logged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

/// The column a value was read from, as a message names it.
fn column_of(idx: &impl ColIdx) -> String {
    match (idx.as_str(), idx.as_usize()) {
        (Some(name), _) => format!("column `{name}`"),
        (None, Some(position)) => format!("column {position} of the result"),
        (None, None) => format!("column {idx:?}"),
    }
}

macro_rules! wrapper {
    ($wrapper:ident) => {
        impl<T> $wrapper<T> {
            /// The value itself.
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> From<T> for $wrapper<T> {
            fn from(value: T) -> Self {
                Self(value)
            }
        }

        impl<T> Deref for $wrapper<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> DerefMut for $wrapper<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }

        impl<T: PartialEq> PartialEq<T> for $wrapper<T> {
            fn eq(&self, other: &T) -> bool {
                self.0 == *other
            }
        }

        impl<T> Nullable for $wrapper<T> {
            fn null() -> Value {
                <String as Nullable>::null()
            }
        }

        impl<T> NotU8 for $wrapper<T> {}

        impl<T> IntoActiveValue<$wrapper<T>> for $wrapper<T>
        where
            $wrapper<T>: Into<Value>,
        {
            fn into_active_value(self) -> ActiveValue<$wrapper<T>> {
                ActiveValue::Set(self)
            }
        }
    };
}

wrapper!(Text);
wrapper!(Json);

impl<T: Display> Display for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Display> From<Text<T>> for Value {
    fn from(source: Text<T>) -> Self {
        Value::String(Some(source.0.to_string()))
    }
}

impl<T> TryGetable for Text<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let stored = String::try_get_by(res, idx)?;
        stored.parse().map(Text).map_err(|e| {
            TryGetError::DbErr(DbErr::Type(format!(
                "{} holds `{stored}`, which is not readable: {e}",
                column_of(&idx)
            )))
        })
    }
}

impl<T> ValueType for Text<T>
where
    T: FromStr + Display,
{
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let stored = <String as ValueType>::try_from(v)?;
        stored.parse().map(Text).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        format!("Text<{}>", std::any::type_name::<T>())
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        <String as ValueType>::column_type()
    }
}

/// `None` (SQL NULL) when the value does not serialise, as sea-orm's own JSON columns do: every
/// JSON column is `NOT NULL`, so the database refuses the write instead of storing something
/// else. The types kept here always serialise.
impl<T: Serialize> From<Json<T>> for Value {
    fn from(source: Json<T>) -> Self {
        Value::String(serde_json::to_string(&source.0).ok())
    }
}

impl<T: DeserializeOwned> TryGetable for Json<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let stored = String::try_get_by(res, idx)?;
        serde_json::from_str(&stored).map(Json).map_err(|e| {
            TryGetError::DbErr(DbErr::Json(format!(
                "{} holds JSON that is not readable: {e}",
                column_of(&idx)
            )))
        })
    }
}

impl<T> ValueType for Json<T>
where
    T: Serialize + DeserializeOwned,
{
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let stored = <String as ValueType>::try_from(v)?;
        serde_json::from_str(&stored)
            .map(Json)
            .map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        format!("Json<{}>", std::any::type_name::<T>())
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        <String as ValueType>::column_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
    }

    impl Display for Colour {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("red")
        }
    }

    impl FromStr for Colour {
        type Err = String;

        fn from_str(s: &str) -> Result<Self, String> {
            match s {
                "red" => Ok(Colour::Red),
                _ => Err(format!("unknown colour `{s}`")),
            }
        }
    }

    #[test]
    fn a_name_is_written_as_text_and_read_back() {
        let value = Value::from(Text(Colour::Red));
        assert_eq!(value, Value::String(Some("red".to_owned())));
        assert_eq!(
            <Text<Colour> as ValueType>::try_from(value).ok(),
            Some(Text(Colour::Red))
        );
        assert!(<Text<Colour> as ValueType>::try_from(Value::String(Some("blue".into()))).is_err());
        assert_eq!(
            <Text<Colour> as ValueType>::column_type(),
            <String as ValueType>::column_type()
        );
        assert_eq!(<Text<Colour> as Nullable>::null(), Value::String(None));
    }

    #[test]
    fn json_is_written_as_serde_writes_it() {
        let value = Value::from(Json(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(value, Value::String(Some(r#"["a","b"]"#.to_owned())));
        assert_eq!(
            <Json<Vec<String>> as ValueType>::try_from(value).ok(),
            Some(Json(vec!["a".to_owned(), "b".to_owned()]))
        );
        assert_eq!(
            <Json<Vec<String>> as ValueType>::column_type(),
            <String as ValueType>::column_type()
        );
    }

    #[test]
    fn the_wrappers_read_as_their_values() {
        let text = Text::from(Colour::Red);
        assert_eq!(*text, Colour::Red);
        assert!(text == Colour::Red);
        assert_eq!(text.to_string(), "red");
        assert_eq!(Json::from(3).into_inner(), 3);
    }
}
