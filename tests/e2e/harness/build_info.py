"""What kind of build the suite runs against (ATENDE_BUILD_DIR)."""
import os
import pathlib


def sanitized_build():
    """True when ATENDE_BUILD_DIR is a sanitizer build (CMake's ATENDE_SANITIZE)."""
    build = os.environ.get("ATENDE_BUILD_DIR")
    cache = pathlib.Path(build) / "CMakeCache.txt" if build else None
    return bool(cache and cache.is_file() and "ATENDE_SANITIZE:BOOL=ON" in cache.read_text())
