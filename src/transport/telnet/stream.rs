//! A telnet session as a [`CliStream`]: a TCP stream with per-call timeouts, the
//! protocol taken out of what is read (and answered at once), our text escaped on write.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::protocol::{encode, Enter, Parser};
use crate::device::channel::CliStream;

pub struct TelnetStream {
    tcp: TcpStream,
    parser: Parser,
    enter: Enter,
    /// Text decoded but not handed out yet (a read larger than the caller's buffer, or
    /// what the login dialogue read past the first prompt and gave back).
    pending: Vec<u8>,
    /// Negotiation answers waiting to be written.
    reply: Vec<u8>,
}

fn clamp(t: Duration) -> Duration {
    // A zero timeout means "block forever" to std; the caller meant "now".
    t.max(Duration::from_millis(1))
}

impl TelnetStream {
    pub fn new(tcp: TcpStream, cols: u16, rows: u16, enter: Enter) -> TelnetStream {
        TelnetStream {
            tcp,
            parser: Parser::new(cols, rows),
            enter,
            pending: Vec::new(),
            reply: Vec::new(),
        }
    }

    /// The negotiation state (for tests and messages).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// Put text back in front of what comes next.
    pub fn unread(&mut self, text: &[u8]) {
        let mut v = text.to_vec();
        v.append(&mut self.pending);
        self.pending = v;
    }

    fn flush_reply(&mut self, timeout: Duration) -> io::Result<()> {
        if self.reply.is_empty() {
            return Ok(());
        }
        self.tcp.set_write_timeout(Some(clamp(timeout)))?;
        let r = self.tcp.write_all(&self.reply);
        self.reply.clear();
        r.map_err(timed_out)
    }
}

/// std reports a socket timeout as `WouldBlock` on Unix; the channel expects `TimedOut`.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "no data")
    } else {
        e
    }
}

impl CliStream for TelnetStream {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let mut raw = [0u8; 16 * 1024];
        // Bytes that were all negotiation give no text: keep reading until text comes.
        while self.pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no data"));
            }
            self.tcp.set_read_timeout(Some(clamp(left)))?;
            let n = match self.tcp.read(&mut raw) {
                Ok(0) => return Ok(0),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(timed_out(e)),
            };
            self.parser
                .feed(&raw[..n], &mut self.pending, &mut self.reply);
            self.flush_reply(Duration::from_secs(5))?;
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn write_all_timeout(&mut self, data: &[u8], timeout: Duration) -> io::Result<()> {
        let mut out = Vec::with_capacity(data.len() + 4);
        encode(data, self.enter, &mut out);
        self.tcp.set_write_timeout(Some(clamp(timeout)))?;
        self.tcp.write_all(&out).map_err(timed_out)
    }
}

impl Drop for TelnetStream {
    fn drop(&mut self) {
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::telnet::protocol::{DO, IAC, OPT_NAWS, OPT_TTYPE, SB, SE, WILL};
    use std::net::TcpListener;

    /// A server that sends negotiation split over several writes, then text; the client
    /// answers as it reads and hands out only the text.
    #[test]
    fn negotiation_split_across_reads_is_answered_and_hidden() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            for part in [
                &[IAC][..],
                &[DO, OPT_NAWS, IAC, DO][..],
                &[OPT_TTYPE, IAC, SB, OPT_TTYPE][..],
                &[1, IAC, SE][..],
                b"r1>\xff\xff",
            ] {
                s.write_all(part).unwrap();
                s.flush().unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            while !got.ends_with(b"x\xff\xff\r\n") {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "client closed; got {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        let tcp = TcpStream::connect(addr).unwrap();
        let mut t = TelnetStream::new(tcp, 511, 24, Enter::CrLf);
        let mut text = Vec::new();
        let mut buf = [0u8; 64];
        while text.len() < 4 {
            let n = t.read_timeout(&mut buf, Duration::from_secs(5)).unwrap();
            text.extend_from_slice(&buf[..n]);
        }
        assert_eq!(text, b"r1>\xff");
        assert!(t.parser().client_does(OPT_NAWS) && t.parser().client_does(OPT_TTYPE));
        // Nothing more comes: a timeout, not a hang.
        let e = t
            .read_timeout(&mut buf, Duration::from_millis(50))
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        t.write_all_timeout(b"x\xff\n", Duration::from_secs(5))
            .unwrap();
        let got = server.join().unwrap();
        let mut want = vec![
            IAC, WILL, OPT_NAWS, IAC, SB, OPT_NAWS, 1, IAC, IAC, 0, 24, IAC, SE,
        ];
        want.extend_from_slice(&[IAC, WILL, OPT_TTYPE, IAC, SB, OPT_TTYPE, 0]);
        want.extend_from_slice(b"VT100");
        want.extend_from_slice(&[IAC, SE]);
        want.extend_from_slice(b"x\xff\xff\r\n");
        assert_eq!(got, want);
    }
}
