//! Shared shapes for parsing action arguments.

/// Expecting-text and a visitor that only accepts a mapping, handing it to a derived
/// `Spec` type and then to a check, so that both the spec's errors and the check's errors
/// carry the mapping's position.
pub(crate) mod map_only {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, value::MapAccessDeserializer, Deserialize, MapAccess, Visitor};

    use crate::playbook::values::describe;

    pub(crate) struct MapVisitor<S, T, F> {
        pub what: &'static str,
        pub check: F,
        pub allow_empty: bool,
        pub marker: PhantomData<(S, T)>,
    }

    pub(crate) fn visitor<S, T, F: FnOnce(S) -> Result<T, String>>(
        what: &'static str,
        allow_empty: bool,
        check: F,
    ) -> MapVisitor<S, T, F> {
        MapVisitor {
            what,
            check,
            allow_empty,
            marker: PhantomData,
        }
    }

    impl<'de, S: Deserialize<'de>, T, F: FnOnce(S) -> Result<T, String>> Visitor<'de>
        for MapVisitor<S, T, F>
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.what)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let spec = S::deserialize(MapAccessDeserializer::new(map))?;
            (self.check)(spec).map_err(de::Error::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            if self.allow_empty {
                let spec = S::deserialize(de::value::MapDeserializer::<
                    std::iter::Empty<((), ())>,
                    E,
                >::new(std::iter::empty()))?;
                (self.check)(spec).map_err(de::Error::custom)
            } else {
                Err(E::custom(format!("expected {}, found nothing", self.what)))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Str(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Bool(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Unsigned(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Signed(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Err(wrong(self.what, de::Unexpected::Float(v)))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
            Err(wrong(self.what, de::Unexpected::Seq))
        }
    }

    fn wrong<E: de::Error>(what: &str, u: de::Unexpected<'_>) -> E {
        E::custom(format!("expected {what}, found {}", describe(u)))
    }
}
