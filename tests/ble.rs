//! Session messages over the BLE transport (docs/PROTOCOL.md section 21): real challenges,
//! opens and replies cut into fragments at ATT MTU 23, 185, 247 and 517, carried over a
//! simulated link that loses, duplicates, reorders and truncates fragments as a seeded
//! generator decides, and put back together; a whole session at MTU 23.

mod common;

use chacha20::ChaCha20Rng;
use common::*;
use doorkey::Error;
use doorkey::lock::{Action, Lock};
use doorkey::phone::{Credential, PhoneSession};
use doorkey::session::{Command, Reply};
use doorkey::time::Tick;
use doorkey::transport::ble::{
    FRAGMENT_TIMEOUT_MS, FrameError, MAX_BLE_MESSAGE, MESSAGE_TIMEOUT_MS, Reassembler, Segmenter,
};
use proptest::prelude::*;

const MTUS: [u16; 4] = [23, 185, 247, 517];
/// Milliseconds between two fragments on the simulated link.
const GAP_MS: u64 = 7;

/// Fragments of `message` as section 21.3 lays them out, written from the spec alone: the
/// oracle the segmenter is held to.
fn spec_fragments(message: &[u8], counter: u8, mtu: u16) -> Vec<Vec<u8>> {
    let chunk = usize::from(mtu.min(517)) - 3 - 4;
    let total = (message.len() as u16).to_le_bytes();
    message
        .chunks(chunk)
        .enumerate()
        .map(|(i, data)| [&[counter, i as u8, total[0], total[1]][..], data].concat())
        .collect()
}

/// Fragments of `message` from the segmenter, each at most `mtu - 3` bytes.
fn segment(message: &[u8], counter: u8, mtu: u16) -> Vec<Vec<u8>> {
    let mut s = Segmenter::new(message, counter, mtu).unwrap();
    let mut out = vec![0u8; usize::from(mtu) - 3];
    let mut fragments = Vec::new();
    while let Some(n) = s.next_into(&mut out).unwrap() {
        fragments.push(out[..n].to_vec());
    }
    assert_eq!(fragments.len(), s.fragments());
    fragments
}

/// What the receiver made of a run of fragments.
#[derive(Debug, Default, PartialEq)]
struct Received {
    /// Every complete message, in order.
    messages: Vec<Vec<u8>>,
    /// Every refusal, in order.
    errors: Vec<FrameError>,
}

/// Pushes `fragments` one every `GAP_MS` from `*now`.
fn deliver(r: &mut Reassembler<'_>, fragments: &[Vec<u8>], now: &mut u64) -> Received {
    let mut got = Received::default();
    for f in fragments {
        *now += GAP_MS;
        match r.push(f, *now) {
            Ok(Some(message)) => got.messages.push(message.to_vec()),
            Ok(None) => {}
            Err(e) => got.errors.push(e),
        }
    }
    got
}

/// The lock's side of the tests: every call that takes the lock's tick goes through here.
struct Door {
    lock: Lock<Mem>,
    tick: Tick,
}

impl Door {
    fn challenge(&mut self, rng: &mut ChaCha20Rng) -> Vec<u8> {
        let mut out = [0u8; 256];
        let n = self.lock.challenge(self.tick, rng, &mut out).unwrap();
        out[..n].to_vec()
    }

    fn handle(&mut self, message: &mut [u8]) -> doorkey::Result<(Action, Vec<u8>)> {
        let mut out = vec![0u8; MAX_BLE_MESSAGE];
        let outcome = self.lock.handle(self.tick, message, &mut out)?;
        Ok((outcome.action, out[..outcome.reply].to_vec()))
    }
}

