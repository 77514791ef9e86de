//! RFC 6242 message framing: base:1.0 end-of-message (`]]>]]>`) and base:1.1 chunked
//! framing. The peer decides nothing about memory: a message larger than the limit (the
//! host's `max_output`) is refused before its bytes are kept, a chunk header must be
//! well-formed within a few bytes, and a peer that never ends a message runs into the
//! caller's deadline (every read goes through a reader that enforces it).

use std::io::{self, Read};

/// The base:1.0 end-of-message marker.
pub const EOM: &[u8] = b"]]>]]>";

/// The largest chunk RFC 6242 allows (4294967295 bytes).
const MAX_CHUNK: u64 = 4_294_967_295;

/// Longest chunk size: ten digits.
const MAX_CHUNK_DIGITS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// base:1.0: a message ends with `]]>]]>` (always used for `<hello>`).
    EndOfMessage,
    /// base:1.1: `\n#<size>\n<data>` chunks, ended by `\n##\n`.
    Chunked,
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("a message larger than {limit} bytes (max_output); raise `max_output` if the device really sends that much")]
    TooLarge { limit: usize },
    #[error("bad framing: {0}")]
    Malformed(String),
    #[error("the server closed the channel in the middle of a message")]
    Eof,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A message, framed for sending.
pub fn encode(msg: &[u8], framing: Framing) -> Vec<u8> {
    match framing {
        Framing::EndOfMessage => {
            let mut v = Vec::with_capacity(msg.len() + EOM.len());
            v.extend_from_slice(msg);
            v.extend_from_slice(EOM);
            v
        }
        Framing::Chunked => {
            let mut v = format!("\n#{}\n", msg.len()).into_bytes();
            v.extend_from_slice(msg);
            v.extend_from_slice(b"\n##\n");
            v
        }
    }
}

/// Reads framed messages from a byte stream, keeping bytes read past the end of one
/// message for the next.
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    limit: usize,
}

