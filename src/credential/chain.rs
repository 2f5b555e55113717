use crate::crypto::{self, PublicKey, Signature, SubjectKey, labels};
use crate::error::{Error, Result};
use crate::time::{TzRule, UnixTime};
use crate::wire::{self, Bounded, Kind, VERSION};
use serde::{Deserialize, Serialize};

use super::link::{CredentialId, Link, LockId, Rights, Scope};
use super::{MAX_CHAIN_BYTES, MAX_CHAIN_LEN, MAX_LOCKS};

/// Bytes of the owner-key hint at the front of a chain.
pub(crate) const HINT_LEN: usize = 4;

/// Names the verified links a lock holds (PROTOCOL 22.2): the first 8 bytes of the labelled
/// hash of their bytes as they appear in the chain, each link's body and signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChainRef(#[serde(with = "crate::wire::array")] pub [u8; 8]);

impl ChainRef {
    /// The reference of these links' bytes.
    pub fn of(links: &[u8]) -> ChainRef {
        ChainRef(crypto::hash(&[labels::CHAIN_REF, links]))
    }
}

/// A chain in short form (kind `0x02`), decoded: the reference to the links the lock holds,
/// then the remaining links' bytes and their number. The lock rebuilds the whole chain from
/// them and checks it as any other.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShortChain<'a> {
    pub(crate) reference: ChainRef,
    pub(crate) count: u8,
    pub(crate) links: &'a [u8],
}

impl<'a> ShortChain<'a> {
    /// Splits the short form's header, reference and count off its links; `None` when the
    /// bytes are not a short form (a full chain goes its own way). The links are parsed only
    /// in the rebuilt chain.
    pub(crate) fn decode(bytes: &'a [u8]) -> Option<Result<ShortChain<'a>>> {
        if bytes.get(1) != Some(&(Kind::ChainRef as u8)) {
            return None;
        }
        let parse = || {
            let body = wire::split_header(bytes, Kind::ChainRef)?;
            let (reference, rest) = wire::take_array::<8>(body)?;
            let (&count, links) = rest.split_first().ok_or(Error::Truncated)?;
            if count == 0 {
                return Err(Error::ChainLength);
            }
            Ok(ShortChain {
                reference: ChainRef(reference),
                count,
                links,
            })
        };
        Some(parse())
    }
}

/// One decoded, not yet verified link, with the exact bytes its signature covers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParsedLink<'a> {
    pub(crate) link: Link,
    /// The postcard body as received.
    pub(crate) body: &'a [u8],
    /// Body and signature: what the child's parent digest covers.
    pub(crate) whole: &'a [u8],
}

/// The 32 bytes a link's signature binds it to: the owner key for the root, a digest of the
/// parent link otherwise. Binding the parent stops a child being spliced under another link
/// its issuer happens to hold.
pub(crate) fn parent_anchor(parent_whole: &[u8]) -> [u8; 32] {
    crypto::hash(&[labels::PARENT, parent_whole])
}

/// Parses one link (body then signature) off the front of `bytes`. Out of line, so the frames
/// that walk a chain never carry a link's decoding on top of their own.
#[inline(never)]
pub(crate) fn take_link(bytes: &[u8]) -> Result<(ParsedLink<'_>, &[u8])> {
    let (link, rest): (Link, _) = wire::take(bytes)?;
    let body_len = bytes.len() - rest.len();
    let (_, rest) = wire::take_array::<64>(rest)?;
    link.validate()?;
    let whole_len = body_len + 64;
    Ok((
        ParsedLink {
            link,
            body: bytes.get(..body_len).ok_or(Error::Truncated)?,
            whole: bytes.get(..whole_len).ok_or(Error::Truncated)?,
        },
        rest,
    ))
}

/// A credential chain whose structure has been checked but whose signatures and rules have
/// not. It keeps the received bytes and, per link, where it sits and its subject key: the
/// signature walk decodes nothing, and the rule walk decodes one link at a time, so a lock
/// never holds more than two decoded links on its stack.
#[derive(Clone, Copy, Debug)]
pub struct UnverifiedChain<'a> {
    hint: [u8; HINT_LEN],
    count: u8,
    /// The links as received, each body followed by its signature.
    bytes: &'a [u8],
    spans: [Span; MAX_CHAIN_LEN],
    /// Whether the root names its locks, as a root must.
    root_names_locks: bool,
}

/// Where one link sits in the chain's bytes, and its subject as an issuer: what the signature
/// walk needs. Only an Ed25519 subject issues; the leaf's, never an issuer, is left zero.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: u16,
    body_end: u16,
    issuer: PublicKey,
}

/// The links of a chain, root first, parsed as they are reached.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Links<'a> {
    rest: &'a [u8],
    left: u8,
}

