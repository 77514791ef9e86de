#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd, from scripts/pyenv's venv).

Usage: smtpd.py --port N --out DIR [--user U --password P] [--starttls CERT KEY]
                [--implicit-tls CERT KEY]

Each message received is written to DIR as <n>.json: the envelope, the raw message, its
decoded parts, the authenticated user and whether the session was encrypted. Prints READY
once it listens and runs until killed. Loopback only.
"""
import argparse
import email
import email.policy
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    count = [0]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            count[0] += 1
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            parts = [
                {"type": p.get_content_type(), "content": p.get_content()}
                for p in msg.walk()
                if not p.is_multipart()
            ]
            doc = {
                "subject": str(msg["subject"]),
                "content_type": msg.get_content_type(),
                "parts": parts,
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "auth_user": session.auth_data.login.decode()
                if isinstance(session.auth_data, LoginPassword)
                else None,
                "tls": session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            }
            tmp = os.path.join(a.out, f".{count[0]}.tmp")
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.rename(tmp, os.path.join(a.out, f"{count[0]}.json"))
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def context(pair):
        # A context that also works client-side: aiosmtpd's controller connects to its own
        # implicit-TLS port through it to see that the server is up.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(pair[0], pair[1])
        return ctx

    kw = {}
    if a.user:
        kw.update(authenticator=authenticator, auth_required=True)
        # aiosmtpd only counts STARTTLS as TLS for this check; implicit TLS is encrypted
        # from the first byte anyway.
        kw["auth_require_tls"] = bool(a.starttls)
    if a.starttls:
        kw.update(tls_context=context(a.starttls), require_starttls=True)
    if a.implicit_tls:
        kw["ssl_context"] = context(a.implicit_tls)
    c = Controller(Handler(), hostname="127.0.0.1", port=a.port, **kw)
    c.start()
    print("READY", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
