"""Dynatrace Autopilot's payload codec for the Temporal Python SDK.

Implements docs/contract/codec.md: every payload is the serialized ``temporal.api.common.v1.Payload``
sealed with AES-256-GCM (12-byte random nonce, the key id as additional authenticated data) into
``nonce ‖ ciphertext ‖ tag``, with the key id in clear metadata so the right key is found after a
rotation. Use it through :func:`data_converter`.

Run as a module it checks itself against the published test vectors and seals or opens single
payloads, so another implementation can be compared with it::

    python -m autopilot_codec check-vectors docs/contract/codec-test-vectors.json
    AUTOPILOT_CODEC_KEYS=... python -m autopilot_codec encode-json '{"a": 1}'   # prints a sealed payload
    AUTOPILOT_CODEC_KEYS=... python -m autopilot_codec decode < sealed.json     # prints its JSON value
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)
from temporalio.exceptions import ApplicationError

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16

_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadDecryptionError(ApplicationError):
    """A sealed payload that cannot be opened. Never answered with the raw bytes instead.

    The same non-retryable failure type the TypeScript workers raise, so a Python worker using this
    codec fails a run the way theirs do rather than retrying a payload that will never open.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, type="PayloadDecryptionError", non_retryable=True)


@dataclasses.dataclass(frozen=True)
class CodecKey:
    id: str
    key: bytes = dataclasses.field(repr=False)


def parse_codec_keys(text: str, variable: str = "AUTOPILOT_CODEC_KEYS") -> list[CodecKey]:
    """``id:key`` entries separated by commas or newlines, the first one primary.

    The same rules as the TypeScript parser, so one keys file serves both; errors name the entry,
    never the key material.
    """
    entries = [e.strip() for e in re.split(r"[\n,]", text)]
    entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        raise ValueError(f"{variable} holds no key; expected id:key entries")
    keys: list[CodecKey] = []
    for position, entry in enumerate(entries, start=1):
        key_id, colon, material = entry.partition(":")
        key_id = key_id.strip()
        if not colon:
            raise ValueError(f"{variable} entry {position} must be id:key")
        if not _KEY_ID.match(key_id):
            raise ValueError(
                f"{variable} entry {position} has an invalid key id; use 1-64 of A-Z a-z 0-9 . _ -"
            )
        key = _key_bytes(material.strip())
        if key is None:
            raise ValueError(f"{variable} key {key_id} must be 32 bytes, base64 or hex encoded")
        if any(k.id == key_id for k in keys):
            raise ValueError(f"{variable} key id {key_id} appears twice")
        keys.append(CodecKey(key_id, key))
    return keys


def _key_bytes(text: str) -> bytes | None:
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        if re.fullmatch(r"[A-Za-z0-9+/]{43}=?", text):
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        elif re.fullmatch(r"[A-Za-z0-9_-]{43}", text):
            key = base64.urlsafe_b64decode(text + "=")
        else:
            return None
    except binascii.Error:
        return None
    return key if len(key) == 32 else None


def keys_from_environment(env: Mapping[str, str] = os.environ) -> list[CodecKey]:
    """``AUTOPILOT_CODEC_KEYS``, or the file ``AUTOPILOT_CODEC_KEYS_FILE`` names (one entry a line)."""
    if env.get("AUTOPILOT_CODEC_KEYS"):
        return parse_codec_keys(env["AUTOPILOT_CODEC_KEYS"], "AUTOPILOT_CODEC_KEYS")
    if env.get("AUTOPILOT_CODEC_KEYS_FILE"):
        file = env["AUTOPILOT_CODEC_KEYS_FILE"]
        return parse_codec_keys(Path(file).read_text(encoding="utf-8"), file)
    raise ValueError(
        "set AUTOPILOT_CODEC_KEYS or AUTOPILOT_CODEC_KEYS_FILE: every Autopilot payload is encrypted"
    )


def seal(payload: Payload, key: CodecKey, nonce: bytes | None = None) -> Payload:
    """One payload sealed under ``key``. ``nonce`` exists only to reproduce the test vectors."""
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce is {NONCE_BYTES} bytes")
    # deterministic=True sorts map entries; the other side parses the message, so order is free.
    plain = payload.SerializeToString(deterministic=True)
    sealed = AESGCM(key.key).encrypt(nonce, plain, key.id.encode())  # ciphertext ‖ tag
    return Payload(
        metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key.id.encode()},
        data=nonce + sealed,
    )


def open_sealed(payload: Payload, keys: dict[str, CodecKey]) -> Payload:
    """The original payload; one that is not sealed is returned as it is (plain input is allowed)."""
    if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
        return payload
    key_id = payload.metadata[KEY_ID_METADATA].decode() if KEY_ID_METADATA in payload.metadata else "(none)"
    key = keys.get(key_id)
    if key is None:
        raise PayloadDecryptionError(
            f"payload encrypted with key {json.dumps(key_id)}, which is not in AUTOPILOT_CODEC_KEYS"
            f" (known: {', '.join(keys)})"
        )
    data = payload.data
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise PayloadDecryptionError(f"encrypted payload under key {key_id} is truncated")
    try:
        plain = AESGCM(key.key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key.id.encode())
    except InvalidTag:
        raise PayloadDecryptionError(
            f"payload under key {key_id} failed authentication (wrong key material for that id, or tampered)"
        ) from None
    original = Payload()
    original.ParseFromString(plain)
    return original