/// A lock whose clock is trusted (T0 at tick 100) and whose receipts are sealed to `audit()`,
/// and the courier's credential chain.
fn setup() -> (World, Door, Vec<u8>) {
    let mut w = World::new();
    let mut lock = install(&w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    enable_audit(&mut lock, tick(60), 1, &mut w.rng);
    let chain = w.courier_chain().as_bytes().to_vec();
    (
        w,
        Door {
            lock,
            tick: tick(130),
        },
        chain,
    )
}

/// Real session messages: a challenge, the courier's unlock request (the 449-byte open of
/// spec 11.8), its reply, a relock command and a reply carrying a receipt bundle.
fn session_messages() -> Vec<Vec<u8>> {
    let (mut w, mut door, chain) = setup();
    let cred = Credential::new(&chain, key(4)).unwrap();
    let challenge = door.challenge(&mut w.rng);
    let mut open = [0u8; 2048];
    let (mut phone, m) =
        PhoneSession::open(&challenge, &cred, Command::Unlock, &mut w.rng, &mut open).unwrap();
    let (_, unlocked) = door.handle(&mut open[..m].to_vec()).unwrap();
    let mut command = [0u8; 64];
    let c = phone
        .command(Command::Receipts { after: 0 }, &mut command)
        .unwrap();
    let (_, receipts) = door.handle(&mut command[..c].to_vec()).unwrap();
    assert!(
        receipts.len() > 510,
        "a reply of several fragments at every MTU"
    );
    vec![
        challenge,
        open[..m].to_vec(),
        unlocked,
        command[..c].to_vec(),
        receipts,
    ]
}

#[test]
fn segments_follow_the_spec_and_its_fragment_counts() {
    let messages = session_messages();
    assert_eq!(messages[1].len(), 449, "the unlock request of spec 11.8");
    for mtu in MTUS {
        for message in &messages {
            assert_eq!(segment(message, 3, mtu), spec_fragments(message, 3, mtu));
        }
    }
    // The table of spec 21.3: fragments per message size at each MTU.
    let table = [
        (24, [2, 1, 1, 1]),
        (147, [10, 1, 1, 1]),
        (449, [29, 3, 2, 1]),
        (2400, [150, 14, 10, 5]),
    ];
    for (size, counts) in table {
        let message = vec![0x5a; size];
        for (mtu, count) in MTUS.into_iter().zip(counts) {
            let s = Segmenter::new(&message, 0, mtu).unwrap();
            assert_eq!(s.fragments(), count, "{size} bytes at MTU {mtu}");
        }
    }
}

/// One fault the link injects into a message's fragments.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Lose(usize),
    Duplicate(usize),
    /// Fragment `i + 1` is delivered before fragment `i`.
    Swap(usize),
    /// Fragment `i` is cut to its first `len` bytes.
    Cut(usize, usize),
}

impl Fault {
    fn pick(rng: &mut ChaCha20Rng, fragments: &[Vec<u8>]) -> Option<Fault> {
        let k = fragments.len();
        let i = rng.next_u32() as usize % k;
        Some(match rng.next_u32() % 4 {
            0 => Fault::Lose(i),
            1 => Fault::Duplicate(i),
            2 if k >= 2 => Fault::Swap(i % (k - 1)),
            2 => return None,
            _ => Fault::Cut(i, rng.next_u32() as usize % fragments[i].len()),
        })
    }

    fn apply(self, fragments: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut out = fragments.to_vec();
        match self {
            Fault::Lose(i) => {
                out.remove(i);
            }
            Fault::Duplicate(i) => out.insert(i + 1, out[i].clone()),
            Fault::Swap(i) => out.swap(i, i + 1),
            Fault::Cut(i, len) => out[i].truncate(len),
        }
        out
    }

    /// The first refusal spec 21.5 says the receiver reports, `None` for none (a duplicated
    /// one-fragment message), or `Some(Timeout)` where the partial message waits for ever.
    /// `Err` lists the refusals allowed where the spec leaves the moment of detection to the
    /// later fragments' lengths (a cut first fragment).
    fn expected(
        self,
        fragments: &[Vec<u8>],
    ) -> std::result::Result<Option<FrameError>, [FrameError; 2]> {
        let last = fragments.len() - 1;
        Ok(Some(match self {
            Fault::Lose(0) if last == 0 => return Ok(None),
            Fault::Lose(0) => FrameError::Orphan,
            Fault::Lose(i) if i == last => FrameError::Timeout,
            Fault::Lose(_) => FrameError::Missing,
            Fault::Duplicate(i) if i == last && last == 0 => return Ok(None),
            Fault::Duplicate(i) if i == last => FrameError::Orphan,
            Fault::Duplicate(_) => FrameError::Repeated,
            Fault::Swap(0) => FrameError::Orphan,
            Fault::Swap(_) => FrameError::Missing,
            Fault::Cut(_, len) if len <= 4 => FrameError::Truncated,
            Fault::Cut(0, _) if last == 0 => FrameError::Timeout,
            Fault::Cut(0, _) => return Err([FrameError::BadLength, FrameError::Timeout]),
            Fault::Cut(..) => FrameError::BadLength,
        }))
    }
}

