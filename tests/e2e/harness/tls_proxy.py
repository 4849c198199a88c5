"""A TLS terminator for tests, as an operator puts in front of a plain WebSocket service:
it takes TLS connections on a free loopback port (Python's ssl module, the given
certificate) and relays each one's bytes to a plain TCP backend, both ways. Connections
whose handshake fails (the client refused our certificate) are counted and closed."""
import socket
import ssl
import threading


class TlsProxy:
    def __init__(self, cert, key, backend_port=None):
        self.backend_port = backend_port  # may be set after start, before the first client
        self.handshakes_ok = 0
        self.handshakes_failed = 0
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(str(cert), str(key))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self):
        self._listener.close()

    def _accept_loop(self):
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(10)
        try:
            tls = self._ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.handshakes_failed += 1
            raw.close()
            return
        with self._lock:
            self.handshakes_ok += 1
        tls.settimeout(None)
        backend = socket.create_connection(("127.0.0.1", self.backend_port))
        done = threading.Event()

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            done.set()

        threading.Thread(target=pump, args=(tls, backend), daemon=True).start()
        threading.Thread(target=pump, args=(backend, tls), daemon=True).start()
        done.wait()
        for s in (backend, tls):
            try:
                s.close()
            except OSError:
                pass
