//! Output kept from a peer, bounded: what a device or server sends must never decide how
//! much memory a run takes. [`Capped`] keeps the head and the most recent tail of a byte
//! stream up to a cap (`max_output`) and counts what it dropped in between; the text
//! shows a marker at the cut. The tail is kept because that is where prompts, errors and
//! the end of a listing are.
//!
//! [`excerpt`] cuts long output down for messages: the full (capped) output is stored once,
//! in the result; error strings carry only its last lines.

use std::fmt::Write as _;

/// What a command may keep unless the task or the host says otherwise.
pub const DEFAULT_MAX_OUTPUT: u64 = 16 << 20;

/// The smallest cap honoured: below it, a prompt and an error line no longer fit.
pub const MIN_MAX_OUTPUT: u64 = 4 << 10;

/// Bytes of output shown inside an error message.
pub const EXCERPT_BYTES: usize = 2048;

/// A byte buffer that keeps at most about `cap` bytes: the first half and the latest half.
#[derive(Debug, Clone)]
pub struct Capped {
    bytes: Vec<u8>,
    cap: usize,
    /// Where bytes were dropped (an offset into `bytes`) and how many.
    cut: Option<(usize, u64)>,
}

/// Bytes removed by one compaction: `bytes[at..at + len]` of before are gone, so offsets
/// past `at` move back by `len` (offsets inside the range land on `at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub at: usize,
    pub len: usize,
}

impl Removed {
    /// Where an offset into the buffer before the compaction is now.
    pub fn shift(&self, offset: usize) -> usize {
        if offset <= self.at {
            offset
        } else {
            self.at.max(offset.saturating_sub(self.len))
        }
    }
}

impl Capped {
    /// An empty buffer keeping at most `cap` bytes (raised to [`MIN_MAX_OUTPUT`]).
    pub fn new(cap: u64) -> Capped {
        Capped::with_bytes(Vec::new(), cap)
    }

    /// Start from bytes already read (they count towards the cap).
    pub fn with_bytes(bytes: Vec<u8>, cap: u64) -> Capped {
        let cap = usize::try_from(cap.max(MIN_MAX_OUTPUT)).unwrap_or(usize::MAX);
        let mut c = Capped {
            bytes,
            cap,
            cut: None,
        };
        c.compact();
        c
    }

    /// Room over the cap before bytes are dropped, so that dropping (a memmove of the
    /// tail) happens once per `slack` bytes received, not on every read.
    fn slack(&self) -> usize {
        (self.cap / 4).max(1)
    }

    /// Append `data`; when over the cap, drop bytes from the middle and say which.
    pub fn extend(&mut self, data: &[u8]) -> Option<Removed> {
        let limit = self.cap.saturating_add(self.slack());
        let want = self.bytes.len().saturating_add(data.len());
        if want > self.bytes.capacity() {
            // Grow exactly up to the limit: doubling past it would double the peak.
            let target = want
                .max(self.bytes.capacity().saturating_mul(2))
                .min(limit.max(want));
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        if self.bytes.len() > limit {
            self.compact()
        } else {
            None
        }
    }

    /// Keep the head (half the cap) and the latest bytes (the other half).
    fn compact(&mut self) -> Option<Removed> {
        if self.bytes.len() <= self.cap {
            return None;
        }
        let head = match self.cut {
            Some((at, _)) => at,
            None => self.cap / 2,
        };
        let tail = self.cap - head;
        let end = self.bytes.len() - tail;
        if end <= head {
            return None;
        }
        self.bytes.drain(head..end);
        let len = end - head;
        let before = self.cut.map_or(0, |(_, n)| n);
        self.cut = Some((head, before.saturating_add(len as u64)));
        Some(Removed { at: head, len })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes dropped so far.
    pub fn dropped(&self) -> u64 {
        self.cut.map_or(0, |(_, n)| n)
    }

    /// Keep only the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.bytes.truncate(len);
        if matches!(self.cut, Some((at, _)) if at > len) {
            self.cut = None;
        }
    }

    /// Split off everything from `at` on (bytes belonging to what comes next).
    pub fn split_off(&mut self, at: usize) -> Vec<u8> {
        let rest = self.bytes.split_off(at.min(self.bytes.len()));
        if matches!(self.cut, Some((c, _)) if c > at) {
            self.cut = None;
        }
        rest
    }

    /// The text: `render` applied to the head and to the tail, with a marker between
    /// them when bytes were dropped. Exactly `cap` bytes are shown when more arrived (the
    /// slack is dropped too), so the same output always gives the same text.
    pub fn text_with(&self, render: impl Fn(&[u8]) -> String) -> String {
        let (head, tail, dropped) = match self.cut {
            None if self.bytes.len() <= self.cap => return render(&self.bytes),
            None => {
                let head = self.cap / 2;
                (head, self.bytes.len() - (self.cap - head), 0)
            }
            Some((at, n)) => (
                at,
                self.bytes.len() - (self.cap - at).min(self.bytes.len() - at),
                n,
            ),
        };
        let dropped = dropped.saturating_add((tail - head) as u64);
        let mut s = render(&self.bytes[..head]);
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&marker(dropped, self.cap));
        s.push('\n');
        s.push_str(&render(&self.bytes[tail..]));
        s
    }