/// What the signature walk needs of a link.
struct Signed<'a> {
    issuer: PublicKey,
    body: &'a [u8],
    whole: &'a [u8],
    sig: Signature,
}

impl<'a> Iterator for Links<'a> {
    type Item = ParsedLink<'a>;

    fn next(&mut self) -> Option<ParsedLink<'a>> {
        self.left = self.left.checked_sub(1)?;
        // `UnverifiedChain::decode` already parsed every link, so this cannot fail.
        let (link, rest) = take_link(self.rest).ok()?;
        self.rest = rest;
        Some(link)
    }
}

/// The checks one link must pass on its own: revocation, epoch and time. Out of line: kept
/// apart from the chain walk it is called from, it compiles smaller.
#[inline(never)]
fn check_link<R: Revocations + ?Sized>(l: &Link, v: &Verifier<'_, R>) -> Result<()> {
    if l.epoch < v.epoch
        || v.revocations.id_revoked(&l.id)
        || v.revocations.key_revoked(&l.subject.key_id())
    {
        return Err(Error::Revoked);
    }
    if l.is_time_bounded() {
        l.check_time(v.now.ok_or(Error::ClockUntrusted)?, &v.tz)?;
    }
    Ok(())
}

/// Revocation state the verifier consults: the lock's persisted list, or nothing.
///
/// Open to implement: a server or tool checking chains against its own list only affects its
/// own verification, never what a lock decides (the lock always consults its persisted state).
pub trait Revocations {
    /// Whether this credential id is revoked.
    fn id_revoked(&self, id: &CredentialId) -> bool;
    /// Whether this delegate or holder key is revoked: a subject is asked by its id
    /// ([`SubjectKey::key_id`]), so a P-256 holder key by its 32-byte digest.
    fn key_revoked(&self, key: &PublicKey) -> bool;
}

/// No revocations (for tests and tools; a lock passes its persisted list).
impl Revocations for () {
    fn id_revoked(&self, _: &CredentialId) -> bool {
        false
    }
    fn key_revoked(&self, _: &PublicKey) -> bool {
        false
    }
}

/// Everything the lock knows that a chain is checked against.
pub struct Verifier<'a, R: Revocations + ?Sized> {
    /// This lock's id.
    pub lock: LockId,
    /// Owner keys enrolled in this lock (validated at enrolment).
    pub owners: &'a [PublicKey],
    /// The owners' current revocation epoch: links with an older epoch are refused.
    pub epoch: u32,
    /// Revoked credential ids and keys.
    pub revocations: &'a R,
    /// Trusted current time, or `None` while the lock's clock is untrusted.
    pub now: Option<UnixTime>,
    /// The lock's time-zone rule, for schedules.
    pub tz: TzRule,
}

/// Shows everything but the revocation source, which need not be `Debug`.
impl<R: Revocations + ?Sized> core::fmt::Debug for Verifier<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("lock", &self.lock)
            .field("owners", &self.owners)
            .field("epoch", &self.epoch)
            .field("now", &self.now)
            .field("tz", &self.tz)
            .finish_non_exhaustive()
    }
}

/// A use-limited link in a verified chain: the lock counts uses against each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct UseLimit {
    /// The limited link's id.
    pub id: CredentialId,
    /// How many uses it allows in total.
    pub uses: u16,
    /// When the link expires: after that its use count may be forgotten.
    pub expires: Option<UnixTime>,
    /// The link's epoch: once the lock's epoch is above it, its use count may be forgotten.
    pub epoch: u32,
}

/// A chain that passed every check: what the lock may act on once the holder proves
/// possession of `holder`'s key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant {
    /// The owner key the chain is rooted in.
    pub owner: PublicKey,
    /// The holder's device key (the last link's subject).
    pub holder: SubjectKey,
    /// The last link's id.
    pub id: CredentialId,
    /// Rights of the last link (each link's rights are within its parent's).
    pub rights: Rights,
    /// Every use-limited link, outermost first.
    pub limits: Bounded<UseLimit, MAX_CHAIN_LEN>,
    /// The last link's purpose binding, if any.
    pub purpose: Option<[u8; 32]>,
    /// Earliest expiry across the chain.
    pub expires: Option<UnixTime>,
}

impl Grant {
    /// Refuses with [`Error::NotPermitted`] unless the grant includes `needed`.
    pub fn require(&self, needed: Rights) -> Result<()> {
        if self.rights.contains(needed) {
            Ok(())
        } else {
            Err(Error::NotPermitted)
        }
    }
}

