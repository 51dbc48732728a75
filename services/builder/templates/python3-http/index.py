# gitfaas python3-http runtime: serves the OpenFaaS python3-http handler signature
#   def handle(event, context) -> {"statusCode": int, "body": ..., "headers": {...}}
# with event.body (bytes), .headers, .method, .query, .path, on the standard library's
# http.server (no Flask).
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function import handler  # noqa: E402

MAX_BODY = int(os.getenv("MAX_RAW_SIZE", str(100 * 1024 * 1024)))


class Event:
    def __init__(self, body, headers, method, query, path):
        self.body = body
        self.headers = headers
        self.method = method
        self.query = query
        self.path = path


class Context:
    def __init__(self):
        self.hostname = os.getenv("HOSTNAME", "localhost")


def format_response(res):
    if res is None:
        return 200, [], b""
    if not isinstance(res, dict):
        return 200, [("Content-Type", "text/html; charset=utf-8")], str(res).encode()
    status = int(res.get("statusCode", 200))
    raw_headers = res.get("headers", {}) or {}
    headers = list(raw_headers.items()) if isinstance(raw_headers, dict) else list(raw_headers)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    body = res.get("body", "")
    if isinstance(body, (bytes, bytearray)):
        payload = bytes(body)
    elif isinstance(body, (dict, list)) and content_type != "application/octet-stream":
        payload = json.dumps(body).encode()
        if not content_type:
            headers.append(("Content-Type", "application/json"))
            content_type = "application/json"
    else:
        payload = str(body).encode()
    if not content_type:
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    return status, headers, payload


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gitfaas-python3-http"

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        url = urlsplit(self.path)
        if url.path == "/_/health":
            return self._send(200, [("Content-Type", "text/plain")], b"OK")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, [("Content-Type", "text/plain")], b"request body too large")
        body = self.rfile.read(length) if length > 0 else b""
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        event = Event(body, self.headers, self.command, query, url.path)
        try:
            status, headers, payload = format_response(handler.handle(event, Context()))
        except Exception as err:  # the handler's error becomes a 500, as in the OpenFaaS template
            print(f"handler error: {err!r}", file=sys.stderr, flush=True)
            status, headers, payload = 500, [("Content-Type", "text/plain")], str(err).encode()
        self._send(status, headers, payload)

    def _send(self, status, headers, payload):
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


def main():
    port = int(os.getenv("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print(f"python3-http function listening on port {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
