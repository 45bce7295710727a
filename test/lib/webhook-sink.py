#!/usr/bin/python3
"""A webhook receiver for the tests in a guest: it accepts POSTs on HOST:PORT and writes
each body, as received, to DIR/NNNN.json (first to a dotfile, then renamed).

    webhook-sink.py --listen 127.0.0.1:9099 --dir /var/tmp/hooks
"""
import argparse
import http.server
import itertools
import os


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    seq = itertools.count(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            n = next(seq)
            tmp = os.path.join(a.dir, ".%04d.json" % n)
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, os.path.join(a.dir, "%04d.json" % n))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    print("webhook-sink: listening on %s, writing to %s" % (a.listen, a.dir), flush=True)
    http.server.HTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
