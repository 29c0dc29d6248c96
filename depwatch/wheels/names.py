"""Which modules a distribution probably provides (kept apart from the comparison: the audit
asks this of every locked package under ``--online``, before it knows whether any is used)."""

from __future__ import annotations

from packaging.utils import canonicalize_name

__all__ = ["KNOWN_IMPORTS", "import_names"]

#: Import names that differ from the distribution's name (the wheel's own file list confirms
#: every guess before anything is compared).
KNOWN_IMPORTS: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",),
    "pillow": ("PIL",),
    "beautifulsoup4": ("bs4",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "python-dateutil": ("dateutil",),
    "pyjwt": ("jwt",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "attrs": ("attr", "attrs"),
    "protobuf": ("google.protobuf",),
    "pyopenssl": ("OpenSSL",),
    "python-dotenv": ("dotenv",),
    "python-multipart": ("multipart", "python_multipart"),
    "pycryptodome": ("Crypto",),
    "gitpython": ("git",),
    "python-jose": ("jose",),
    "pyzmq": ("zmq",),
    "pyserial": ("serial",),
    "pysocks": ("socks",),
    "msgpack-python": ("msgpack",),
    "typing-extensions": ("typing_extensions",),
    "markupsafe": ("markupsafe",),
}


def import_names(dist: str) -> tuple[str, ...]:
    """The module names a distribution probably provides (``google-cloud-storage`` →
    ``google_cloud_storage``, ``google.cloud.storage``)."""
    name = str(canonicalize_name(dist))
    guesses = [name.replace("-", "_")]
    if "-" in name:
        guesses.append(name.replace("-", "."))
    guesses += KNOWN_IMPORTS.get(name, ())
    return tuple(dict.fromkeys(guesses))
