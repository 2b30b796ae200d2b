//! The two well-known types whose pbjson-types JSON differs from the proto3
//! JSON mapping, redefined with the canonical one. The generated code uses
//! them instead of pbjson-types' (see build.rs); on the wire they are the
//! same messages.
//!
//! - `FieldMask`: pbjson-types encodes it as an ordinary message
//!   (`{"paths": ["user_id"]}`); canonical is one string of comma-separated
//!   lowerCamelCase paths (`"goal,userId"`).
//! - `Timestamp`: pbjson-types prints `2026-01-02T03:04:05.006+00:00`;
//!   canonical is Z-normalized, `2026-01-02T03:04:05.006Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// `google.protobuf.FieldMask`: the paths (snake_case field names, dotted
/// for nested fields) that an update writes.
#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]
pub struct FieldMask {
    /// The field paths, e.g. `["goal", "user_id"]`.
    #[prost(string, repeated, tag = "1")]
    pub paths: ::prost::alloc::vec::Vec<::prost::alloc::string::String>,
}

impl FieldMask {
    /// A mask of the given paths (snake_case, as in the proto).
    pub fn new<I, S>(paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            paths: paths.into_iter().map(Into::into).collect(),
        }
    }
}

impl ::prost::Name for FieldMask {
    const NAME: &'static str = "FieldMask";
    const PACKAGE: &'static str = "google.protobuf";
    fn full_name() -> String {
        "google.protobuf.FieldMask".into()
    }
    fn type_url() -> String {
        "type.googleapis.com/google.protobuf.FieldMask".into()
    }
}

/// `user_id` -> `userId`, per dotted segment.
fn to_json_path(path: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len());
    let mut upper_next = false;
    for c in path.chars() {
        if c == '_' {
            if upper_next {
                return Err(format!("invalid FieldMask path {path:?}"));
            }
            upper_next = true;
        } else if c.is_ascii_uppercase() {
            return Err(format!("FieldMask path {path:?} is not snake_case"));
        } else if upper_next {
            if !c.is_ascii_lowercase() {
                return Err(format!("FieldMask path {path:?} has no JSON form"));
            }
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    if upper_next {
        return Err(format!("FieldMask path {path:?} ends with '_'"));
    }
    Ok(out)
}

/// `userId` -> `user_id`.
fn from_json_path(path: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c == '_' {
            return Err(format!("FieldMask JSON path {path:?} contains '_'"));
        }
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

impl Serialize for FieldMask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let paths = self
            .paths
            .iter()
            .map(|p| to_json_path(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&paths.join(","))
    }
}

impl<'de> Deserialize<'de> for FieldMask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MaskVisitor;
        impl Visitor<'_> for MaskVisitor {
            type Value = FieldMask;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a FieldMask string of comma-separated lowerCamelCase paths")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<FieldMask, E> {
                let paths = value
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(from_json_path)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(E::custom)?;
                Ok(FieldMask { paths })
            }
        }
        deserializer.deserialize_str(MaskVisitor)
    }
}

/// `google.protobuf.Timestamp`: a point in time, seconds and nanoseconds
/// since the Unix epoch (UTC).
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second, 0 to 999,999,999.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl ::prost::Name for Timestamp {
    const NAME: &'static str = "Timestamp";
    const PACKAGE: &'static str = "google.protobuf";
    fn full_name() -> String {
        "google.protobuf.Timestamp".into()
    }
    fn type_url() -> String {
        "type.googleapis.com/google.protobuf.Timestamp".into()
    }
}

impl From<pbjson_types::Timestamp> for Timestamp {
    fn from(t: pbjson_types::Timestamp) -> Self {
        Self {
            seconds: t.seconds,
            nanos: t.nanos,
        }
    }
}

impl From<Timestamp> for pbjson_types::Timestamp {
    fn from(t: Timestamp) -> Self {
        Self {
            seconds: t.seconds,
            nanos: t.nanos,
        }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self {
            seconds: t.timestamp(),
            nanos: t.timestamp_subsec_nanos() as i32,
        }
    }
}

impl TryFrom<Timestamp> for DateTime<Utc> {
    type Error = String;
    fn try_from(t: Timestamp) -> Result<Self, String> {
        let nanos = u32::try_from(t.nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .ok_or_else(|| format!("Timestamp nanos out of range: {}", t.nanos))?;
        DateTime::from_timestamp(t.seconds, nanos)
            .ok_or_else(|| format!("Timestamp seconds out of range: {}", t.seconds))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self {
                seconds: d.as_secs() as i64,
                nanos: d.subsec_nanos() as i32,
            },
            Err(before) => {
                let d = before.duration();
                let (mut seconds, mut nanos) = (-(d.as_secs() as i64), -(d.subsec_nanos() as i32));
                if nanos < 0 {
                    seconds -= 1;
                    nanos += 1_000_000_000;
                }
                Self { seconds, nanos }
            }
        }
    }
}

/// The first and last seconds that proto3 JSON can express (years 1 to 9999).
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&self.seconds) {
            return Err(serde::ser::Error::custom(
                "Timestamp outside years 1 to 9999",
            ));
        }
        let t = DateTime::<Utc>::try_from(*self).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;
        impl Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Timestamp, E> {
                let t = DateTime::parse_from_rfc3339(value).map_err(E::custom)?;
                let t = Timestamp::from(t.with_timezone(&Utc));
                if !(MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) {
                    return Err(E::custom("Timestamp outside years 1 to 9999"));
                }
                Ok(t)
            }
        }
        deserializer.deserialize_str(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldMask, Timestamp};

    #[test]
    fn timestamp_json_is_z_normalized() {
        let t = Timestamp {
            seconds: 1_767_323_045,
            nanos: 6_000_000,
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-01-02T03:04:05.006Z\""
        );
        let whole = Timestamp {
            seconds: 1_767_323_045,
            nanos: 0,
        };
        assert_eq!(
            serde_json::to_string(&whole).unwrap(),
            "\"2026-01-02T03:04:05Z\""
        );
        let parsed: Timestamp = serde_json::from_str("\"2026-01-02T05:04:05.006+02:00\"").unwrap();
        assert_eq!(parsed, t);
    }

    #[test]
    fn json_round_trip() {
        let mask: FieldMask = serde_json::from_str("\"goal,userId,a.fooBar\"").unwrap();
        assert_eq!(mask.paths, ["goal", "user_id", "a.foo_bar"]);
        assert_eq!(
            serde_json::to_string(&mask).unwrap(),
            "\"goal,userId,a.fooBar\""
        );
        let empty: FieldMask = serde_json::from_str("\"\"").unwrap();
        assert!(empty.paths.is_empty());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "\"\"");
        assert!(serde_json::from_str::<FieldMask>("\"user_id\"").is_err());
    }
}
