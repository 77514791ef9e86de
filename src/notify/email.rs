//! Mail over SMTP (lettre's blocking transport): one message per run, text/plain with a
//! text/html alternative, both made from the same [`RunSummary`].

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::config::{Email, Links, SmtpTls};
use super::summary::{render_html, render_text, RunSummary, Style};
use super::NotifyError;

/// The HTML part's budget (the text part has [`Style::EMAIL`]'s).
const HTML_MAX_BYTES: usize = 3 << 20;

/// The message a target sends.
pub fn message(
    e: &Email,
    s: &RunSummary,
    links: &Links,
    label: &str,
) -> Result<Message, NotifyError> {
    let err = |reason: String| NotifyError::Config {
        target: label.to_string(),
        reason,
    };
    let from: Mailbox = e
        .from
        .parse()
        .map_err(|x| err(format!("`from` {}: {x}", e.from)))?;
    let mut b = Message::builder().from(from).subject(
        format!("{} {}", e.subject_prefix, s.headline())
            .trim()
            .to_string(),
    );
    for t in &e.to {
        let to: Mailbox = t.parse().map_err(|x| err(format!("`to` {t}: {x}")))?;
        b = b.to(to);
    }
    let text = render_text(s, links, Style::EMAIL);
    let html = render_html(s, links, HTML_MAX_BYTES);
    b.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            ),
    )
    .map_err(|x| err(format!("cannot build the message: {x}")))
}

/// Connect, authenticate and send.
pub fn send(e: &Email, msg: &Message, label: &str) -> Result<(), NotifyError> {
    let fail = |reason: String| NotifyError::Send {
        target: label.to_string(),
        attempts: 1,
        reason,
    };
    let params = || -> Result<TlsParameters, NotifyError> {
        let mut p = TlsParameters::builder(e.server.clone());
        if let Some(ca) = &e.ca_file {
            let pem =
                std::fs::read(ca).map_err(|x| fail(format!("ca_file {}: {x}", ca.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|x| fail(format!("ca_file {}: {x}", ca.display())))?;
            p = p.add_root_certificate(cert);
        }
        p.build().map_err(|x| fail(format!("TLS setup: {x}")))
    };
    let tls = match e.tls {
        SmtpTls::Starttls => Tls::Required(params()?),
        SmtpTls::Tls => Tls::Wrapper(params()?),
        SmtpTls::None => Tls::None,
    };
    let mut b = SmtpTransport::builder_dangerous(e.server.as_str())
        .port(e.port)
        .tls(tls)
        // lettre's timeout is per network operation; the caller bounds the whole send.
        .timeout(Some(e.timeout));
    if let (Some(user), Some(pw)) = (&e.username, &e.password) {
        let pw = pw.read().map_err(|reason| NotifyError::Config {
            target: label.to_string(),
            reason,
        })?;
        b = b.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
    }
    let transport = b.build();
    transport
        .send(msg)
        .map(|_| ())
        .map_err(|x| fail(smtp_error(&x)))
}

/// lettre's error with its cause chain (the server's reply, the TLS or socket error).
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // A socket read timeout shows as EAGAIN: say what it means.
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return "the server did not answer in time (the target's timeout)".into();
            }
        }
        src = s.source();
    }
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}
