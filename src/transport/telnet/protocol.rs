//! The telnet protocol (RFC 854/855) as a byte-level state machine: IAC commands and
//! option negotiation are taken out of the server's bytes and answered; what is left is
//! the device's text. State carries over between reads, so a sequence split across TCP
//! segments (`IAC` at the end of one read, `WILL ECHO` at the start of the next) is
//! handled the same as a whole one.
//!
//! Hand-written rather than a crate: the client side of telnet that a device CLI needs is
//! this one small machine (a handful of states, four options), it has to sit under our
//! own read timeouts and line-ending rules, and `libtelnet-rs`, the one maintained pure
//! Rust parser, would bring an event API and the `bytes` crate for no less code here.
//!
//! Negotiation policy (the client's side): the server may ECHO and SUPPRESS-GO-AHEAD;
//! we offer TERMINAL-TYPE (`VT100`) and NAWS (the PTY size SSH asks for); everything
//! else is refused. We answer only requests that change an option's state, as RFC 1143
//! asks, so two sides cannot loop.

pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
pub const SB: u8 = 250;
pub const SE: u8 = 240;

pub const OPT_ECHO: u8 = 1;
pub const OPT_SGA: u8 = 3;
pub const OPT_TTYPE: u8 = 24;
pub const OPT_NAWS: u8 = 31;

const TTYPE_IS: u8 = 0;
const TTYPE_SEND: u8 = 1;

/// The terminal type we announce: what network devices expect from a console.
pub const TERMINAL_TYPE: &str = "VT100";

/// A subnegotiation longer than this is not one we need: the rest is skipped (a server
/// that never sends `IAC SE` cannot make us buffer without end).
const MAX_SB: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// After a CR in data: a following NUL or LF completes the line ending.
    Cr,
    Iac,
    /// After `IAC WILL/WONT/DO/DONT`, waiting for the option byte.
    Verb(u8),
    /// Inside `IAC SB`, before the option byte.
    SbOption,
    Sb,
    /// An `IAC` inside a subnegotiation: `SE` ends it, `IAC` is a data 0xFF.
    SbIac,
}

/// The client side of a telnet session's negotiation and data stream.
#[derive(Debug, Clone)]
pub struct Parser {
    state: State,
    /// Options the server performs (its WILL accepted) and we perform (its DO accepted).
    remote: [bool; 256],
    local: [bool; 256],
    sb_option: u8,
    sb: Vec<u8>,
    cols: u16,
    rows: u16,
    /// Whether the server negotiated at all (for messages about odd servers).
    negotiated: bool,
}

impl Parser {
    /// A parser that reports a window of `cols` x `rows` when the server asks (NAWS).
    pub fn new(cols: u16, rows: u16) -> Parser {
        Parser {
            state: State::Data,
            remote: [false; 256],
            local: [false; 256],
            sb_option: 0,
            sb: Vec::new(),
            cols,
            rows,
            negotiated: false,
        }
    }

    /// Whether the server performs `option` (e.g. [`OPT_ECHO`]).
    pub fn server_does(&self, option: u8) -> bool {
        self.remote[usize::from(option)]
    }

    /// Whether we perform `option` (e.g. [`OPT_NAWS`]) at the server's request.
    pub fn client_does(&self, option: u8) -> bool {
        self.local[usize::from(option)]
    }

    /// Whether the server sent any telnet command yet.
    pub fn negotiated(&self) -> bool {
        self.negotiated
    }

