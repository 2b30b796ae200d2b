"""The Redis Cluster hash slot of a key, as every node computes it.

A cluster splits the keys into `SLOTS` slots: a key's slot is the CRC16 of
the key (the XMODEM variant: polynomial 0x1021, initial value 0, no
reflection) modulo 16384. A **hash tag** lets keys share a slot: when the
key holds a `{` followed later by a `}` with at least one byte between
them, only the bytes between the first `{` and the first `}` after it are
hashed, so `memrpc:mem:{ns}:1` and `memrpc:seq:{ns}` share `{ns}`'s slot.
`{}` (nothing between) hashes the whole key.

The client must agree with the server to the bit, so this is the spec's
algorithm, checked against known vectors and `CLUSTER KEYSLOT` in
`tests/test_cluster_mux.py`.
"""

from __future__ import annotations

SLOTS = 16384
_POLYNOMIAL = 0x1021


def _table() -> tuple[int, ...]:
    """The CRC of each byte value alone: one lookup per byte of a key."""
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLYNOMIAL if crc & 0x8000 else crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16(data: bytes) -> int:
    """CRC16/XMODEM of `data` (`crc16(b"123456789") == 0x31C3`)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ byte]
    return crc


def key_bytes(key: str | bytes | int | float) -> bytes:
    """A key as it goes on the wire (a number as its decimal text)."""
    if isinstance(key, bytes):
        return key
    return (key if isinstance(key, str) else str(key)).encode()


def hash_tag(key: str | bytes | int | float) -> bytes:
    """The part of `key` Redis Cluster hashes: between its first `{` and the
    next `}` when not empty, else all of it."""
    data = key_bytes(key)
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            return data[start + 1 : end]
    return data


def slot_of(key: str | bytes | int | float) -> int:
    """The slot of `key`: of its hash tag if it has one, else of all of it."""
    return crc16(hash_tag(key)) % SLOTS
