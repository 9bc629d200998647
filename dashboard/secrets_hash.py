"""Secrets that are kept only as hashes: learners' resume codes and the faculty passcode.

Pure (no streamlit, no database). PBKDF2-SHA256 with a random salt per secret; comparison in
constant time (hmac.compare_digest). Resume codes come from an alphabet without look-alikes
(no 0/O, 1/I/L), 10 symbols = 50 bits, shown as XXXXX-XXXXX, typed in any case, with or without
the hyphen or spaces.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 120_000
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
JOIN_CODE_LENGTH = 6


def hash_secret(secret: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether secret matches a hash_secret() value; False for anything malformed (never raises)."""
    if not stored:
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        computed = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(iterations))
        return hmac.compare_digest(computed, bytes.fromhex(digest))
    except ValueError:
        return False


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def format_code(code: str) -> str:
    """XXXXX-XXXXX for reading aloud and copying."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if len(code) > 6 else code


def normalise_code(typed: str) -> str:
    """A typed code as stored: upper case, letters and digits only."""
    return "".join(c for c in typed.upper() if c.isalnum())


def token_hash(token: str) -> str:
    """A sign-in session token is random (256 bits), so a plain SHA-256 is enough to store it."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)
