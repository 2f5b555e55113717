"""A courier's phone app, in Python through doorkey's generated bindings, plays a delivery
against the Rust lock of `LockSimulator`: its device key is a `DeviceSigner` written here
(RFC 8032 Ed25519 on the standard library only), the way a Kotlin or Swift app implements it
over the platform keystore. Run by tests/python.rs with the bindings on PYTHONPATH."""

import hashlib
import secrets
import sys

from doorkey_mobile import (
    Command,
    Credential,
    DenyReason,
    DeviceSigner,
    DoorkeyError,
    KeyAlgorithm,
    LockAction,
    LockSimulator,
    Outbox,
    Reply,
    Rights,
    SignerError,
    delivery_purpose,
    inspect_challenge,
    open_anonymous_session,
    open_session,
)

# -- RFC 8032 Ed25519, signing only (the lock verifies) ---------------------------------------
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P


def _add(a, b):
    """Point addition in extended coordinates (X, Y, Z, T)."""
    e = (a[1] - a[0]) * (b[1] - b[0]) % P
    f = (a[1] + a[0]) * (b[1] + b[0]) % P
    g = 2 * a[3] * b[3] * D % P
    h = 2 * a[2] * b[2] % P
    e, f, g, h = f - e, h - g, h + g, f + e
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _times(k, point, add, identity):
    """k * point by double-and-add under the group law `add`."""
    acc = identity
    while k:
        if k & 1:
            acc = add(acc, point)
        point = add(point, point)
        k >>= 1
    return acc


def _mul(s, point):
    return _times(s, point, _add, (0, 1, 1, 0))


