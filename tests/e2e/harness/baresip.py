"""baresip 1.0 as a headless softphone: plays a WAV as its microphone (aufile), records what
it hears (sndfile: dump-*-dec.wav, 8 kHz) and is steered over ctrl_tcp (netstring JSON), so
a test can dial, press digits and hang up at chosen moments."""
import glob
import json
import pathlib
import socket
import subprocess
import threading
import time

from .ports import LOOPBACK, free_port

MODULE_PATH = "/usr/lib/baresip/modules"


class Baresip:
    def __init__(self, workdir, source_wav, *, max_seconds=60, codecs="PCMU", user="peer",
                 answermode=None, registrar=None, password=None, regint=60, name="baresip",
                 mediaenc=None, cafile=None, certificate=None):
        """`user` is the user part of the From URI: the caller's number to the server.

        As a callee: answermode "auto" answers every call at once, "manual" lets it ring
        until the caller gives up (CANCEL -> 487) or a test calls answer()/hangup().
        registrar: a harness Kamailio (or "host:port") to REGISTER user at, with password
        (digest), every regint s; then the account's AOR is sip:user@registrar and other
        peers reach it through the proxy. name: the folder under workdir (several
        instances in one test need different names).
        mediaenc: "srtp" (SDES on RTP/AVP, best effort) or "srtp-mand" (RTP/SAVP only), with
        the srtp module loaded. cafile: PEM of the CAs baresip trusts for SIP over TLS (its
        sip_cafile); certificate: PEM key + certificate for its own TLS listener (port+1,
        sip_certificate). Dial a "...;transport=tls" URI to call over TLS."""
        self.dir = pathlib.Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.record_dir = self.dir / "recordings"
        self.record_dir.mkdir(exist_ok=True)
        self.sip_port = free_port(span=2)  # baresip also binds TLS on port+1
        self.ctrl_port = free_port()
        self.max_seconds = max_seconds
        self.log_path = self.dir / "baresip.log"
        self.user = user
        self.registrar = getattr(registrar, "target", registrar)
        self._token = 0
        self.proc = None
        self._rejecter = None
        self._stop_rejecting = threading.Event()
        (self.dir / "config").write_text("\n".join([
            "poll_method epoll",
            f"sip_listen {LOOPBACK}:{self.sip_port}",
            # Media on loopback too: its SDP then names the address its RTP comes from
            # (atende takes RTP only from the SDP's address, docs/media.md); else it would
            # name the first interface's address and send from 127.0.0.1.
            f"net_interface {LOOPBACK}",
            f"module_path {MODULE_PATH}",
            "module g711.so", "module aufile.so", "module alsa.so", "module sndfile.so",
            "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {LOOPBACK}:{self.ctrl_port}",
            "audio_player alsa,null", "audio_alert alsa,null",
            f"audio_source aufile,{source_wav}",
            f"snd_path {self.record_dir}",
            *(["module srtp.so"] if mediaenc else []),
            *([f"sip_cafile {cafile}"] if cafile else []),
            *([f"sip_certificate {certificate}"] if certificate else []),
            "",
        ]))
        params = [f"audio_codecs={codecs}"]
        if self.registrar:
            aor = f"<sip:{user}@{self.registrar};transport=udp>"
            params.insert(0, f"regint={int(regint)}")
            if password is not None:
                params.insert(1, f"auth_pass={password}")
        else:
            aor = f"<sip:{user}@{LOOPBACK}:{self.sip_port}>"
            params.insert(0, "regint=0")
        if answermode:
            params.append(f"answermode={answermode}")
        if mediaenc:
            params.append(f"mediaenc={mediaenc}")
        (self.dir / "accounts").write_text(aor + ";" + ";".join(params) + "\n")
        (self.dir / "contacts").write_text("")

    @property
    def uri(self):
        """Where to call it directly (bypassing any registrar)."""
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port}"

    @property
    def target(self):
        return f"{LOOPBACK}:{self.sip_port}"

    @property
    def tls_uri(self):
        """Where to call it over TLS (its TLS listener is sip_port + 1; needs certificate)."""
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port + 1};transport=tls"

    def start(self, timeout=10.0, attempts=3):
        """Starts baresip and waits for its control port. Ports are picked free but another
        process may take one before baresip binds it (tests run in parallel): baresip then
        logs "Address already in use" and would be steered through someone else's port, so
        it is restarted on fresh ports."""
        for attempt in range(attempts):
            self.proc = subprocess.Popen(
                ["baresip", "-f", str(self.dir), "-t", str(self.max_seconds)], cwd=self.dir,
                stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
            if self._wait_ready(timeout):
                return self
            if attempt + 1 < attempts:
                self.proc.kill()
                self.proc.wait()
                self._move_to_fresh_ports()
        raise AssertionError(f"baresip could not bind its ports\n{self.log()}")

    def _wait_ready(self, timeout):
        """True once baresip says it is ready with every port bound; False on a port taken."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if "Address already in use" in text:
                return False
            if self.proc.poll() is not None:
                raise AssertionError(f"baresip exited {self.proc.returncode}\n{text}")
            if "baresip is ready" in text:
                try:
                    socket.create_connection((LOOPBACK, self.ctrl_port), timeout=0.2).close()
                    return True
                except OSError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"baresip control port never opened\n{self.log()}")

    def _move_to_fresh_ports(self):
        old_sip, old_ctrl = self.sip_port, self.ctrl_port
        self.sip_port, self.ctrl_port = free_port(span=2), free_port()
        for name in ("config", "accounts"):
            path = self.dir / name
            text = path.read_text()
            text = text.replace(f"{LOOPBACK}:{old_sip}", f"{LOOPBACK}:{self.sip_port}")
            text = text.replace(f"{LOOPBACK}:{old_ctrl}", f"{LOOPBACK}:{self.ctrl_port}")
            path.write_text(text)

    def command(self, name, params=""):
        """Sends one ctrl_tcp command and returns its JSON response (or None)."""
        self._token += 1
        msg = json.dumps({"command": name, "params": params, "token": str(self._token)}).encode()
        # Events (call progress) may arrive on the same connection before the response:
        # read netstrings until the one carrying "response" shows up, or 3 s pass.
        deadline = time.monotonic() + 3.0
        data = b""
        with socket.create_connection((LOOPBACK, self.ctrl_port), timeout=3) as s:
            s.sendall(b"%d:%s," % (len(msg), msg))
            while (left := deadline - time.monotonic()) > 0:
                for part in _netstrings(data):
                    try:
                        obj = json.loads(part)
                    except ValueError:
                        continue
                    if obj.get("response"):
                        return obj
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                data += chunk
        return None

    def answer(self):
        """Answers the ringing incoming call (answermode manual)."""
        return self.command("accept")

    def reject_calls(self, delay_s=0.0):
        """From now on, refuse every incoming call with 486 (baresip's hangup of a ringing
        call answers "486 Rejected"): a busy callee. Needs answermode "manual". A thread
        watches the log for "Incoming call" and hangs up delay_s later (180 goes first)."""
        def watch():
            seen = 0
            while not self._stop_rejecting.is_set():
                count = self.full_log().count("Incoming call from")
                if count > seen:
                    seen = count
                    time.sleep(delay_s)
                    try:
                        self.command("hangup")
                    except OSError:
                        return
                time.sleep(0.05)
        self._rejecter = threading.Thread(target=watch, daemon=True)
        self._rejecter.start()
        return self

    def wait_log(self, text, timeout=10.0):
        """Waits until `text` appears in baresip's output (e.g. "Call established",
        "200 OK", "registered"); True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.full_log():
                return True
            if self.proc and self.proc.poll() is not None:
                return text in self.full_log()
            time.sleep(0.1)
        return False

    def full_log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def dial(self, uri):
        return self.command("dial", uri)

    def send_digits(self, digits, gap_s=0.4):
        for d in digits:
            self.command("sndcode", d)
            time.sleep(gap_s)

    def hangup(self):
        return self.command("hangup")

    def stop(self, timeout=10.0):
        self._stop_rejecting.set()
        if self.proc and self.proc.poll() is None:
            try:
                self.command("quit")
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(5)
        return self.proc.returncode if self.proc else None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def received_wav(self):
        """Path of the recording of what baresip heard (decoded audio), or None."""
        found = sorted(glob.glob(str(self.record_dir / "dump-*-dec.wav")))
        return pathlib.Path(found[-1]) if found else None

    def sent_wav(self):
        found = sorted(glob.glob(str(self.record_dir / "dump-*-enc.wav")))
        return pathlib.Path(found[-1]) if found else None


def callee(workdir, source_wav, *, answermode="auto", busy=False, **kwargs):
    """A started baresip that takes calls: answers at once (answermode "auto"), rings
    until cancelled ("manual"), or, busy=True, rings and refuses with 486 Rejected. It plays
    source_wav, records what it hears (received_wav()). Keyword arguments as Baresip
    (registrar, password, user, name, max_seconds...)."""
    peer = Baresip(workdir, source_wav, answermode="manual" if busy else answermode,
                   **kwargs).start()
    return peer.reject_calls() if busy else peer


def _netstrings(data):
    out = []
    while data:
        head, sep, rest = data.partition(b":")
        if not sep or not head.isdigit():
            break
        n = int(head)
        out.append(rest[:n])
        data = rest[n + 1:]
    return out
