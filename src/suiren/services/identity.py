"""Resident ids at rest: AES-256-GCM encryption and a keyed blind index for lookup.

Two keys are derived (HKDF-SHA256) from the master secret in settings: one encrypts the
id (a fresh 96-bit nonce per record, the worker id as associated data, so a ciphertext
cannot be moved to another worker), the other computes HMAC-SHA256 of the id, which finds
a worker by id without storing it in clear. Only the masked form is ever displayed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True)
class IdentityVault:
    encryption_key: bytes
    index_key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> IdentityVault:
        return cls(
            _derive(secret, b"suiren resident id encryption v1"),
            _derive(secret, b"suiren resident id index v1"),
        )

    def blind_index(self, resident_id: str) -> str:
        return hmac.new(self.index_key, resident_id.encode("ascii"), hashlib.sha256).hexdigest()

    def encrypt(self, resident_id: str, worker_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        cipher = AESGCM(self.encryption_key).encrypt(
            nonce, resident_id.encode("ascii"), worker_id.encode()
        )
        return nonce + cipher

    def decrypt(self, blob: bytes, worker_id: str) -> str:
        nonce, cipher = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return (
            AESGCM(self.encryption_key).decrypt(nonce, cipher, worker_id.encode()).decode("ascii")
        )