impl<'a> UnverifiedChain<'a> {
    /// Parses a chain message. No signatures are checked; values are range-checked.
    pub fn decode(bytes: &'a [u8]) -> Result<UnverifiedChain<'a>> {
        if bytes.len() > MAX_CHAIN_BYTES {
            return Err(Error::Oversize);
        }
        let body = wire::split_header(bytes, Kind::Chain)?;
        let (hint, rest) = wire::take_array::<HINT_LEN>(body)?;
        let (&count, links) = rest.split_first().ok_or(Error::Truncated)?;
        if count == 0 || usize::from(count) > MAX_CHAIN_LEN {
            return Err(Error::ChainLength);
        }
        let mut spans = [Span::default(); MAX_CHAIN_LEN];
        let mut root_names_locks = false;
        let mut at = 0;
        for (i, span) in spans.iter_mut().take(usize::from(count)).enumerate() {
            let (p, _) = take_link(links.get(at..).ok_or(Error::Truncated)?)?;
            if i == 0 {
                root_names_locks = matches!(p.link.scope, Scope::Locks(_));
            }
            let offset = |n: usize| u16::try_from(n).map_err(|_| Error::Oversize);
            // Every link but the last signs the next one, so its subject must be Ed25519.
            let issuer = match p.link.subject.ed25519() {
                Some(key) => key,
                None if i + 1 == usize::from(count) => PublicKey::default(),
                None => return Err(Error::Malformed),
            };
            *span = Span {
                start: offset(at)?,
                body_end: offset(at + p.body.len())?,
                issuer,
            };
            at += p.whole.len();
        }
        if at != links.len() {
            return Err(Error::TrailingBytes);
        }
        Ok(UnverifiedChain {
            hint,
            count,
            bytes: links,
            spans,
            root_names_locks,
        })
    }

    /// The signed parts of the link at `span`.
    fn signed(&self, span: &Span) -> Result<Signed<'a>> {
        let (start, end) = (usize::from(span.start), usize::from(span.body_end));
        let whole = self.bytes.get(start..end + 64).ok_or(Error::Truncated)?;
        let (body, sig) = whole
            .split_at_checked(end - start)
            .ok_or(Error::Truncated)?;
        Ok(Signed {
            issuer: span.issuer,
            body,
            whole,
            sig: Signature(sig.try_into().map_err(|_| Error::Truncated)?),
        })
    }

    /// The links as decoded, root first (unverified: for display and routing only).
    pub fn links(&self) -> impl Iterator<Item = Link> + use<'a> {
        self.parsed().map(|p| p.link)
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the chain has no links (never true of a decoded chain).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The last link (the holder's), unverified.
    pub fn leaf(&self) -> Link {
        // A decoded chain has at least one link; the fallback grants nothing.
        let none = Link::unchecked(SubjectKey::default(), Rights::default());
        self.links().last().unwrap_or(none)
    }

    pub(crate) fn parsed(&self) -> Links<'a> {
        Links {
            rest: self.bytes,
            left: self.count,
        }
    }

    /// The locks the chain claims to cover: the last explicit scope (unverified).
    pub fn locks(&self) -> Bounded<LockId, MAX_LOCKS> {
        self.links()
            .filter_map(|l| match l.scope {
                Scope::Locks(list) => Some(list),
                Scope::Inherit => None,
            })
            .last()
            .unwrap_or_default()
    }

    /// Walks the narrowing rules root to leaf (each link within its parent, the root naming
    /// its locks), showing each link to `visit` as it goes. Returns the leaf and the locks it
    /// effectively covers.
    pub(crate) fn narrowed(
        &self,
        mut visit: impl FnMut(&Link),
    ) -> Result<(ParsedLink<'a>, Bounded<LockId, MAX_LOCKS>)> {
        // One call site of `visit`, so its body is compiled once.
        let mut parent: Option<ParsedLink<'a>> = None;
        let mut locks = Bounded::new();
        for link in self.parsed() {
            match &parent {
                None => match link.link.scope {
                    Scope::Locks(root) => locks = root,
                    _ => return Err(Error::Malformed),
                },
                Some(parent) => link.link.check_within(&parent.link, &mut locks)?,
            }
            visit(&link.link);
            parent = Some(link);
        }
        Ok((parent.ok_or(Error::ChainLength)?, locks))
    }

    /// Checks the whole chain for this lock: every signature first (strict Ed25519, root to
    /// leaf), then narrowing and scope, then revocation, epoch and time. An error other than
    /// a decoding error, [`Error::UnknownOwner`] or [`Error::Crypto`] therefore concerns a
    /// chain its owner really signed.
    pub fn verify<R: Revocations + ?Sized>(&self, v: &Verifier<'_, R>) -> Result<Grant> {
        // Signatures first: every later refusal is then about a chain the owner really
        // issued, which the lock may attribute to its holder.
        let owner = self.verify_signatures(v.owners)?;
        self.check_rules(v, owner)
    }

