//! One text form per domain enum: `text_enum!` gives an enum its `as_str`, `ALL`, `Display`,
//! `FromStr` and serde forms from a single table, so the database, the API, the pages and the
//! CLI all spell a value the same way and a new variant cannot be forgotten in one of them.

/// The error of parsing a domain enum from text: names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownVariant {
    /// What the value was meant to be ("status", "role", …).
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a fieldless enum with one text form per variant.
///
/// ```
/// mamori_core::text_enum! {
///     /// Where a job is.
///     pub enum JobState("job status") {
///         Queued = "queued",
///         Done = "done",
///     }
/// }
/// assert_eq!(JobState::Queued.as_str(), "queued");
/// assert_eq!("done".parse::<JobState>().unwrap(), JobState::Done);
/// assert!("x".parse::<JobState>().unwrap_err().to_string().contains("queued, done"));
/// ```
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one text form (database, API, CLI).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::vocab::UnknownVariant;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::vocab::UnknownVariant {
                        what: $what,
                        value: s.chars().take(64).collect(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                text.parse().map_err($crate::__serde::de::Error::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    text_enum! {
        enum Sample("sample") { One = "one", TwoWords = "two_words" }
    }

    #[test]
    fn text_forms_round_trip() {
        for v in Sample::ALL {
            assert_eq!(v.as_str().parse::<Sample>().unwrap(), *v);
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), *v);
        }
        let err = "three".parse::<Sample>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown sample \"three\" (expected one of: one, two_words)"
        );
    }
}