    /// [`Capped::text_with`] as UTF-8 (invalid sequences replaced).
    pub fn text(&self) -> String {
        self.text_with(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// The line put where output was dropped.
pub fn marker(dropped: u64, cap: usize) -> String {
    format!(
        "[netorch: {dropped} bytes of output dropped here; max_output is {}]",
        size_text(cap as u64)
    )
}

/// A byte count as people read it: `16MiB`, `512KiB`, `1000 bytes`.
pub fn size_text(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n % (1 << shift) == 0 {
            return format!("{}{unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

/// The end of `text` for an error message: at most [`EXCERPT_BYTES`], cut at a line start
/// when one is near, with a note of how much came before.
pub fn excerpt(text: &str) -> String {
    if text.len() <= EXCERPT_BYTES {
        return text.to_string();
    }
    let mut from = text.len() - EXCERPT_BYTES;
    while !text.is_char_boundary(from) {
        from += 1;
    }
    if let Some(nl) = text[from..].find('\n') {
        if nl + 1 < text.len() - from {
            from += nl + 1;
        }
    }
    let mut s = String::with_capacity(text.len() - from + 64);
    let _ = writeln!(
        s,
        "[... {from} bytes before; the whole output is in the result]"
    );
    s.push_str(&text[from..]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_with_a_marker() {
        let mut c = Capped::new(MIN_MAX_OUTPUT);
        let line = b"y\n";
        let mut total = 0u64;
        for _ in 0..100_000 {
            c.extend(line);
            total += 2;
            assert!(c.len() <= (MIN_MAX_OUTPUT + MIN_MAX_OUTPUT / 4) as usize);
        }
        assert_eq!(c.dropped() + c.len() as u64, total);
        c.extend(b"END\n");
        total += 4;
        let text = c.text();
        assert!(text.starts_with("y\ny\n"), "{}", &text[..10]);
        assert!(text.ends_with("y\nEND\n"));
        let m = marker(total - MIN_MAX_OUTPUT, MIN_MAX_OUTPUT as usize);
        assert_eq!(text.matches(&m).count(), 1, "{m}");
        assert!(m.contains("max_output is 4KiB"), "{m}");
    }

    #[test]
    fn capacity_does_not_run_past_the_limit() {
        let mut c = Capped::new(64 << 10);
        let chunk = vec![b'x'; 16 << 10];
        for _ in 0..100 {
            c.extend(&chunk);
        }
        // The cap, its slack, and at most one read more.
        assert!(c.bytes.capacity() <= (96 << 10), "{}", c.bytes.capacity());
    }

    #[test]
    fn removed_shifts_offsets() {
        let r = Removed { at: 10, len: 5 };
        assert_eq!(r.shift(3), 3);
        assert_eq!(r.shift(10), 10);
        assert_eq!(r.shift(12), 10);
        assert_eq!(r.shift(20), 15);
    }

    #[test]
    fn small_output_is_untouched() {
        let mut c = Capped::new(DEFAULT_MAX_OUTPUT);
        assert_eq!(c.extend(b"hello\n"), None);
        assert_eq!(c.text(), "hello\n");
        assert_eq!(c.dropped(), 0);
    }

    #[test]
    fn excerpt_keeps_the_end() {
        let long: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let e = excerpt(&long);
        assert!(e.len() < EXCERPT_BYTES + 100);
        assert!(e.ends_with("line 1999\n"));
        assert!(e.starts_with("[... "));
        assert_eq!(excerpt("short"), "short");
    }
}