    /// Take the server's bytes `input`: its text goes to `data` (IAC sequences removed,
    /// `IAC IAC` as one 0xFF, `CR NUL` and `CR LF` as `\r\n`), our answers to its
    /// negotiation go to `reply` (to be written back as they are).
    pub fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, reply: &mut Vec<u8>) {
        for &b in input {
            self.state = match self.state {
                State::Data => self.data_byte(b, data),
                State::Cr => match b {
                    0 | b'\n' => {
                        data.push(b'\n');
                        State::Data
                    }
                    _ => self.data_byte(b, data),
                },
                State::Iac => {
                    self.negotiated = true;
                    match b {
                        IAC => {
                            data.push(IAC);
                            State::Data
                        }
                        WILL | WONT | DO | DONT => State::Verb(b),
                        SB => State::SbOption,
                        // GA, NOP, AYT, data mark and the rest carry no text.
                        _ => State::Data,
                    }
                }
                State::Verb(verb) => {
                    self.negotiate(verb, b, reply);
                    State::Data
                }
                State::SbOption => {
                    self.sb_option = b;
                    self.sb.clear();
                    if b == IAC {
                        State::SbIac
                    } else {
                        State::Sb
                    }
                }
                State::Sb => {
                    if b == IAC {
                        State::SbIac
                    } else {
                        self.sb_push(b);
                        State::Sb
                    }
                }
                State::SbIac => match b {
                    SE => {
                        self.subnegotiation(reply);
                        State::Data
                    }
                    IAC => {
                        self.sb_push(IAC);
                        State::Sb
                    }
                    // A malformed subnegotiation (IAC then anything but SE/IAC): end it
                    // there, as most implementations do, rather than swallow the text.
                    _ => State::Data,
                },
            };
        }
    }

    fn data_byte(&mut self, b: u8, data: &mut Vec<u8>) -> State {
        match b {
            IAC => State::Iac,
            b'\r' => {
                data.push(b'\r');
                State::Cr
            }
            _ => {
                data.push(b);
                State::Data
            }
        }
    }

    fn sb_push(&mut self, b: u8) {
        if self.sb.len() < MAX_SB {
            self.sb.push(b);
        }
    }

    fn negotiate(&mut self, verb: u8, option: u8, reply: &mut Vec<u8>) {
        let i = usize::from(option);
        match verb {
            WILL => {
                let accept = matches!(option, OPT_ECHO | OPT_SGA);
                if accept && !self.remote[i] {
                    self.remote[i] = true;
                    reply.extend_from_slice(&[IAC, DO, option]);
                } else if !accept {
                    reply.extend_from_slice(&[IAC, DONT, option]);
                }
            }
            WONT if self.remote[i] => {
                self.remote[i] = false;
                reply.extend_from_slice(&[IAC, DONT, option]);
            }
            DO => {
                let accept = matches!(option, OPT_TTYPE | OPT_NAWS | OPT_SGA);
                if accept && !self.local[i] {
                    self.local[i] = true;
                    reply.extend_from_slice(&[IAC, WILL, option]);
                    if option == OPT_NAWS {
                        self.window_size(reply);
                    }
                } else if !accept {
                    reply.extend_from_slice(&[IAC, WONT, option]);
                }
            }
            DONT if self.local[i] => {
                self.local[i] = false;
                reply.extend_from_slice(&[IAC, WONT, option]);
            }
            _ => {}
        }
    }

    /// `IAC SB NAWS cols rows IAC SE`, 16-bit big-endian, 0xFF doubled.
    fn window_size(&self, reply: &mut Vec<u8>) {
        reply.extend_from_slice(&[IAC, SB, OPT_NAWS]);
        for b in self
            .cols
            .to_be_bytes()
            .into_iter()
            .chain(self.rows.to_be_bytes())
        {
            push_escaped(reply, b);
        }
        reply.extend_from_slice(&[IAC, SE]);
    }

    fn subnegotiation(&mut self, reply: &mut Vec<u8>) {
        if self.sb_option == OPT_TTYPE
            && self.local[usize::from(OPT_TTYPE)]
            && self.sb.first() == Some(&TTYPE_SEND)
        {
            reply.extend_from_slice(&[IAC, SB, OPT_TTYPE, TTYPE_IS]);
            reply.extend_from_slice(TERMINAL_TYPE.as_bytes());
            reply.extend_from_slice(&[IAC, SE]);
        }
        self.sb.clear();
    }
}

fn push_escaped(out: &mut Vec<u8>, b: u8) {
    out.push(b);
    if b == IAC {
        out.push(IAC);
    }
}

/// What the client sends for Enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enter {
    /// `\r\n`: what telnet clients send and what devices expect.
    #[default]
    CrLf,
    /// `\r\0`: RFC 854's bare carriage return, for the odd device that takes `\r\n` as
    /// two Enters.
    CrNul,
}

