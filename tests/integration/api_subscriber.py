#!/usr/bin/env python3
# A subscriber over HTTPS (stdlib): answers the test GET with 204 and appends each POSTed
# notification (one JSON per line) to OUT. The first FAIL_FIRST POSTs get 503 (to see retries).
# Usage: api_subscriber.py PORTFILE CERT KEY OUT FAIL_FIRST
import http.server, ssl, sys

portfile, cert, key, out, fail_first = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
posts = 0

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(204)
        self.end_headers()
    def do_POST(self):
        global posts
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        posts += 1
        if posts <= fail_first:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
