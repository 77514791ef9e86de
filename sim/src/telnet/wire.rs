//! The telnet bytes on the device's side: the client's input decoded (IAC commands and
//! subnegotiations taken out, what the client negotiated recorded) and the device's
//! output encoded (0xFF doubled, optionally `\r\0` line ends).

pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
pub const SB: u8 = 250;
pub const SE: u8 = 240;
pub const ECHO: u8 = 1;
pub const SGA: u8 = 3;
pub const TTYPE: u8 = 24;
pub const NAWS: u8 = 31;

/// The client's bytes decoded: IAC taken out, `CR NUL` made `CR`.
#[derive(Debug, Default)]
pub struct Decoder {
    state: u8,
    verb: u8,
    sb: Vec<u8>,
    after_cr: bool,
}

/// What the client negotiated.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// (verb, option) the client sent.
    pub answers: Vec<(u8, u8)>,
    pub terminal_type: Option<String>,
    pub window: Option<(u16, u16)>,
}

const S_DATA: u8 = 0;
const S_IAC: u8 = 1;
const S_VERB: u8 = 2;
const S_SB: u8 = 3;
const S_SB_IAC: u8 = 4;

impl Decoder {
    pub fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, neg: &mut Negotiated) {
        for &b in input {
            match self.state {
                S_DATA => {
                    if b == IAC {
                        self.state = S_IAC;
                        continue;
                    }
                    let skip = self.after_cr && b == 0;
                    self.after_cr = b == b'\r';
                    if !skip {
                        data.push(b);
                    }
                }
                S_IAC => {
                    self.state = match b {
                        IAC => {
                            data.push(IAC);
                            S_DATA
                        }
                        WILL | WONT | DO | DONT => {
                            self.verb = b;
                            S_VERB
                        }
                        SB => {
                            self.sb.clear();
                            S_SB
                        }
                        _ => S_DATA,
                    }
                }
                S_VERB => {
                    neg.answers.push((self.verb, b));
                    self.state = S_DATA;
                }
                S_SB => {
                    if b == IAC {
                        self.state = S_SB_IAC;
                    } else if self.sb.len() < 256 {
                        self.sb.push(b);
                    }
                }
                _ => {
                    if b == SE {
                        self.subnegotiation(neg);
                        self.state = S_DATA;
                    } else {
                        if b == IAC && self.sb.len() < 256 {
                            self.sb.push(IAC);
                        }
                        self.state = S_SB;
                    }
                }
            }
        }
    }

    fn subnegotiation(&mut self, neg: &mut Negotiated) {
        match self.sb.as_slice() {
            [TTYPE, 0, name @ ..] => {
                neg.terminal_type = Some(String::from_utf8_lossy(name).into_owned());
            }
            [NAWS, a, b, c, d] => {
                neg.window = Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])));
            }
            _ => {}
        }
    }
}

/// Device text as telnet bytes: 0xFF doubled, line ends as the faults say.
pub fn encode(text: &[u8], cr_nul: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if cr_nul && b == b'\r' && text.get(i + 1) == Some(&b'\n') {
            out.extend_from_slice(b"\r\0");
            i += 2;
            continue;
        }
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_takes_out_negotiation_and_cr_nul() {
        let mut d = Decoder::default();
        let (mut data, mut neg) = (Vec::new(), Negotiated::default());
        d.feed(
            &[
                IAC, DO, ECHO, b'a', b'\r', 0, IAC, SB, TTYPE, 0, b'V', b'T', IAC, IAC, IAC, SE,
                IAC, SB, NAWS, 1, 0xff,
            ],
            &mut data,
            &mut neg,
        );
        d.feed(&[0xff, 0, 24, IAC, SE, b'b'], &mut data, &mut neg);
        assert_eq!(data, b"a\rb");
        assert_eq!(neg.answers, [(DO, ECHO)]);
        assert_eq!(neg.terminal_type.as_deref(), Some("VT\u{fffd}"));
        assert_eq!(neg.window, Some((511, 24)));
    }

    #[test]
    fn encoding_doubles_iac_and_can_end_lines_with_cr_nul() {
        assert_eq!(encode(b"a\xff\r\n", false), b"a\xff\xff\r\n");
        assert_eq!(encode(b"a\r\nb", true), b"a\r\0b");
    }
}