impl FrameReader {
    /// `limit`: the largest message kept, in bytes.
    pub fn new(limit: u64) -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
    }

    pub fn set_limit(&mut self, limit: u64) {
        self.limit = usize::try_from(limit).unwrap_or(usize::MAX);
    }

    /// The next whole message.
    pub fn read_message<R: Read>(
        &mut self,
        r: &mut R,
        framing: Framing,
    ) -> Result<Vec<u8>, FrameError> {
        match framing {
            Framing::EndOfMessage => self.read_eom(r),
            Framing::Chunked => self.read_chunked(r),
        }
    }

    /// Read once more into the buffer; end of stream is an error (we are inside a message).
    fn fill<R: Read>(&mut self, r: &mut R) -> Result<(), FrameError> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            match r.read(&mut tmp) {
                Ok(0) => return Err(FrameError::Eof),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }

    fn need<R: Read>(&mut self, r: &mut R, n: usize) -> Result<(), FrameError> {
        while self.buf.len() < n {
            self.fill(r)?;
        }
        Ok(())
    }

    fn read_eom<R: Read>(&mut self, r: &mut R) -> Result<Vec<u8>, FrameError> {
        let mut scanned = 0;
        loop {
            if let Some(at) = find(&self.buf[scanned..], EOM) {
                let end = scanned + at;
                let msg = self.buf[..end].to_vec();
                self.buf.drain(..end + EOM.len());
                return Ok(msg);
            }
            // The marker may straddle two reads.
            scanned = self.buf.len().saturating_sub(EOM.len() - 1);
            if self.buf.len() > self.limit.saturating_add(EOM.len()) {
                self.buf.clear();
                return Err(FrameError::TooLarge { limit: self.limit });
            }
            self.fill(r)?;
        }
    }

    fn read_chunked<R: Read>(&mut self, r: &mut R) -> Result<Vec<u8>, FrameError> {
        let mut msg = Vec::new();
        loop {
            self.need(r, 3)?;
            if &self.buf[..2] != b"\n#" {
                return Err(self.malformed("expected a chunk header `\\n#<size>\\n`"));
            }
            if self.buf[2] == b'#' {
                self.need(r, 4)?;
                if self.buf[3] != b'\n' {
                    return Err(self.malformed("expected `\\n##\\n` to end the message"));
                }
                if msg.is_empty() {
                    return Err(self.malformed("a message with no chunks"));
                }
                self.buf.drain(..4);
                return Ok(msg);
            }
            let mut i = 2;
            loop {
                self.need(r, i + 1)?;
                match self.buf[i] {
                    b'0'..=b'9' if i - 2 < MAX_CHUNK_DIGITS => i += 1,
                    b'\n' if i > 2 => break,
                    _ => return Err(self.malformed("a chunk size is not 1 to 10 digits")),
                }
            }
            let digits = &self.buf[2..i];
            let size: u64 = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if size == 0 || size > MAX_CHUNK || digits[0] == b'0' {
                return Err(self.malformed("a chunk size outside 1..4294967295"));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if msg.len().saturating_add(size) > self.limit {
                self.buf.clear();
                return Err(FrameError::TooLarge { limit: self.limit });
            }
            let start = i + 1;
            self.need(r, start + size)?;
            msg.extend_from_slice(&self.buf[start..start + size]);
            self.buf.drain(..start + size);
        }
    }

    fn malformed(&mut self, what: &str) -> FrameError {
        let seen: String = String::from_utf8_lossy(&self.buf[..self.buf.len().min(40)])
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        self.buf.clear();
        FrameError::Malformed(format!("{what} (received {seen:?})"))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, as a network does.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn eom_messages_split_across_reads() {
        let data = b"<a/>]]>]]><b>x</b>]]>]]>";
        for step in [1, 2, 5, 100] {
            let mut r = Trickle(data, step);
            let mut fr = FrameReader::new(1 << 20);
            let m = fr.read_message(&mut r, Framing::EndOfMessage).unwrap();
            assert_eq!(m, b"<a/>");
            let m = fr.read_message(&mut r, Framing::EndOfMessage).unwrap();
            assert_eq!(m, b"<b>x</b>");
            assert!(matches!(
                fr.read_message(&mut r, Framing::EndOfMessage),
                Err(FrameError::Eof)
            ));
        }
    }

    #[test]
    fn chunked_round_trip_and_rfc_example() {
        let rfc = b"\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>\n##\n";
        let mut fr = FrameReader::new(1 << 20);
        let m = fr
            .read_message(&mut Trickle(rfc, 3), Framing::Chunked)
            .unwrap();
        assert!(m.starts_with(b"<rpc message-id=\"102\""));
        assert!(m.ends_with(b"</rpc>"));
        let enc = encode(b"<x/>", Framing::Chunked);
        assert_eq!(enc, b"\n#4\n<x/>\n##\n");
        let m = fr
            .read_message(&mut Trickle(&enc, 1), Framing::Chunked)
            .unwrap();
        assert_eq!(m, b"<x/>");
    }

    #[test]
    fn lying_servers_are_errors() {
        let cases: &[&[u8]] = &[
            b"\n#99999999999\n",
            b"\n#0\n",
            b"\n#012\n",
            b"\n#abc\n",
            b"garbage",
            b"\n#\n",
            b"\n##\n",
            b"\n##x",
        ];
        for c in cases {
            let mut fr = FrameReader::new(1 << 20);
            let e = fr
                .read_message(&mut Trickle(c, 64), Framing::Chunked)
                .unwrap_err();
            assert!(matches!(e, FrameError::Malformed(_)), "{c:?}: {e}");
        }
        // A chunk size the limit cannot hold is refused before any data is read.
        let mut fr = FrameReader::new(4096);
        let e = fr
            .read_message(&mut Trickle(b"\n#4294967295\n", 64), Framing::Chunked)
            .unwrap_err();
        assert!(matches!(e, FrameError::TooLarge { limit: 4096 }), "{e}");
        // Endless data without the marker stops at the limit.
        let endless = vec![b'a'; 100_000];
        let mut fr = FrameReader::new(4096);
        let e = fr
            .read_message(&mut Trickle(&endless, 1000), Framing::EndOfMessage)
            .unwrap_err();
        assert!(matches!(e, FrameError::TooLarge { .. }), "{e}");
    }
}
