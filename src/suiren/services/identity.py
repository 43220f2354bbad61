"""The agency's secret and what is derived from it; resident ids at rest.

Every key is derived (HKDF-SHA256, one label per purpose) from the one master secret in
settings: one encrypts the resident id (AES-256-GCM, a fresh 96-bit nonce per record, the
worker id as associated data, so a ciphertext cannot be moved to another worker); one
computes HMAC-SHA256 of the id, which finds a worker by id without storing it in clear (the
blind index); one keys the journal's hash chain, one signs checkpoints and one seals
workers' portal logins (``ledger_keys``, store/seals.py); the fingerprint identifies the secret in the database without revealing
it. Only the masked form of an id is ever displayed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from suiren.store.db import LedgerKeys

NONCE_BYTES = 12


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def ledger_keys(secret: bytes) -> LedgerKeys:
    """The keys the store needs: the chain's, the checkpoints', and the fingerprint."""
    return LedgerKeys(
        chain_key=_derive(secret, b"suiren ledger chain v1"),
        checkpoint_key=_derive(secret, b"suiren checkpoint v1"),
        fingerprint=_derive(secret, b"suiren key fingerprint v1").hex()[:32],
        seal_key=_derive(secret, b"suiren row seal v1"),
    )


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

    def phone_index(self, number: str) -> str:
        """The blind index of a mobile number (``domain/phone``): the same key as resident
        ids', in its own domain (a resident id never begins with ``phone:``), so that one
        index never stands for both."""
        return self.blind_index("phone:" + number)

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


def token_key(secret: bytes) -> bytes:
    """The key that signs workers' session tokens (api/auth.py)."""
    return _derive(secret, b"suiren worker token v1")
