#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd): it accepts mail on
HOST:PORT and writes each message, as received, to DIR/NNNN.eml (first to a
dotfile, then renamed, so a reader never sees half a message). With --user and
--password-file it offers AUTH PLAIN over the plain connection and
refuses mail from clients that did not log in with them.

    smtp-sink.py --listen 127.0.0.1:2525 --dir /tmp/mail [--user U --password-file F]
"""
import argparse
import asyncio
import itertools
import os
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.seq)
        tmp = os.path.join(self.dir, ".%04d.eml" % n)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: %s\r\n" % envelope.mail_from.encode())
            f.write(b"X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, "%04d.eml" % n))
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--user")
    p.add_argument("--password-file")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    kw = {}
    if a.user:
        with open(a.password_file) as f:
            password = f.read().strip()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        # PLAIN only: Alertmanager's LOGIN expects the challenges "Username:" and "Password:",
        # which aiosmtpd does not send; Go sends PLAIN without TLS only to a loopback server.
        kw = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    c = Controller(Sink(a.dir), hostname=host, port=int(port), **kw)
    c.start()
    print("smtp-sink: listening on %s, writing to %s%s" % (a.listen, a.dir, " (AUTH required)" if a.user else ""), flush=True)
    loop = asyncio.new_event_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, loop.stop)
    loop.run_forever()
    c.stop()


if __name__ == "__main__":
    main()
