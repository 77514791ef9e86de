//! `--shard K/N`: which hosts one of N cooperating processes runs. The partition is
//! rendezvous (highest-random-weight) hashing of host names: each host goes to the shard
//! that gives it the highest weight, so it depends on the host's name and N only. Adding
//! or removing a host moves that host alone, the same host lands in the same shard on
//! every machine and every release (the hash is written out here, not borrowed from std,
//! whose hasher may change), and a retried shard does the same hosts again.

use std::fmt;

/// Kubernetes sets this in each pod of an Indexed Job (0-based).
pub const JOB_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// Enough for any fleet; a typo like `--shard 1/40000` is caught instead of starting
/// processes that each run nothing.
pub const MAX_SHARDS: u32 = 10_000;

/// One shard of N: `index` is 1-based, as written on the command line (`2/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "the shard count must be 1 to {MAX_SHARDS}, got {count}"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index} of {count} does not exist: shards are numbered 1 to {count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// `K/N` as given to `--shard`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("expected K/N (e.g. 2/4), got `{s}`"))?;
        let num = |x: &str, what: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("expected K/N (e.g. 2/4), got `{s}`: {what} is not a number"))
        };
        Shard::new(num(k, "K")?, num(n, "N")?)
    }

    /// The shard of a Kubernetes Indexed Job's pod: `JOB_COMPLETION_INDEX` (0-based) of
    /// `count` shards.
    pub fn from_job_index(value: &str, count: u32) -> Result<Shard, String> {
        let i = value.trim().parse::<u32>().map_err(|_| {
            format!("{JOB_INDEX_ENV} must be a number (the pod's 0-based index), got `{value}`")
        })?;
        Shard::new(i.saturating_add(1), count).map_err(|e| format!("{JOB_INDEX_ENV}={value}: {e}"))
    }

    /// Whether `host` belongs to this shard.
    pub fn owns(&self, host: &str) -> bool {
        owner(host, self.count) == self.index
    }
}

/// The 1-based shard of `count` that `host` belongs to.
pub fn owner(host: &str, count: u32) -> u32 {
    let h = fnv1a(host.as_bytes());
    let mut best = (0u64, 1u32);
    for j in 1..=count.max(1) {
        let w = mix(h ^ mix(u64::from(j)));
        // Ties (astronomically rare) go to the lower index, so the result is still unique.
        if j == 1 || w > best.0 {
            best = (w, j);
        }
    }
    best.1
}

/// FNV-1a, 64 bit: stable by definition, and plenty for spreading names.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64's finaliser: FNV alone leaves weights of similar names correlated.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_errors() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 1 / 1 "), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/4", "5/4", "2", "a/4", "2/0", "1/10001", "-1/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Shard::from_job_index("0", 4),
            Ok(Shard { index: 1, count: 4 })
        );
        let e = Shard::from_job_index("4", 4).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX=4"), "{e}");
    }

    /// The partition is part of the contract (shards of one run may come from different
    /// builds): these owners must never change.
    #[test]
    fn the_partition_is_pinned() {
        let got: Vec<u32> = ["r1", "r2", "core-ams-1", "access-rtm-017", "x"]
            .iter()
            .map(|h| owner(h, 4))
            .collect();
        assert_eq!(got, PINNED);
    }
    const PINNED: [u32; 5] = [4, 4, 1, 1, 2];

    #[test]
    fn shards_are_balanced() {
        let mut counts = [0usize; 8];
        for i in 0..8000 {
            counts[owner(&format!("sw-{i:05}"), 8) as usize - 1] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "{counts:?}");
        }
    }

    proptest! {
        /// Every host is in exactly one shard, whatever the names and the count.
        #[test]
        fn every_host_in_exactly_one_shard(
            hosts in proptest::collection::btree_set("[a-z0-9.-]{1,24}", 1..200),
            count in 1u32..50,
        ) {
            for h in &hosts {
                let owners: Vec<u32> = (1..=count)
                    .filter(|k| Shard { index: *k, count }.owns(h))
                    .collect();
                prop_assert_eq!(owners.len(), 1, "{} is in shards {:?}", h, owners);
            }
        }

        /// Going from N to N+1 shards moves about 1/(N+1) of the hosts, all to the new one.
        #[test]
        fn a_new_shard_takes_hosts_only_for_itself(
            hosts in proptest::collection::btree_set("[a-z0-9-]{1,16}", 1..200),
            count in 1u32..20,
        ) {
            for h in &hosts {
                let (a, b) = (owner(h, count), owner(h, count + 1));
                prop_assert!(a == b || b == count + 1, "{} moved {} -> {}", h, a, b);
            }
        }
    }
}
