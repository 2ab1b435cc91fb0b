//! How the fieldless enums of the domain are named on the wire: in JSON, in gRPC messages, in
//! the database and in error messages.
//!
//! Every such enum is declared with [`wire_enum!`](crate::wire::wire_enum), which writes each
//! variant's wire name once and derives serde's names, `as_str`, `Display` and `FromStr` from
//! it, so they can never disagree. A name that is none of an enum's values is refused with one
//! error, [`UnknownValue`].

use std::fmt;

/// A name sent for one of our enums that is not one of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// Which enum the name was meant for (`area`, `product kind`).
    pub kind: &'static str,
    /// The name as it was sent.
    pub value: String,
    /// The accepted names, for the enums whose refusal lists them; `None` for the others.
    pub expected: Option<&'static [&'static str]>,
}

impl UnknownValue {
    /// A refusal of `value` as a `kind`, naming the value only.
    pub fn new(kind: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
            expected: None,
        }
    }

    /// The same refusal, listing the names that would have been accepted.
    pub fn listing(self, expected: &'static [&'static str]) -> Self {
        Self {
            expected: Some(expected),
            ..self
        }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.value)?;
        if let Some(expected) = self.expected {
            write!(f, "; expected one of: {}", expected.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a fieldless enum whose wire name per variant is written once and used by serde,
/// `as_str`, `Display` and `FromStr` alike, with `ALL` listing every value in declaration order.
///
/// ```text
/// wire_enum! {
///     /// What the enum is.
///     pub enum Severity ("severity") {
///         /// What the variant is.
///         Mild => "mild",
///     }
/// }
/// ```
///
/// The literal after the name is what the enum is called in an [`UnknownValue`]. Two options
/// may follow it:
/// - `refusal lists names`: an unknown value's error lists every accepted name;
/// - `schema by hand`: the OpenAPI schema is written in `crate::openapi` rather than derived,
///   for wire names that are not the variants in snake_case (`client.created`).
///
/// Without `schema by hand`, every wire name must be its variant in snake_case (the tests of
/// each enum hold it): the OpenAPI derivation reads the enum's `rename_all = "snake_case"`, not
/// the per-variant names passed through the macro. With it, an invocation may still derive
/// `utoipa::ToSchema` itself among its attributes: the per-variant names are then the schema's.
///
/// The macro is exported for the crates above the domain (the app's own wire enums, such as an
/// audit outcome or a grant type), so they are declared the same way. Expanded there, the schema
/// is derived when this crate's `openapi` feature is on, which needs `utoipa` and `serde` among
/// the caller's dependencies.
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $crate::wire_enum! {
            @derived_schema [$(#[$meta])*] $vis $name
            { $( [$(#[$vmeta])*] $variant => $wire, )+ }
        }
        $crate::wire_enum! {
            @conversions $name $kind [::core::option::Option::None]
            { $( $variant => $wire, )+ }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal, refusal lists names) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $crate::wire_enum! {
            @derived_schema [$(#[$meta])*] $vis $name
            { $( [$(#[$vmeta])*] $variant => $wire, )+ }
        }
        $crate::wire_enum! {
            @conversions $name $kind [::core::option::Option::Some(&[$($wire),+])]
            { $( $variant => $wire, )+ }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal, schema by hand) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }
        $crate::wire_enum! {
            @conversions $name $kind [::core::option::Option::None]
            { $( $variant => $wire, )+ }
        }
    };
    (
        @derived_schema [$(#[$meta:meta])*] $vis:vis $name:ident
        { $( [$(#[$vmeta:meta])*] $variant:ident => $wire:literal, )+ }
    ) => {
        $crate::with_schema! {
            $(#[$meta])*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                ::serde::Serialize, ::serde::Deserialize,
            )]
            #[serde(rename_all = "snake_case")]
            $vis enum $name {
                $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
            }
        }
    };
    (
        @conversions $name:ident $kind:literal [$($expected:tt)+]
        { $( $variant:ident => $wire:literal, )+ }
    ) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The wire name, as in JSON, gRPC and the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::wire::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::wire::UnknownValue {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: $($expected)+,
                    })
            }
        }
    };
}
pub use crate::wire_enum;

/// Derives `utoipa::ToSchema` for the item when the domain's `openapi` feature is on, wherever
/// the item is declared (a `cfg_attr` in an exported macro would read the caller's features).
#[cfg(feature = "openapi")]
#[doc(hidden)]
#[macro_export]
macro_rules! with_schema {
    ($($item:tt)*) => {
        #[derive(::utoipa::ToSchema)]
        $($item)*
    };
}

/// Derives `utoipa::ToSchema` for the item when the domain's `openapi` feature is on (it is off).
#[cfg(not(feature = "openapi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! with_schema {
    ($($item:tt)*) => {
        $($item)*
    };
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fmt::{Debug, Display};
    use std::str::FromStr;

    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    fn is_snake_case(name: &str) -> bool {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with('_')
            && !name.ends_with('_')
    }

    /// Checks that every value of an enum declared with a derived schema has one snake_case
    /// name, its variant's, in serde, `as_str`, `Display` and `FromStr` alike.
    pub(crate) fn assert_wire_names<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy
            + PartialEq
            + Debug
            + Display
            + FromStr<Err = UnknownValue>
            + Serialize
            + DeserializeOwned,
    {
        let mut seen = std::collections::HashSet::new();
        for &value in all {
            let name = as_str(value);
            assert!(is_snake_case(name), "{name} is not snake_case");
            // The macro's `rename_all = "snake_case"` (read by the OpenAPI derivation) must
            // give the same name as the one written per variant.
            let variant = format!("{value:?}");
            let mut snake = String::new();
            for (i, c) in variant.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(snake, name, "{variant} is written `{name}`");
            assert!(seen.insert(name), "{name} appears twice");
            assert_eq!(value.to_string(), name);
            assert_eq!(name.parse::<T>(), Ok(value));
            assert_eq!(
                serde_json::to_string(&value).ok(),
                Some(format!("\"{name}\""))
            );
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{name}\"")).ok(),
                Some(value)
            );
        }
    }

    wire_enum! {
        /// A test enum whose refusal names the value only.
        enum Plain ("plain thing") {
            /// One.
            First => "first",
            /// Two.
            SecondOne => "second_one",
        }
    }

    wire_enum! {
        /// A test enum whose refusal lists the accepted names.
        enum Listed ("listed thing", refusal lists names) {
            /// One.
            Alpha => "alpha",
            /// Two.
            Beta => "beta",
        }
    }

    wire_enum! {
        /// A test enum whose wire names are not snake_case.
        enum Dotted ("dotted thing", schema by hand) {
            /// One.
            ThingMade => "thing.made",
        }
    }

    #[test]
    fn each_declaration_round_trips_its_wire_names() {
        assert_wire_names(&Plain::ALL, Plain::as_str);
        assert_wire_names(&Listed::ALL, Listed::as_str);
        assert_eq!(Dotted::ALL, [Dotted::ThingMade]);
        assert_eq!("thing.made".parse(), Ok(Dotted::ThingMade));
        assert_eq!(Dotted::ThingMade.to_string(), "thing.made");
        assert_eq!(
            serde_json::to_string(&Dotted::ThingMade).ok(),
            Some("\"thing.made\"".to_owned())
        );
    }

    #[test]
    fn a_refusal_names_the_value_and_lists_the_accepted_names_when_declared_to() {
        let plain = "third".parse::<Plain>().err();
        assert_eq!(plain, Some(UnknownValue::new("plain thing", "third")));
        assert_eq!(
            plain.map(|e| e.to_string()),
            Some("unknown plain thing `third`".to_owned())
        );
        let listed = "gamma".parse::<Listed>().err();
        assert_eq!(
            listed,
            Some(UnknownValue::new("listed thing", "gamma").listing(&["alpha", "beta"]))
        );
        assert_eq!(
            listed.map(|e| e.to_string()),
            Some("unknown listed thing `gamma`; expected one of: alpha, beta".to_owned())
        );
        assert!("ThingMade".parse::<Dotted>().is_err());
    }
}