    /// [`UnverifiedChain::verify`] for a chain whose first `verified` links (at least the
    /// root) a lock has verified before as signed by `owner` and its delegates: the signatures
    /// of the links after them, each against its parent as always, then every rule.
    pub(crate) fn verify_after<R: Revocations + ?Sized>(
        &self,
        v: &Verifier<'_, R>,
        owner: PublicKey,
        verified: usize,
    ) -> Result<Grant> {
        self.verify_children(verified.max(1))?;
        self.check_rules(v, owner)
    }

    /// The bytes of the links before the leaf, and the reference naming them (PROTOCOL
    /// 22.2); `None` for a chain of one link.
    pub fn prefix(&self) -> Option<(&'a [u8], ChainRef)> {
        let leaf = self.spans.get(usize::from(self.count).checked_sub(1)?)?;
        let links = self
            .bytes
            .get(..usize::from(leaf.start))
            .filter(|l| !l.is_empty())?;
        Some((links, ChainRef::of(links)))
    }

    /// Writes the chain's short form (kind `0x02`, PROTOCOL 22.2) into `out`: the reference
    /// to its links before the leaf, then the leaf. `None` for a chain of one link.
    pub fn short_form(&self, out: &mut [u8]) -> Option<Result<usize>> {
        let (links, reference) = self.prefix()?;
        let leaf = self.bytes.get(links.len()..)?;
        let mut write = || {
            let at = wire::write_header(out, Kind::ChainRef)?;
            let at = wire::put_bytes(out, at, &reference.0)?;
            let at = wire::put_bytes(out, at, &[1])?;
            wire::put_bytes(out, at, leaf)
        };
        Some(write())
    }

    /// Everything but signatures, for a chain whose signatures `owner` and its delegates made;
    /// a lock runs it again at every command that moves the bolt. Out of line so its links
    /// never sit on the stack under the Ed25519 verifier.
    #[inline(never)]
    pub(crate) fn check_rules<R: Revocations + ?Sized>(
        &self,
        v: &Verifier<'_, R>,
        owner: PublicKey,
    ) -> Result<Grant> {
        // One walk: a narrowing error wins over everything, then a wrong lock, then a revoked
        // owner key, then the first per-link refusal (revocation, epoch, time), as if checked
        // in that order.
        let mut limits = Bounded::new();
        let mut expires: Option<UnixTime> = None;
        let mut refused = None;
        let (leaf, locks) = self.narrowed(|l| {
            if refused.is_some() {
                return;
            }
            if let Err(e) = check_link(l, v) {
                refused = Some(e);
                return;
            }
            if let Some(uses) = l.uses {
                let limit = UseLimit {
                    id: l.id,
                    uses,
                    expires: l.not_after(),
                    epoch: l.epoch,
                };
                if limits.push(limit).is_err() {
                    refused = Some(Error::ChainLength);
                }
            }
            expires = match (expires, l.not_after()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        })?;
        if !locks.as_slice().contains(&v.lock) {
            return Err(Error::WrongLock);
        }
        if v.revocations.key_revoked(&owner) {
            return Err(Error::Revoked);
        }
        if let Some(e) = refused {
            return Err(e);
        }

        Ok(Grant {
            owner,
            holder: leaf.link.subject,
            id: leaf.link.id,
            rights: leaf.link.rights,
            limits,
            purpose: leaf.link.purpose,
            expires,
        })
    }

    /// Checks that the root names its locks, then verifies the root against the enrolled
    /// owners matching the hint and each child against its parent's subject. Returns the owner
    /// key that signed the root. Decodes nothing, so little sits on the stack under the
    /// Ed25519 verifier.
    #[inline(never)]
    fn verify_signatures(&self, owners: &[PublicKey]) -> Result<PublicKey> {
        let root = self.signed(self.spans.first().ok_or(Error::ChainLength)?)?;
        if !self.root_names_locks {
            return Err(Error::Malformed);
        }
        let version = [VERSION];
        let mut candidates = owners
            .iter()
            .filter(|o| o.0.starts_with(&self.hint))
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::UnknownOwner);
        }
        let owner = candidates
            .find(|o| {
                crypto::verify(o, labels::LINK, &[&version, &o.0, root.body], &root.sig).is_ok()
            })
            .copied()
            .ok_or(Error::Crypto)?;
        self.verify_children(1)?;
        Ok(owner)
    }

    /// Verifies each link from index `from` on against its parent's subject key, bound to the
    /// parent's whole bytes (6.2).
    fn verify_children(&self, from: usize) -> Result<()> {
        let version = [VERSION];
        let count = usize::from(self.count);
        let spans = self.spans.get(from.saturating_sub(1)..count);
        for pair in spans.unwrap_or_default().windows(2) {
            let [parent, child] = pair else { continue };
            let (parent, child) = (self.signed(parent)?, self.signed(child)?);
            let anchor = parent_anchor(parent.whole);
            crypto::verify(
                &parent.issuer,
                labels::LINK,
                &[&version, &anchor, child.body],
                &child.sig,
            )?;
        }
        Ok(())
    }
}
