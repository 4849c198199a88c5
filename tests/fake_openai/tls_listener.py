"""A second listener for the fakes: the same handler behind TLS (wss://, https://), so the
client's TLS (certificate checks, SNI, the handshake) is tested against Python's ssl module.
The certificate and key are the test's own, made by the `openssl` CLI at test time."""
import ssl
import threading
from http.server import ThreadingHTTPServer


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, cert, key):
        super().__init__(address, handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)

    def get_request(self):
        sock, address = self.socket.accept()
        # The handshake happens in the connection's thread (finish_request): a client that
        # never sends its hello blocks nobody.
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        request.settimeout(30)
        request.do_handshake()
        request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # a client that refused our certificate: what some tests want


def start_tls(handler, host, cert, key):
    """Starts a TLS listener on a free port in a thread; prints `TLS_PORT <n>`."""
    server = TlsServer((host, 0), handler, cert, key)
    print(f"TLS_PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
