use crate::Rng;
use crate::credential::{ChainRef, LockId, MAX_CHAIN_BYTES, UnverifiedChain};
use crate::crypto::channel::{Ephemeral, SessionKeys, agree};
use crate::crypto::{self, HolderSigner, labels};
use crate::error::{Error, Result};
use crate::session::{
    Challenge, Command, MAX_ADVERTISED, MAX_MESSAGE_BYTES, NONCE_LEN, OPEN_CLEAR_LEN, Proof, Reply,
    challenge_digest, split_sealed, transcript, verify_challenge, write_sealed_header,
};
use crate::wire::{self, Bounded, Kind};

use super::Credential;

/// What a phone learns from a lock's challenge once its signature checks out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ChallengeInfo {
    /// The lock that signed it.
    pub lock: LockId,
    /// The nonce a time anchor for this session must be bound to.
    pub nonce: [u8; NONCE_LEN],
    /// Whether the lock trusts its clock; if not, fetch a time anchor for `nonce` first.
    pub clock_trusted: bool,
    /// References to the verified links the lock holds: a chain whose links before its leaf
    /// are named here goes in short form.
    pub cached: Bounded<ChainRef, MAX_ADVERTISED>,
}

/// Checks a challenge's signature and that it comes from `lock`. Sends nothing.
pub fn inspect_challenge(challenge: &[u8], lock: &LockId) -> Result<ChallengeInfo> {
    let c = Challenge::decode(challenge)?;
    if c.body.lock_id() != *lock {
        return Err(Error::WrongLock);
    }
    verify_challenge(&c)?;
    Ok(ChallengeInfo {
        lock: *lock,
        nonce: c.body.nonce,
        clock_trusted: c.body.clock_trusted,
        cached: c.body.cached,
    })
}

/// The phone's side of one session with one lock.
pub struct PhoneSession {
    keys: SessionKeys,
    /// The transcript hash, which a retried proof's signature covers.
    th: [u8; 32],
    info: ChallengeInfo,
    sent: u32,
    next_reply: u32,
}

/// Shows the challenge and counters; the session keys are redacted.
impl core::fmt::Debug for PhoneSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PhoneSession")
            .field("info", &self.info)
            .field("sent", &self.sent)
            .field("next_reply", &self.next_reply)
            .finish_non_exhaustive()
    }
}

impl PhoneSession {
    /// Answers `challenge` as the holder of `credential`, asking for `command`. The
    /// challenge must be signed by a lock the credential names; nothing identifying is sent
    /// otherwise. Writes the open message into `out` and returns the session and its length.
    /// When the challenge says the lock holds the credential's links before its leaf, only the
    /// leaf goes, in short form; should the lock answer [`Reply::NeedChain`],
    /// [`PhoneSession::retry`] sends the whole chain.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::session::Command;
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{Credential, PhoneSession};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let device_key = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let chain_bytes = chain.as_bytes();
    /// let credential = Credential::new(chain_bytes, device_key)?;
    /// let mut challenge = [0u8; 256];
    /// let n = lock.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
    /// let mut out = [0u8; 1024];
    /// let (session, m) =
    ///     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut out)?;
    /// assert_eq!(session.info().lock, lock.id());
    /// # assert!(m > 0);
    ///
    /// // A challenge from a lock the credential does not name gets no answer at all.
    /// let stranger = SecretKey::from_seed(&[9; 32]);
    /// let mut other = Lock::install(stranger, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// let n = other.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
    /// let unlock = Command::Unlock;
    /// let open = PhoneSession::open(&challenge[..n], &credential, unlock, &mut rng, &mut out);
    /// assert!(matches!(open, Err(Error::WrongLock)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn open<S: HolderSigner, R: Rng + ?Sized>(
        challenge: &[u8],
        credential: &Credential<'_, S>,
        command: Command<'_>,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<(PhoneSession, usize)> {
        let lock = Challenge::decode(challenge)?.body.lock_id();
        if !credential.names_lock(&lock) {
            return Err(Error::WrongLock);
        }
        start(
            challenge,
            &lock,
            Some((credential.chain(), credential.signer())),
            command,
            rng,
            out,
        )
    }

    /// Opens a session without a credential, to carry a time anchor or configuration update
    /// to `lock`.
    pub fn open_anonymous<R: Rng + ?Sized>(
        challenge: &[u8],
        lock: &LockId,
        command: Command<'_>,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<(PhoneSession, usize)> {
        start(challenge, lock, None, command, rng, out)
    }

    /// The challenge this session answered.
    pub fn info(&self) -> ChallengeInfo {
        self.info
    }

    /// Writes the next command of the session into `out`.
    ///
    /// ```
    /// use doorkey::session::{Command, Reply};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{Credential, PhoneSession};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let device_key = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let chain_bytes = chain.as_bytes();
    /// # let credential = Credential::new(chain_bytes, device_key)?;
    /// # let mut challenge = [0u8; 256];
    /// # let n = lock.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
    /// # let mut out = [0u8; 1024];
    /// # let mut reply = [0u8; 4096];
    /// let (mut session, m) =
    ///     PhoneSession::open(&challenge[..n], &credential, Command::Hello, &mut rng, &mut out)?;
    /// # let r = lock.handle(Tick::from_secs(10), &mut out[..m], &mut reply)?.reply;
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Ready);
    ///
    /// // Each command is sealed under the session's key with the next counter.
    /// let k = session.command(Command::Unlock, &mut out)?;
    /// # let r = lock.handle(Tick::from_secs(11), &mut out[..k], &mut reply)?.reply;
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Unlocked);
    /// # Ok(())
    /// # }
    /// ```
    pub fn command(&mut self, command: Command<'_>, out: &mut [u8]) -> Result<usize> {
        let counter = self.sent;
        let at = write_sealed_header(out, Kind::Command, counter)?;
        let n = wire::put(&command, out.get_mut(at..).ok_or(Error::BufferTooSmall)?)?;
        let (aad, rest) = out.split_at_mut_checked(at).ok_or(Error::BufferTooSmall)?;
        let sealed = self.keys.phone_to_lock.seal(counter, aad, rest, n)?;
        self.sent = counter.checked_add(1).ok_or(Error::Misuse)?;
        Ok(at + sealed)
    }

    /// Answers [`Reply::NeedChain`] (the lock no longer held the links the open named): the
    /// open's `command` again, with `credential`'s whole chain and a holder signature over
    /// this session's transcript and `command`, as a [`Command::Retry`] written into `out`.
    pub fn retry<S: HolderSigner>(
        &mut self,
        credential: &Credential<'_, S>,
        command: Command<'_>,
        out: &mut [u8],
    ) -> Result<usize> {
        let mut plain = [0u8; MAX_MESSAGE_BYTES];
        let proof = Some((credential.chain(), credential.signer() as &dyn HolderSigner));
        let n = write_request(&self.th, command, proof, &mut plain)?;
        self.command(
            Command::Retry(plain.get(..n).ok_or(Error::BufferTooSmall)?),
            out,
        )
    }

    /// Reads a reply from the lock, decrypting `input` in place. Replies must come in order;
    /// a replayed or forged one is refused.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::session::{Command, Reply};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{Credential, PhoneSession};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let device_key = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let chain_bytes = chain.as_bytes();
    /// # let credential = Credential::new(chain_bytes, device_key)?;
    /// # let mut challenge = [0u8; 256];
    /// # let n = lock.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
    /// # let mut out = [0u8; 1024];
    /// let (mut session, m) =
    ///     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut out)?;
    /// let mut reply = [0u8; 256];
    /// let r = lock.handle(Tick::from_secs(10), &mut out[..m], &mut reply)?.reply;
    /// let mut altered = reply;
    /// altered[r - 1] ^= 1; // one bit flipped on the radio
    /// assert!(matches!(session.read_reply(&mut altered[..r]), Err(Error::Crypto)));
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Unlocked);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_reply<'b>(&mut self, input: &'b mut [u8]) -> Result<Reply<'b>> {
        let (counter, aad, sealed) = split_sealed(input, Kind::Reply)?;
        if counter < self.next_reply {
            return Err(Error::Replay);
        }
        let plain = self.keys.lock_to_phone.open(counter, &aad, sealed)?;
        let reply = wire::take_all(plain)?;
        self.next_reply = counter.checked_add(1).ok_or(Error::Replay)?;
        Ok(reply)
    }
}