#[test]
fn faults_are_refused_as_the_spec_says_and_the_next_message_gets_through() {
    let messages = session_messages();
    let mut rng = rng(42);
    let mut counter = 0u8;
    let mut seen = std::collections::HashSet::new();
    for mtu in MTUS {
        let mut buf = vec![0u8; MAX_BLE_MESSAGE];
        let mut r = Reassembler::new(&mut buf);
        let mut now = 1_000_000;
        for (m, message) in messages.iter().enumerate() {
            for _ in 0..12 {
                let fragments = segment(message, counter, mtu);
                counter = counter.wrapping_add(1);
                let Some(fault) = Fault::pick(&mut rng, &fragments) else {
                    continue;
                };
                let mut got = deliver(&mut r, &fault.apply(&fragments), &mut now);
                if r.in_progress() {
                    now += FRAGMENT_TIMEOUT_MS;
                    got.errors.extend(r.expire(now).err());
                }
                let context = format!("MTU {mtu}, message {m}, {fault:?}");
                match fault.expected(&fragments) {
                    Ok(None) => assert!(got.errors.is_empty(), "{context}: {got:?}"),
                    Ok(Some(e)) => assert_eq!(got.errors.first(), Some(&e), "{context}"),
                    Err(allowed) => {
                        assert!(allowed.contains(&got.errors[0]), "{context}: {got:?}")
                    }
                }
                // Whatever arrives whole is the genuine message: only a duplicated last
                // fragment leaves it whole, and a duplicated one-fragment message arrives twice.
                let last = fragments.len() - 1;
                let whole = match fault {
                    Fault::Duplicate(i) if i == last => 1 + usize::from(last == 0),
                    _ => 0,
                };
                assert_eq!(got.messages, vec![message.clone(); whole], "{context}");
                seen.insert(got.errors.first().copied());
                // The receiver has recovered: the next message arrives whole.
                let next = deliver(&mut r, &segment(message, counter, mtu), &mut now);
                counter = counter.wrapping_add(1);
                assert_eq!(next.messages, [message.as_slice()], "{context}");
                assert!(next.errors.is_empty(), "{context}: {next:?}");
            }
        }
    }
    // The seeded run reached every refusal a faulty link can cause.
    for e in [
        FrameError::Orphan,
        FrameError::Missing,
        FrameError::Repeated,
        FrameError::Truncated,
        FrameError::BadLength,
        FrameError::Timeout,
    ] {
        assert!(seen.contains(&Some(e)), "{e:?} never seen");
    }
}

#[test]
fn a_message_cut_off_by_the_next_one_is_refused_as_interleaved() {
    let messages = session_messages();
    let (open, challenge) = (&messages[1], &messages[0]);
    let mut buf = vec![0u8; MAX_BLE_MESSAGE];
    let mut r = Reassembler::new(&mut buf);
    let mut now = 0;
    let mut cut = segment(open, 0, 185);
    cut.pop();
    assert_eq!(deliver(&mut r, &cut, &mut now), Received::default());
    // The sender gives up and sends its next message: the first fragment ends the partial
    // open, and the rest of this message has no first fragment.
    let next = segment(challenge, 1, 23);
    let got = deliver(&mut r, &next, &mut now);
    let mut errors = vec![FrameError::Interleaved];
    errors.resize(next.len(), FrameError::Orphan);
    assert_eq!(got.errors, errors);
    assert!(got.messages.is_empty());
    let again = deliver(&mut r, &segment(challenge, 2, 23), &mut now);
    assert_eq!(again.messages, [challenge.as_slice()]);
}

/// Carries `message` over a clean link at MTU 23 and returns what the receiver got.
fn carry(r: &mut Reassembler<'_>, message: &[u8], counter: &mut u8, now: &mut u64) -> Vec<u8> {
    let got = deliver(r, &segment(message, *counter, 23), now);
    *counter = counter.wrapping_add(1);
    assert!(got.errors.is_empty(), "{got:?}");
    assert_eq!(got.messages.len(), 1);
    got.messages[0].clone()
}

