"""Shared by the examples: Python stubs for proto/atende.proto, made at run time into a
temporary directory (nothing generated is committed), and the token metadata.

Stubs come from Debian's protoc + grpc_python_plugin (packages protobuf-compiler and
protobuf-compiler-grpc), or from grpc_tools (python3-grpc-tools / pip grpcio-tools).
"""
import argparse
import atexit
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_PROTO = HERE.parent.parent / "proto" / "atende.proto"


def load_stubs(proto=DEFAULT_PROTO):
    """(atende_pb2, atende_pb2_grpc) generated from `proto` into a temporary directory."""
    proto = pathlib.Path(proto).resolve()
    out = tempfile.mkdtemp(prefix="atende-grpc-stubs-")
    atexit.register(shutil.rmtree, out, True)
    plugin = shutil.which("grpc_python_plugin")
    if shutil.which("protoc") and plugin:
        cmd = ["protoc", f"--proto_path={proto.parent}", f"--python_out={out}",
               f"--grpc_out={out}", f"--plugin=protoc-gen-grpc={plugin}", str(proto)]
    else:
        cmd = [sys.executable, "-m", "grpc_tools.protoc", f"--proto_path={proto.parent}",
               f"--python_out={out}", f"--grpc_python_out={out}", str(proto)]
    subprocess.run(cmd, check=True)
    sys.path.insert(0, out)
    import atende_pb2  # noqa: E402
    import atende_pb2_grpc  # noqa: E402
    return atende_pb2, atende_pb2_grpc


def common_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--target", default="127.0.0.1:50051", help="atende's --grpc-listen")
    p.add_argument("--token", default=os.environ.get("ATENDE_TOKEN", ""),
                   help="an API token (default: $ATENDE_TOKEN)")
    p.add_argument("--proto", default=str(DEFAULT_PROTO), help="path of atende.proto")
    return p


def metadata(token):
    return [("authorization", f"Bearer {token}")]


def say(*parts):
    """One line to stdout at once (tests and humans read it as it happens)."""
    print(*parts, flush=True)