class AutopilotCodec(PayloadCodec):
    """The first key encrypts; every key decrypts, so histories written before a rotation stay readable."""

    def __init__(self, keys: Sequence[CodecKey]) -> None:
        if not keys:
            raise ValueError("the codec needs at least one key")
        self._primary = keys[0]
        self._keys = {k.id: k for k in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [seal(p, self._primary) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [open_sealed(p, self._keys) for p in payloads]


def data_converter(keys: Sequence[CodecKey]) -> DataConverter:
    """The SDK's JSON converter with Autopilot's codec.

    Failure messages and stack traces are moved into an encoded (so encrypted) attribute, as
    Autopilot's own converter does: they name hosts and environments.
    """
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=AutopilotCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


# --- the command line: self-check and cross-checks with other implementations ---------------------


def payload_to_json(payload: Payload) -> dict:
    """Temporal's JSON form of a payload, the one the vectors and the codec server use."""
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in sorted(payload.metadata.items())},
        "data": base64.b64encode(payload.data).decode(),
    }


def payload_from_json(value: dict) -> Payload:
    return Payload(
        metadata={k: base64.b64decode(v) for k, v in value.get("metadata", {}).items()},
        data=base64.b64decode(value.get("data", "")),
    )


def check_vectors(path: str) -> list[str]:
    """What in the vectors file this codec gets wrong; empty when it agrees with all of them."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    keys = {k.id: k for k in parse_codec_keys(doc["codecKeysVariable"], "codecKeysVariable")}
    for listed in doc["keys"]:
        if keys[listed["id"]].key != base64.b64decode(listed["keyBase64"]):
            return [f"key {listed['id']}: codecKeysVariable and keys disagree"]
    problems: list[str] = []
    for vector in doc["vectors"]:
        name = vector["name"]
        plain = payload_from_json(vector["plain"])
        sealed = payload_from_json(vector["sealed"])
        try:
            if open_sealed(sealed, keys) != plain:
                problems.append(f"{name}: sealed does not decode to plain")
        except PayloadDecryptionError as err:
            problems.append(f"{name}: sealed refused: {err.message}")
        resealed = seal(plain, keys[vector["keyId"]], bytes.fromhex(vector["nonceHex"]))
        if dict(resealed.metadata) != dict(sealed.metadata):
            problems.append(f"{name}: sealed metadata differs")
        # Byte equality holds only when both protobuf libraries serialize the message alike.
        if plain.SerializeToString(deterministic=True) == base64.b64decode(vector["plainProtobuf"]):
            if resealed.data != sealed.data:
                problems.append(f"{name}: re-sealed data differs from sealed.data")
        elif open_sealed(resealed, keys) != plain:
            problems.append(f"{name}: re-sealed payload does not decode to plain")
    for bad in doc["mustFail"]:
        try:
            open_sealed(payload_from_json(bad["sealed"]), keys)
            problems.append(f"mustFail {bad['name']}: was accepted")
        except PayloadDecryptionError:
            pass
    # What the vectors cannot show: pass-through, an unknown id and a truncated payload.
    plain = payload_from_json(doc["vectors"][0]["plain"])
    if open_sealed(plain, keys) is not plain:
        problems.append("an unencrypted payload was not passed through")
    for label, key_id, length in [("unknown key id", b"nope", 40), ("truncated", b"vector-2026", 27)]:
        try:
            metadata = {"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id}
            open_sealed(Payload(metadata=metadata, data=bytes(length)), keys)
            problems.append(f"{label}: was accepted")
        except PayloadDecryptionError:
            pass
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "check-vectors":
        problems = check_vectors(argv[1])
        for problem in problems:
            print(f"autopilot_codec: {problem}", file=sys.stderr)
        if not problems:
            print(f"autopilot_codec: {argv[1]}: every vector decodes and re-seals; tampered ones are refused")
        return 1 if problems else 0
    if len(argv) == 2 and argv[0] == "encode-json":
        (payload,) = DataConverter.default.payload_converter.to_payloads([json.loads(argv[1])])
        print(json.dumps(payload_to_json(seal(payload, keys_from_environment()[0]))))
        return 0
    if argv == ["decode"]:
        keys = {k.id: k for k in keys_from_environment()}
        payload = open_sealed(payload_from_json(json.load(sys.stdin)), keys)
        (value,) = DataConverter.default.payload_converter.from_payloads([payload])
        print(json.dumps(value))
        return 0
    print(
        "usage: python -m autopilot_codec check-vectors <file> | encode-json <json> | decode < sealed.json",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ValueError, PayloadDecryptionError) as err:
        print(f"autopilot_codec: {err}", file=sys.stderr)
        sys.exit(1)
