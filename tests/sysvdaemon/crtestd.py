#!/usr/bin/python3
"""A tiny TCP daemon for the service tests: each connection gets one line,
``crtestd pid=PID reloads=N``, so a test sees a restart (new pid) and a
reload (SIGHUP counted) from outside, through the port."""

import argparse
import signal
import socketserver


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    reloads = [0]

    class Answer(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            import os
            self.wfile.write(f"crtestd pid={os.getpid()} reloads={reloads[0]}\n".encode())

    def reload(signum, frame) -> None:
        reloads[0] += 1

    def stop(signum, frame) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, stop)
    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.TCPServer(("127.0.0.1", port), Answer) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
