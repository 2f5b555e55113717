"""A courier's phone app, in Python through doorkey's generated bindings, plays a delivery
against the Rust lock of `LockSimulator`: its device key is a `DeviceSigner` written here
(RFC 8032 Ed25519 on the standard library only), the way a Kotlin or Swift app implements it
over the platform keystore. Run by tests/python.rs with the bindings on PYTHONPATH."""

import hashlib
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


def _mul(s, point):
    acc = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        s >>= 1
    return acc


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
        return KeyAlgorithm.ED25519

    def public_key(self):
        return self._claimed

    def sign(self, message):
        return self._own.sign(message)


class Declined(PhoneKey):
    """The user dismissed the biometric prompt the key asks for."""

    def sign(self, message):
        raise SignerError.Cancelled()


class SecureEnclaveKey(DeviceSigner):
    """A P-256 key, as the Secure Enclave or StrongBox would hold."""

    def algorithm(self):
        return KeyAlgorithm.P256

    def public_key(self):
        return b"\x04" + bytes(64)

    def sign(self, message):
        raise SignerError.KeyUnavailable()


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
error = expect_error(DoorkeyError.UnsupportedAlgorithm, lambda: Credential(fresh, SecureEnclaveKey()))
assert error.algorithm == KeyAlgorithm.P256
step("signer failures typed: Cancelled, and P-256 keys not yet supported")
print("delivery.py: ok")
sys.exit(0)
