"""What kind of build the suite runs against (ATENDE_BUILD_DIR)."""
import os
import pathlib


def sanitized_build():
    """True when ATENDE_BUILD_DIR is a sanitizer build (CMake's ATENDE_SANITIZE)."""
    build = os.environ.get("ATENDE_BUILD_DIR")
    cache = pathlib.Path(build) / "CMakeCache.txt" if build else None
    return bool(cache and cache.is_file() and "ATENDE_SANITIZE:BOOL=ON" in cache.read_text())


def grpc_built():
    """False when atende was built with ATENDE_GRPC=OFF (no gRPC control service): CMake's
    cache says so when ATENDE_BUILD_DIR is known; else the binary (ATENDE_BIN) carries the
    error text only a build without gRPC has."""
    build = os.environ.get("ATENDE_BUILD_DIR")
    cache = pathlib.Path(build) / "CMakeCache.txt" if build else None
    if cache and cache.is_file():
        for line in cache.read_text().splitlines():
            if line.startswith("ATENDE_GRPC:"):
                return line.split("=", 1)[1].strip().upper() in ("ON", "1", "TRUE", "YES")
    binary = os.environ.get("ATENDE_BIN")
    if binary and os.path.isfile(binary):
        return b"grpc_listen: built without gRPC" not in pathlib.Path(binary).read_bytes()
    return True