fn start<R: Rng + ?Sized>(
    challenge: &[u8],
    lock: &LockId,
    proof: Option<(&[u8], &dyn HolderSigner)>,
    command: Command<'_>,
    rng: &mut R,
    out: &mut [u8],
) -> Result<(PhoneSession, usize)> {
    let info = inspect_challenge(challenge, lock)?;
    let theirs = Challenge::decode(challenge)?.body.ephemeral;
    let (secret, mine) = Ephemeral::generate(rng);

    let at = wire::write_header(out, Kind::Open)?;
    let at = wire::put_bytes(out, at, &info.nonce)?;
    let clear_end = wire::put_bytes(out, at, &mine)?;
    let (clear, payload) = out
        .split_at_mut_checked(OPEN_CLEAR_LEN)
        .ok_or(Error::BufferTooSmall)?;
    let th = transcript(&challenge_digest(challenge), clear);
    let keys = SessionKeys::derive(agree(secret, &theirs)?, &th);

    // The short form, when the lock advertises the chain's links before its leaf.
    let mut short = [0u8; MAX_CHAIN_BYTES];
    let proof = match proof {
        Some((chain, signer)) => {
            let decoded = UnverifiedChain::decode(chain)?;
            let held = decoded
                .prefix()
                .is_some_and(|(_, r)| info.cached.as_slice().contains(&r));
            let sent = match decoded.short_form(&mut short) {
                Some(len) if held => short.get(..len?).ok_or(Error::BufferTooSmall)?,
                _ => chain,
            };
            Some((sent, signer))
        }
        None => None,
    };
    let n = write_request(&th, command, proof, payload)?;
    let sealed = keys.phone_to_lock.seal(0, clear, payload, n)?;
    let session = PhoneSession {
        keys,
        th,
        info,
        sent: 1,
        next_reply: 0,
    };
    Ok((session, clear_end + sealed))
}

/// Writes the plaintext of an open (or of a retry): the command, then the proof (`chain` and
/// the holder's signature over the transcript hash and the command as written), if any.
fn write_request(
    th: &[u8; 32],
    command: Command<'_>,
    proof: Option<(&[u8], &dyn HolderSigner)>,
    out: &mut [u8],
) -> Result<usize> {
    let n = wire::put(&command, out)?;
    let command_bytes = out.get(..n).ok_or(Error::BufferTooSmall)?;
    let proof = match proof {
        Some((chain, signer)) => {
            let sig = crypto::sign_holder(signer, labels::HOLDER, &[th, command_bytes])?;
            Some(Proof {
                chain,
                signature: sig.0,
            })
        }
        None => None,
    };
    let m = wire::put(&proof, out.get_mut(n..).ok_or(Error::BufferTooSmall)?)?;
    Ok(n + m)
}