def _encode(point):
    zinv = pow(point[2], P - 2, P)
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_GY = 4 * pow(5, P - 2, P) % P
_GX2 = (_GY * _GY - 1) * pow(D * _GY * _GY + 1, P - 2, P) % P
_GX = pow(_GX2, (P + 3) // 8, P)
if (_GX * _GX - _GX2) % P:
    _GX = _GX * pow(2, (P - 1) // 4, P) % P
if _GX & 1:
    _GX = P - _GX
BASE = (_GX, _GY, 1, _GX * _GY % P)


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return a, h[32:]


def ed25519_public(seed):
    return _encode(_mul(_expand(seed)[0], BASE))


def ed25519_sign(seed, message):
    a, prefix = _expand(seed)
    public = _encode(_mul(a, BASE))
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % L
    big_r = _encode(_mul(r, BASE))
    k = int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little") % L
    return big_r + ((r + k * a) % L).to_bytes(32, "little")


# RFC 8032 section 7.1, test 1: the signer is right before any lock sees it.
_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
assert ed25519_public(_SEED).hex() == (
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)
assert ed25519_sign(_SEED, b"").hex() == (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)



# -- ECDSA on P-256 with SHA-256 (FIPS 186-5), signing only, DER out as keystores return it ----
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def _p256_add(a, b):
    """Affine point addition; None is the point at infinity."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P256_P == 0:
        return None
    if a == b:
        slope = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P256_P)
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P256_P)
    x = (slope * slope - a[0] - b[0]) % P256_P
    return (x, (slope * (a[0] - x) - a[1]) % P256_P)


def _p256_mul(k, point):
    return _times(k, point, _p256_add, None)


def _der_integer(value):
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return b"\x02" + bytes([len(body)]) + body


def p256_public(secret):
    x, y = _p256_mul(secret, P256_G)
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def p256_sign(secret, message, high_s=False):
    """A randomized signature, as the Secure Enclave and StrongBox make; with `high_s` its S is
    the upper of the two valid values, which keystores also return."""
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(P256_N - 1) + 1
        r = _p256_mul(k, P256_G)[0] % P256_N
        s = pow(k, -1, P256_N) * (z + r * secret) % P256_N
        if r and s:
            break
    if (s > P256_N // 2) != high_s:
        s = P256_N - s
    body = _der_integer(r) + _der_integer(s)
    return b"\x30" + bytes([len(body)]) + body


# RFC 6979 A.2.5: the P-256 point arithmetic is right before any lock sees it.
_D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
assert p256_public(_D).hex() == (
    "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
)


# -- device signers as an app implements them --------------------------------------------------
class PhoneKey(DeviceSigner):
    """A phone's device key (in a real app: a keystore handle; the key never leaves it)."""

    def __init__(self, seed):
        self._seed = seed
        self._public = ed25519_public(seed)
        self.signatures = 0

    def algorithm(self):
        return KeyAlgorithm.ED25519

    def public_key(self):
        return self._public

    def sign(self, message):
        self.signatures += 1
        return ed25519_sign(self._seed, message)


class CopiedOnto(DeviceSigner):
    """Another phone holding a copy of the courier's grant and public key, but only its own
    device key to sign with."""

    def __init__(self, claimed_public, own):
        self._claimed = claimed_public
        self._own = own

    def algorithm(self):
        return self._own.algorithm()

    def public_key(self):
        return self._claimed

    def sign(self, message):
        return self._own.sign(message)


class Declined(PhoneKey):
    """The user dismissed the biometric prompt the key asks for."""

    def sign(self, message):
        raise SignerError.Cancelled()


class SecureEnclaveKey(DeviceSigner):
    """A P-256 key, as the Secure Enclave or StrongBox holds it: the public key exported
    uncompressed, DER signatures, and (as keystores do) not always the low S a lock takes."""

    def __init__(self, secret, high_s=True):
        self._secret = secret
        self._high_s = high_s
        self.signatures = 0

    def algorithm(self):
        return KeyAlgorithm.P256

    def public_key(self):
        return p256_public(self._secret)

    def sign(self, message):
        self.signatures += 1
        return p256_sign(self._secret, message, self._high_s)


class NotOnCurve(SecureEnclaveKey):
    """A keystore export that is not a point on P-256."""

    def public_key(self):
        return b"\x04" + bytes(63) + b"\x01"


class NotDer(SecureEnclaveKey):
    """A keystore that returns raw r || s where DER is expected."""

    def sign(self, message):
        return bytes(64)


def expect_error(kind, call):
    """Runs `call`, which must raise the DoorkeyError variant `kind`; returns the error."""
    try:
        call()
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}")


def step(text):
    print(f"delivery.py: {text}")


# -- the delivery ---------------------------------------------------------------------------------
sim = LockSimulator(bytes([42] * 32))
lock_id = sim.lock_id()
courier = PhoneKey(bytes([4] * 32))

# The company's server mints a grant for the courier's device key when the package is scanned.
order = b"order-2026-0601-0042"
grant = sim.issue_delivery_grant(KeyAlgorithm.ED25519, courier.public_key(), order, 600)
credential = Credential(grant, courier)
info = credential.info()
assert info.rights == Rights(unlock=True, lock=True, delegate=False), info.rights
assert info.uses == 1 and info.purpose == delivery_purpose(order), info
assert info.valid_from <= sim.now() < info.valid_until <= sim.now() + 600, info
assert info.needs_trusted_clock and info.locks == [lock_id] and credential.names_lock(lock_id)
assert info.device_key == courier.public_key() and info.algorithm == KeyAlgorithm.ED25519
assert info.chain_length == 2 and credential.chain() == grant
step(f"grant imported: {len(grant)} bytes, one use, {info.valid_until - sim.now()} s left")

# At the door: the challenge is checked before anything identifying leaves the phone.
challenge = sim.challenge()
expect_error(DoorkeyError.WrongLock, lambda: inspect_challenge(challenge, bytes(16)))
seen = inspect_challenge(challenge, lock_id)
assert seen.lock_id == lock_id and len(seen.nonce) == 16 and not seen.clock_trusted
assert courier.signatures == 0

# The lock's clock is untrusted: the app fetches the owner's anchor for this nonce and carries it.
anchor = sim.time_anchor(seen.nonce)
opened = open_anonymous_session(challenge, lock_id, Command.TIME(anchor=anchor))
answer = sim.handle(opened.message)
assert opened.session.read_reply(answer.reply) == Reply.TIME_SET(unix_time=sim.now())
assert courier.signatures == 0
step("time anchor carried: the lock's clock is trusted")

# Unlock: one signature by the device key, the lock decides offline.
challenge = sim.challenge()
assert inspect_challenge(challenge, lock_id).clock_trusted
opened = open_session(challenge, credential, Command.UNLOCK())
session, captured = opened.session, opened.message
assert courier.signatures == 1 and session.info().lock_id == lock_id
answer = sim.handle(opened.message)
assert answer.action == LockAction.UNLOCK and answer.denied is None and sim.bolt_open()
unlocked = answer.reply
assert session.read_reply(unlocked) == Reply.UNLOCKED()
expect_error(DoorkeyError.Replay, lambda: session.read_reply(unlocked))
step(f"unlocked: open message {len(captured)} bytes")

sim.advance(4)
sim.door_opened()
sim.advance(30)
sim.door_closed()
sim.advance(5)
answer = sim.handle(session.command(Command.LOCK()))
assert answer.action == LockAction.LOCK and not sim.bolt_open()
assert session.read_reply(answer.reply) == Reply.LOCKED()
assert courier.signatures == 1  # the relock is symmetric: no second signature
step("door opened and closed, relocked in the same session")

# Receipts travel sealed to the owner's audit key; the outbox keeps them until uploaded.
outbox = Outbox()
answer = sim.handle(session.command(Command.RECEIPTS(after=outbox.after(lock_id))))
receipts = session.read_reply(answer.reply)
assert receipts.is_RECEIPTS() and outbox.collect(lock_id, receipts)
assert not outbox.collect(lock_id, Reply.LOCKED())
assert session.read_reply(sim.handle(session.command(Command.CLOSE())).reply) == Reply.CLOSED()
pending = outbox.pending()
assert len(pending) == 1 and pending[0].lock_id == lock_id and pending[0].bundles == receipts.bundle
expect_error(DoorkeyError.Truncated, lambda: outbox.add(lock_id, receipts.bundle[:-1]))
uploads = outbox.take_uploads()
assert uploads == pending and outbox.pending() == []
report = sim.upload(uploads[0].bundles)
assert report.findings == 0, report
for event in ("Installed", "ConfigChanged(1)", "TimeSet", "Unlocked", "DoorOpened", "DoorClosed", "Relocked"):
    assert event in report.events, (event, report.events)
outbox.set_ack(lock_id, report.ack)
assert outbox.after(lock_id) == report.ack.seq and outbox.ack(lock_id) == report.ack
step(f"{len(report.events)} receipts uploaded and verified by the owner's server")

# Any phone carries the server's acknowledgement back; the lock forgets those receipts.
challenge = sim.challenge()
opened = open_anonymous_session(challenge, lock_id, Command.ACK(ack=outbox.ack(lock_id)))
acked = opened.session.read_reply(sim.handle(opened.message).reply)
assert acked == Reply.ACKED(seq=report.ack.seq), acked
step(f"acknowledgement carried: the lock dropped receipts up to {report.ack.seq}")

# -- what must be refused ---------------------------------------------------------------------
# The captured unlock message, replayed on the radio: the lock does not answer it at all.
expect_error(DoorkeyError.Replay, lambda: sim.handle(captured))
assert not sim.bolt_open()

# The one-use grant a second time.
opened = open_session(sim.challenge(), credential, Command.UNLOCK())
answer = sim.handle(opened.message)
assert answer.action == LockAction.NONE and isinstance(answer.denied, DoorkeyError.UsedUp)
assert opened.session.read_reply(answer.reply) == Reply.DENIED(reason=DenyReason.USED_UP)

# The grant copied to a second phone: refused at import under that phone's own key...
second_phone = PhoneKey(bytes([9] * 32))
expect_error(DoorkeyError.Misuse, lambda: Credential(grant, second_phone))
# ...and by the lock when that phone claims the courier's key but signs with its own. A fresh
# grant for the courier, so only the device key can be what is wrong.
sim.advance(60)
fresh = sim.issue_delivery_grant(KeyAlgorithm.ED25519, courier.public_key(), order, 600)
copied = Credential(fresh, CopiedOnto(courier.public_key(), second_phone))
opened = open_session(sim.challenge(), copied, Command.UNLOCK())
answer = sim.handle(opened.message)
assert answer.action == LockAction.NONE and not sim.bolt_open()
assert isinstance(answer.denied, DoorkeyError.Crypto), answer.denied
assert opened.session.read_reply(answer.reply) == Reply.DENIED(reason=DenyReason.NOT_AUTHORIZED)
# The courier's own phone still opens with the fresh grant.
opened = open_session(sim.challenge(), Credential(fresh, courier), Command.UNLOCK())
assert opened.session.read_reply(sim.handle(opened.message).reply) == Reply.UNLOCKED()
step("replay, second use and the copied grant refused; the courier's own phone opens")

# The device signer's own failures reach the app typed, and nothing is sent.
declined = Credential(fresh, Declined(bytes([4] * 32)))
error = expect_error(DoorkeyError.Signer, lambda: open_session(sim.challenge(), declined, Command.UNLOCK()))
assert isinstance(error.error, SignerError.Cancelled), error
step("signer failures typed: Cancelled")

# -- a courier whose device key is in the phone's secure hardware (P-256) --------------------------
enclave = SecureEnclaveKey(int.from_bytes(hashlib.sha256(b"courier enclave").digest(), "big") % P256_N)
grant = sim.issue_delivery_grant(KeyAlgorithm.P256, enclave.public_key(), order, 600)
credential = Credential(grant, enclave)
info = credential.info()
assert info.algorithm == KeyAlgorithm.P256 and info.device_key == enclave.public_key(), info
challenge = sim.challenge()
inspect_challenge(challenge, lock_id)
opened = open_session(challenge, credential, Command.UNLOCK())
answer = sim.handle(opened.message)
assert answer.action == LockAction.UNLOCK and sim.bolt_open(), answer.denied
assert opened.session.read_reply(answer.reply) == Reply.UNLOCKED() and enclave.signatures == 1
assert opened.session.read_reply(sim.handle(opened.session.command(Command.LOCK())).reply) == Reply.LOCKED()
expect_error(DoorkeyError.Replay, lambda: sim.handle(opened.message))
step(f"P-256 courier (high-S DER from the keystore, sent low-S) unlocked: open message {len(opened.message)} bytes")

# The P-256 grant copied to another phone whose own key signs: refused by the lock.
sim.advance(60)
grant = sim.issue_delivery_grant(KeyAlgorithm.P256, enclave.public_key(), order, 600)
thief = SecureEnclaveKey(secrets.randbelow(P256_N - 1) + 1, high_s=False)
expect_error(DoorkeyError.Misuse, lambda: Credential(grant, thief))
copied = Credential(grant, CopiedOnto(enclave.public_key(), thief))
opened = open_session(sim.challenge(), copied, Command.UNLOCK())
answer = sim.handle(opened.message)
assert answer.action == LockAction.NONE and not sim.bolt_open()
assert isinstance(answer.denied, DoorkeyError.Crypto), answer.denied
assert opened.session.read_reply(answer.reply) == Reply.DENIED(reason=DenyReason.NOT_AUTHORIZED)

# What the keystore hands over is checked before anything is sent.
expect_error(DoorkeyError.InvalidDeviceKey, lambda: Credential(grant, NotOnCurve(1)))
error = expect_error(
    DoorkeyError.InvalidDeviceSignature,
    lambda: open_session(sim.challenge(), Credential(grant, NotDer(enclave._secret)), Command.UNLOCK()),
)
step("the copied P-256 grant refused; a key off the curve and a non-DER signature typed")
print("delivery.py: ok")
sys.exit(0)