#[test]
fn a_courier_unlocks_and_relocks_over_ble_at_mtu_23() {
    let (mut w, mut door, chain) = setup();
    let cred = Credential::new(&chain, key(4)).unwrap();
    let (mut at_lock, mut at_phone) = (vec![0u8; MAX_BLE_MESSAGE], vec![0u8; MAX_BLE_MESSAGE]);
    let (mut at_lock, mut at_phone) = (
        Reassembler::new(&mut at_lock),
        Reassembler::new(&mut at_phone),
    );
    let (mut lock_counter, mut phone_counter, mut now) = (0, 0, 0);

    let challenge = door.challenge(&mut w.rng);
    let challenge = carry(&mut at_phone, &challenge, &mut lock_counter, &mut now);
    let mut open = [0u8; 2048];
    let (mut phone, m) =
        PhoneSession::open(&challenge, &cred, Command::Unlock, &mut w.rng, &mut open).unwrap();
    assert_eq!(Segmenter::new(&open[..m], 0, 23).unwrap().fragments(), 29);
    let mut received = carry(&mut at_lock, &open[..m], &mut phone_counter, &mut now);
    let (action, reply) = door.handle(&mut received).unwrap();
    assert_eq!(action, Action::Unlock);
    let mut reply = carry(&mut at_phone, &reply, &mut lock_counter, &mut now);
    assert_eq!(phone.read_reply(&mut reply).unwrap(), Reply::Unlocked);

    let mut command = [0u8; 64];
    let c = phone.command(Command::Lock, &mut command).unwrap();
    let mut received = carry(&mut at_lock, &command[..c], &mut phone_counter, &mut now);
    let (action, reply) = door.handle(&mut received).unwrap();
    assert_eq!(action, Action::Lock);
    let mut reply = carry(&mut at_phone, &reply, &mut lock_counter, &mut now);
    assert_eq!(phone.read_reply(&mut reply).unwrap(), Reply::Locked);

    // The open sent again as a new message arrives whole; the session layer refuses it.
    let mut again = carry(&mut at_lock, &open[..m], &mut phone_counter, &mut now);
    assert_eq!(door.handle(&mut again), Err(Error::Replay));
}

#[test]
fn every_mtu_carries_messages_of_every_boundary_size() {
    let message: Vec<u8> = (0..MAX_BLE_MESSAGE).map(|i| (i * 7 + 1) as u8).collect();
    let mut buf = vec![0u8; MAX_BLE_MESSAGE];
    let mut r = Reassembler::new(&mut buf);
    let mut now = 0;
    for mtu in 23..=517u16 {
        let chunk = usize::from(mtu) - 7;
        for size in [1, chunk - 1, chunk, chunk + 1, 2 * chunk, MAX_BLE_MESSAGE] {
            let message = &message[..size];
            let fragments = segment(message, mtu as u8, mtu);
            assert_eq!(fragments, spec_fragments(message, mtu as u8, mtu));
            let got = deliver(&mut r, &fragments, &mut now);
            assert_eq!(got.messages, [message], "MTU {mtu}, {size} bytes");
            assert!(got.errors.is_empty() && !r.in_progress());
        }
    }
}

#[test]
fn a_trickling_sender_is_cut_off_after_the_whole_message_timeout() {
    let message = vec![9u8; MAX_BLE_MESSAGE];
    let fragments = segment(&message, 0, 23);
    let mut buf = vec![0u8; MAX_BLE_MESSAGE];
    let mut r = Reassembler::new(&mut buf);
    let step = FRAGMENT_TIMEOUT_MS - 1;
    let late = (MESSAGE_TIMEOUT_MS / step + 1) as usize;
    for (i, f) in fragments.iter().enumerate().take(late) {
        assert_eq!(r.push(f, i as u64 * step).map(|m| m.is_some()), Ok(false));
    }
    assert_eq!(
        r.push(&fragments[late], late as u64 * step),
        Err(FrameError::Timeout)
    );
}

proptest! {
    #[test]
    fn segment_then_reassemble_is_identity(
        mtu in 23u16..=517,
        message in proptest::collection::vec(any::<u8>(), 1..=MAX_BLE_MESSAGE),
        counter: u8,
    ) {
        let fragments = segment(&message, counter, mtu);
        prop_assert_eq!(&fragments, &spec_fragments(&message, counter, mtu));
        prop_assert!(fragments.iter().all(|f| f.len() <= usize::from(mtu) - 3));
        let mut buf = vec![0u8; MAX_BLE_MESSAGE];
        let mut r = Reassembler::new(&mut buf);
        let got = deliver(&mut r, &fragments, &mut 0);
        prop_assert_eq!(got, Received { messages: vec![message], errors: vec![] });
    }
}