impl Enter {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Enter::CrLf => b"\r\n",
            Enter::CrNul => b"\r\0",
        }
    }
}

/// Our text as telnet bytes: 0xFF doubled, `\n` (or `\r\n`) sent as `enter`, a lone
/// `\r` as `\r\0` (RFC 854: CR not followed by LF must be followed by NUL).
pub fn encode(text: &[u8], enter: Enter, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' if text.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(enter.bytes());
                i += 1;
            }
            b'\n' => out.extend_from_slice(enter.bytes()),
            b'\r' => out.extend_from_slice(b"\r\0"),
            b => push_escaped(out, b),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(p: &mut Parser, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (mut d, mut r) = (Vec::new(), Vec::new());
        p.feed(input, &mut d, &mut r);
        (d, r)
    }

    #[test]
    fn accepts_echo_and_sga_refuses_the_rest() {
        let mut p = Parser::new(80, 24);
        let (d, r) = run(
            &mut p,
            &[IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, WILL, 34, b'x'],
        );
        assert_eq!(d, b"x");
        assert_eq!(
            r,
            [IAC, DO, OPT_ECHO, IAC, DO, OPT_SGA, IAC, DONT, 34].to_vec()
        );
        assert!(p.server_does(OPT_ECHO) && !p.server_does(34));
        // Already on: no answer (no negotiation loop).
        let (_, r) = run(&mut p, &[IAC, WILL, OPT_ECHO]);
        assert!(r.is_empty());
        // Turned off by the server: acknowledged once.
        let (_, r) = run(&mut p, &[IAC, WONT, OPT_ECHO, IAC, WONT, OPT_ECHO]);
        assert_eq!(r, [IAC, DONT, OPT_ECHO].to_vec());
    }

    #[test]
    fn offers_terminal_type_and_window_size() {
        let mut p = Parser::new(511, 24);
        let (_, r) = run(&mut p, &[IAC, DO, OPT_NAWS, IAC, DO, OPT_ECHO]);
        // 511 = 0x01FF: the 0xFF byte is doubled inside the subnegotiation.
        assert_eq!(
            r,
            [
                IAC, WILL, OPT_NAWS, IAC, SB, OPT_NAWS, 1, IAC, IAC, 0, 24, IAC, SE, IAC, WONT,
                OPT_ECHO
            ]
            .to_vec()
        );
        let (_, r) = run(
            &mut p,
            &[IAC, DO, OPT_TTYPE, IAC, SB, OPT_TTYPE, TTYPE_SEND, IAC, SE],
        );
        let mut want = vec![IAC, WILL, OPT_TTYPE, IAC, SB, OPT_TTYPE, TTYPE_IS];
        want.extend_from_slice(b"VT100");
        want.extend_from_slice(&[IAC, SE]);
        assert_eq!(r, want);
        let (_, r) = run(&mut p, &[IAC, DONT, OPT_NAWS, IAC, DONT, OPT_NAWS]);
        assert_eq!(r, [IAC, WONT, OPT_NAWS].to_vec());
    }

    #[test]
    fn subnegotiations_and_commands_leave_no_text() {
        let mut p = Parser::new(80, 24);
        let mut input = b"ab".to_vec();
        input.extend_from_slice(&[IAC, SB, 99, 1, 2, IAC, IAC, 3, IAC, SE]);
        input.extend_from_slice(&[IAC, 249, IAC, 241]); // GA, NOP
        input.extend_from_slice(b"cd");
        input.extend_from_slice(&[IAC, IAC]);
        let (d, r) = run(&mut p, &input);
        assert_eq!(d, b"abcd\xff");
        assert!(r.is_empty());
        assert!(p.negotiated());
    }

    #[test]
    fn an_endless_subnegotiation_is_not_buffered() {
        let mut p = Parser::new(80, 24);
        run(&mut p, &[IAC, SB, 99]);
        for _ in 0..1000 {
            run(&mut p, &[7u8; 1024]);
        }
        assert!(p.sb.len() <= MAX_SB);
        let (d, _) = run(&mut p, &[IAC, SE, b'k']);
        assert_eq!(d, b"k");
    }

    #[test]
    fn cr_nul_and_cr_lf_end_lines() {
        let mut p = Parser::new(80, 24);
        let (d, _) = run(&mut p, b"one\r\0two\r\nthree\rx");
        assert_eq!(d, b"one\r\ntwo\r\nthree\rx");
        // Split after the CR.
        let (d1, _) = run(&mut p, b"a\r");
        let (d2, _) = run(&mut p, b"\0b");
        assert_eq!([d1, d2].concat(), b"a\r\nb");
    }

    #[test]
    fn encoding_escapes_iac_and_sends_enter() {
        let mut out = Vec::new();
        encode(b"a\xffb\n", Enter::CrLf, &mut out);
        assert_eq!(out, b"a\xff\xffb\r\n");
        out.clear();
        encode(b"x\r\ny\rz\n", Enter::CrNul, &mut out);
        assert_eq!(out, b"x\r\0y\r\0z\r\0");
    }

    /// The server's text and commands, as it would send them.
    #[derive(Debug, Clone)]
    enum Piece {
        Text(Vec<u8>),
        Will(u8),
        Do(u8),
        Sub(u8, Vec<u8>),
        Nop,
    }

    fn piece() -> impl Strategy<Value = Piece> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Piece::Text),
            any::<u8>().prop_map(Piece::Will),
            any::<u8>().prop_map(Piece::Do),
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..10))
                .prop_map(|(o, v)| Piece::Sub(o, v)),
            Just(Piece::Nop),
        ]
    }

    proptest! {
        /// However the stream is cut into reads, the text that comes out is the text that
        /// went in (line endings normalised) and the answers are the same.
        #[test]
        fn splitting_never_changes_the_result(
            pieces in proptest::collection::vec(piece(), 0..30),
            cuts in proptest::collection::vec(0usize..400, 0..8),
        ) {
            let mut wire = Vec::new();
            let mut text = Vec::new();
            for p in &pieces {
                match p {
                    Piece::Text(t) => {
                        for &b in t {
                            push_escaped(&mut wire, b);
                        }
                        text.extend_from_slice(t);
                    }
                    Piece::Will(o) => wire.extend_from_slice(&[IAC, WILL, *o]),
                    Piece::Do(o) => wire.extend_from_slice(&[IAC, DO, *o]),
                    Piece::Sub(o, v) => {
                        wire.extend_from_slice(&[IAC, SB]);
                        push_escaped(&mut wire, *o);
                        for &b in v {
                            push_escaped(&mut wire, b);
                        }
                        wire.extend_from_slice(&[IAC, SE]);
                    }
                    Piece::Nop => wire.extend_from_slice(&[IAC, 241]),
                }
            }
            let mut whole = Parser::new(511, 24);
            let (d_whole, r_whole) = run(&mut whole, &wire);
            let mut split = Parser::new(511, 24);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(wire.len())).collect();
            cuts.sort_unstable();
            let (mut d, mut r) = (Vec::new(), Vec::new());
            let mut at = 0;
            for c in cuts.into_iter().chain([wire.len()]) {
                split.feed(&wire[at..c], &mut d, &mut r);
                at = c;
            }
            prop_assert_eq!(&d, &d_whole);
            prop_assert_eq!(&r, &r_whole);
            // The text is the input with CR NUL / CR LF made CR LF.
            let mut want = Vec::new();
            let mut i = 0;
            while i < text.len() {
                want.push(text[i]);
                if text[i] == b'\r' && matches!(text.get(i + 1), Some(0) | Some(b'\n')) {
                    want.push(b'\n');
                    i += 1;
                }
                i += 1;
            }
            prop_assert_eq!(d, want);
        }

        /// What we encode, a server decodes back (Enter as CR LF).
        #[test]
        fn encoded_text_round_trips(text in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text: Vec<u8> = text.into_iter().filter(|b| *b != b'\r').collect();
            let mut wire = Vec::new();
            encode(&text, Enter::CrLf, &mut wire);
            let mut p = Parser::new(80, 24);
            let (d, _) = run(&mut p, &wire);
            let want: Vec<u8> = text
                .iter()
                .flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] })
                .collect();
            prop_assert_eq!(d, want);
        }
    }
}
