//! Lock state storage: atomic replacement in RAM and on flash, recovery after a power cut at
//! every flash operation, and refusal of anything on flash that was not committed.

#[path = "common/flash.rs"]
mod flash;

use doorkey::Error;
use doorkey::crypto::hash;
use doorkey::lock::{FlashStorage, MemoryStorage, Region, Storage};
use flash::*;
use proptest::prelude::*;

/// Region size of the simulated flash in most tests.
const SIZE: usize = 4096;
const HEADER: usize = 32;
const CAPACITY: usize = SIZE - HEADER;

/// A record exactly as the documented format lays it out.
fn record(seq: u64, data: &[u8]) -> Vec<u8> {
    let mut r = b"DKS1".to_vec();
    r.extend(seq.to_le_bytes());
    r.extend((data.len() as u32).to_le_bytes());
    let check: [u8; 16] = hash(&[b"doorkey/v1/store\0", &r, data]);
    r.extend(check);
    r.extend(data);
    r
}

/// A region of `size` bytes holding `record(seq, data)`, the rest erased.
fn region_with(size: usize, seq: u64, data: &[u8]) -> Vec<u8> {
    let mut region = record(seq, data);
    region.resize(size, 0xFF);
    region
}

/// The test's own reading of the format: sequence number of a valid record in `region`.
fn valid_seq(region: &[u8]) -> Option<u64> {
    let len = u32::from_le_bytes(region.get(12..16)?.try_into().ok()?) as usize;
    let data = region.get(HEADER..HEADER + len)?;
    let seq = u64::from_le_bytes(region[4..12].try_into().ok()?);
    (*region.get(..HEADER)? == record(seq, data)[..HEADER]).then_some(seq)
}

fn newest_seq(flash: &SimFlash) -> Option<u64> {
    let a = valid_seq(&flash.region(Region::A));
    let b = valid_seq(&flash.region(Region::B));
    a.max(b)
}

fn load_vec<S: Storage>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; SIZE];
    s.load(&mut buf).expect("load").map(|n| buf[..n].to_vec())
}

/// Distinct test states of varied lengths, growing and shrinking, from empty to full.
fn state(i: usize) -> Vec<u8> {
    const LENS: [usize; 12] = [1, 5, 300, 64, 63, 65, CAPACITY, 2, 1000, 128, 17, 3000];
    if i == 0 {
        return Vec::new();
    }
    let mut rng = XorShift::new(i as u64);
    let mut s: Vec<u8> = (0..LENS[i % LENS.len()]).map(|_| rng.byte()).collect();
    for (b, tag) in s.iter_mut().zip((i as u64).to_le_bytes()) {
        *b = tag;
    }
    s
}

#[test]
fn memory_storage_round_trip() {
    let mut m = MemoryStorage::<16>::new();
    let mut buf = [0u8; 16];
    assert_eq!(m.load(&mut buf), Ok(None));
    m.commit(b"hello").unwrap();
    assert_eq!(m.load(&mut buf), Ok(Some(5)));
    assert_eq!(&buf[..5], b"hello");
    m.commit(b"").unwrap();
    assert_eq!(m.load(&mut buf), Ok(Some(0)));
    m.commit(&[7; 16]).unwrap();
    assert_eq!(m.commit(&[8; 17]), Err(Error::Oversize));
    assert_eq!(m.load(&mut buf[..15]), Err(Error::BufferTooSmall));
    assert_eq!(m.load(&mut buf), Ok(Some(16)));
    assert_eq!(buf, [7; 16], "a refused commit leaves the state alone");
    let mut d = MemoryStorage::<0>::default();
    assert_eq!(d.load(&mut []), Ok(None));
    d.commit(&[]).unwrap();
    assert_eq!(d.load(&mut []), Ok(Some(0)));
}

#[test]
fn record_layout_matches_the_documented_format() {
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"hello").unwrap();
    assert_eq!(flash.region(Region::A), region_with(SIZE, 0, b"hello"));
    assert_eq!(
        flash.0.borrow().log,
        ["erase A", "write A 32..37", "write A 0..32"],
        "data first, header last"
    );
    s.commit(b"world!").unwrap();
    assert_eq!(flash.region(Region::B), region_with(SIZE, 1, b"world!"));
    let header = &flash.region(Region::B)[..HEADER];
    assert_eq!(&header[..4], b"DKS1");
    assert_eq!(&header[4..12], &1u64.to_le_bytes());
    assert_eq!(&header[12..16], &6u32.to_le_bytes());
}

/// The example record of docs/PROTOCOL.md 16.5, byte for byte (its check bytes computed
/// outside the crate).
#[test]
fn the_documented_example_record_is_exact() {
    let flash = SimFlash::new(64, 1);
    FlashStorage::new(flash.clone()).commit(&[1, 2, 3]).unwrap();
    let mut expected = vec![
        0x44, 0x4b, 0x53, 0x31, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, // magic, seq, len
        0xd1, 0x8a, 0x2a, 0x1f, 0x0e, 0xde, 0xf9, 0xbd, 0x3f, 0x8a, 0x9f, 0xf6, 0xb3, 0x26, 0x7a,
        0x18, // check
        1, 2, 3,
    ];
    expected.resize(64, 0xff);
    assert_eq!(flash.region(Region::A), expected);
}

#[test]
fn flash_storage_round_trip_and_alternation() {
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    assert_eq!(load_vec(&mut s), None, "fresh flash holds nothing");
    for i in 0..100 {
        let st = state(i);
        let other = if i % 2 == 0 { Region::B } else { Region::A };
        let reads_before = flash.0.borrow().reads[idx(other)];
        s.commit(&st).unwrap();
        if i > 0 {
            assert_eq!(
                flash.0.borrow().reads[idx(other)],
                reads_before,
                "a commit with the newest sequence cached reads only its own region back"
            );
        }
        assert_eq!(load_vec(&mut s), Some(st), "commit {i}");
        assert_eq!(newest_seq(&flash), Some(i as u64));
    }
    let erased = flash.0.borrow().erased.clone();
    assert_eq!(erased.len(), 100);
    for (i, r) in erased.iter().enumerate() {
        assert_eq!(*r, if i % 2 == 0 { Region::A } else { Region::B });
    }
    // Reboot: a new instance over the same flash finds the latest.
    let mut s = FlashStorage::new(s.into_inner());
    assert_eq!(load_vec(&mut s), Some(state(99)));
}

#[test]
fn flash_storage_limits_and_buffers() {
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    assert_eq!(s.commit(&vec![1; CAPACITY + 1]), Err(Error::Oversize));
    assert_eq!(flash.ops(), 0, "an oversize state touches nothing");
    s.commit(&vec![2; CAPACITY]).unwrap();
    let mut small = vec![0u8; CAPACITY - 1];
    assert_eq!(s.load(&mut small), Err(Error::BufferTooSmall));
    let mut fresh = FlashStorage::new(flash.clone());
    assert_eq!(fresh.load(&mut small), Err(Error::BufferTooSmall));
    assert_eq!(load_vec(&mut fresh), Some(vec![2; CAPACITY]));

    // Regions too small for a header are a configuration mistake, not an empty store.
    let mut tiny = FlashStorage::new(SimFlash::new(HEADER - 1, 1));
    assert_eq!(tiny.load(&mut [0u8; 8]), Err(Error::Misuse));
    assert_eq!(tiny.commit(&[]), Err(Error::Misuse));
    let mut exact = FlashStorage::new(SimFlash::new(HEADER, 1));
    assert_eq!(exact.commit(&[1]), Err(Error::Oversize));
    exact.commit(&[]).unwrap();
    assert_eq!(exact.load(&mut []), Ok(Some(0)));
}

/// `region` with the superseded mark written after its `len` bytes of data.
fn superseded(mut region: Vec<u8>, len: usize) -> Vec<u8> {
    region[HEADER + len] = 0;
    region
}

#[test]
fn commit_before_load_continues_the_sequence() {
    let a = region_with(SIZE, 41, b"older");
    let b = region_with(SIZE, 42, b"newer");
    let flash = SimFlash::with_contents(a, b);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"next").unwrap();
    assert_eq!(flash.region(Region::A), region_with(SIZE, 43, b"next"));
    assert_eq!(
        flash.region(Region::B),
        superseded(region_with(SIZE, 42, b"newer"), 5)
    );
    assert_eq!(
        load_vec(&mut FlashStorage::new(flash)),
        Some(b"next".to_vec())
    );
}

#[test]
fn flash_errors_are_never_mistaken_for_commits() {
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"kept").unwrap();
    flash.0.borrow_mut().drop_writes = true;
    assert_eq!(
        s.commit(b"lost"),
        Err(Error::Storage),
        "read-back catches it"
    );
    flash.0.borrow_mut().drop_writes = false;
    assert_eq!(load_vec(&mut s), Some(b"kept".to_vec()));
    s.commit(b"again").unwrap();
    assert_eq!(load_vec(&mut s), Some(b"again".to_vec()));

    // A read error is reported, not papered over with an older record.
    flash.0.borrow_mut().fail_reads = true;
    assert_eq!(s.load(&mut [0u8; 64]), Err(Error::Storage));
    assert_eq!(
        FlashStorage::new(flash.clone()).commit(b"x"),
        Err(Error::Storage)
    );
    flash.0.borrow_mut().fail_reads = false;
    assert_eq!(load_vec(&mut s), Some(b"again".to_vec()));
}

#[test]
fn a_failed_commit_that_landed_is_not_overwritten() {
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"first").unwrap();
    // The header write of the next commit completes but reports an error: the record is on
    // flash although the caller was told it may not be.
    let header_write = flash.ops() + 2;
    flash.0.borrow_mut().spurious_error_at = Some(header_write);
    assert_eq!(s.commit(b"maybe"), Err(Error::Storage));
    s.commit(b"third").unwrap();
    assert_eq!(
        flash.region(Region::B),
        superseded(region_with(SIZE, 1, b"maybe"), 5)
    );
    assert_eq!(flash.region(Region::A), region_with(SIZE, 2, b"third"));
    assert_eq!(load_vec(&mut s), Some(b"third".to_vec()));
}

/// What the test knows must be on flash.
struct Model {
    committed: Option<Vec<u8>>,
    seq: Option<u64>,
    next: usize,
}

/// Commits fresh states until one fails (the armed cut); returns the interrupted state.
fn commit_until_cut(s: &mut FlashStorage<SimFlash>, m: &mut Model) -> Vec<u8> {
    for _ in 0..1000 {
        let st = state(m.next);
        m.next += 1;
        match s.commit(&st) {
            Ok(()) => {
                let seq = newest_seq(s.flash()).expect("a committed record is valid");
                assert!(m.seq < Some(seq), "sequence increases");
                m.seq = Some(seq);
                m.committed = Some(st);
            }
            Err(e) => {
                assert_eq!(e, Error::Storage);
                return st;
            }
        }
    }
    panic!("the armed power cut never happened");
}

/// Reboots and checks that the loaded state is the last committed one or the interrupted one
/// (counted in `landed`).
fn recover(
    s: FlashStorage<SimFlash>,
    m: &mut Model,
    pending: Vec<u8>,
    landed: &mut [usize; 2],
) -> FlashStorage<SimFlash> {
    let flash = s.into_inner();
    flash.reboot();
    let mut s = FlashStorage::new(flash);
    let mut buf = vec![0u8; CAPACITY];
    let loaded = match s.load(&mut buf) {
        // The first record's header was torn: not blank, and nothing valid.
        Err(Error::Storage) if m.committed.is_none() => None,
        other => other.expect("load").map(|n| buf[..n].to_vec()),
    };
    assert!(!s.rolled_back(), "a power cut is no rollback");
    let seq = newest_seq(s.flash());
    if loaded.as_ref() == Some(&pending) {
        assert!(
            seq > m.seq,
            "the interrupted commit landed with a higher sequence"
        );
        m.committed = loaded;
        m.seq = seq;
        landed[1] += 1;
    } else {
        assert_eq!(
            loaded, m.committed,
            "neither the last committed state nor the interrupted one"
        );
        assert_eq!(seq, m.seq);
        landed[0] += 1;
    }
    s
}

fn run_with_cuts(seed: u64, cuts: &[usize], landed: &mut [usize; 2]) {
    let mut s = FlashStorage::new(SimFlash::new(SIZE, seed));
    let mut m = Model {
        committed: None,
        seq: None,
        next: 0,
    };
    for &cut in cuts {
        s.flash().cut_after(cut);
        let pending = commit_until_cut(&mut s, &mut m);
        s = recover(s, &mut m, pending, landed);
    }
    // After the last recovery, commits work and are loaded, on this and a rebooted instance.
    for _ in 0..3 {
        let st = state(m.next);
        m.next += 1;
        s.commit(&st).unwrap();
        let seq = newest_seq(s.flash());
        assert!(seq > m.seq);
        m.seq = seq;
        assert_eq!(load_vec(&mut s).as_ref(), Some(&st));
        m.committed = Some(st);
    }
    let mut s = FlashStorage::new(s.into_inner());
    assert_eq!(load_vec(&mut s), m.committed);
}

#[test]
fn power_cut_at_every_flash_operation() {
    let total = {
        let mut s = FlashStorage::new(SimFlash::new(SIZE, 0));
        for i in 0..20 {
            s.commit(&state(i)).unwrap();
        }
        s.flash().ops()
    };
    assert!(total >= 59);
    let mut landed = [0; 2];
    for seed in [1, 2, 3, 0xDEAD_BEEF, 0x1234_5678_9ABC] {
        for k in 0..total {
            // A second and third cut after recovery, at positions that vary with k and seed,
            // including the very first operation after the reboot.
            let second = (k * 7 + seed as usize) % 10;
            let third = (k + seed as usize) % 4;
            run_with_cuts(seed, &[k, second, third], &mut landed);
        }
    }
    // Both outcomes occur, so the sweep is not vacuous.
    assert!(landed[0] > 500 && landed[1] > 30, "{landed:?}");
}

#[test]
fn every_single_bit_flip_is_refused() {
    let data: Vec<u8> = (0..40).collect();
    let older = region_with(256, 6, b"older state");
    let newer = region_with(256, 7, &data);
    for bit in 0..(HEADER + data.len()) * 8 {
        let mut flipped = newer.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let mut s = FlashStorage::new(SimFlash::with_contents(older.clone(), flipped.clone()));
        assert_eq!(
            load_vec(&mut s),
            Some(b"older state".to_vec()),
            "bit {bit}: falls back"
        );
        let mut s = FlashStorage::new(SimFlash::with_contents(vec![0xFF; 256], flipped));
        assert_eq!(
            s.load(&mut [0u8; 256]),
            Err(Error::Storage),
            "bit {bit}: nothing else to fall back to, and not blank"
        );
    }
    // Bytes after the record are not part of it.
    let mut past = newer.clone();
    past[HEADER + data.len()] ^= 1;
    let mut s = FlashStorage::new(SimFlash::with_contents(older, past));
    assert_eq!(load_vec(&mut s), Some(data));
}

#[test]
fn sequence_never_wraps() {
    let flash =
        SimFlash::with_contents(region_with(SIZE, u64::MAX - 1, b"almost"), vec![0xFF; SIZE]);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"last").unwrap();
    assert_eq!(newest_seq(&flash), Some(u64::MAX));
    let ops = flash.ops();
    assert_eq!(s.commit(b"wrapped"), Err(Error::Storage));
    assert_eq!(flash.ops(), ops, "refused before touching the flash");
    assert_eq!(load_vec(&mut s), Some(b"last".to_vec()));
    assert_eq!(s.commit(b"wrapped"), Err(Error::Storage));

    // Also when the first call after a reboot is a commit.
    let mut s = FlashStorage::new(flash.clone());
    assert_eq!(s.commit(b"wrapped"), Err(Error::Storage));
    assert_eq!(load_vec(&mut s), Some(b"last".to_vec()));
}

/// Region contents for property tests: noise, optionally behind a plausible header (right
/// magic, a length that fits) so that the checksum is what refuses it.
fn noise_region(size: usize) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), size),
        any::<bool>(),
        any::<u64>(),
        any::<u32>(),
    )
        .prop_map(move |(mut bytes, plausible, seq, len)| {
            if plausible && size >= HEADER {
                bytes[..4].copy_from_slice(b"DKS1");
                bytes[4..12].copy_from_slice(&seq.to_le_bytes());
                let len = len % (size - HEADER + 1) as u32;
                bytes[12..16].copy_from_slice(&len.to_le_bytes());
            }
            bytes
        })
}

fn two_noise_regions() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (0usize..300).prop_flat_map(|size| (noise_region(size), noise_region(size)))
}

proptest! {
    #[test]
    fn arbitrary_flash_is_never_taken_for_a_record((a, b) in two_noise_regions()) {
        let size = a.len();
        let mut s = FlashStorage::new(SimFlash::with_contents(a, b));
        let mut buf = vec![0u8; 300];
        if size < HEADER {
            prop_assert_eq!(s.load(&mut buf), Err(Error::Misuse));
        } else {
            let erased = |r: &[u8]| r[..HEADER].iter().all(|b| *b == 0xFF);
            let blank = erased(&s.flash().region(Region::A)) && erased(&s.flash().region(Region::B));
            let expected = if blank { Ok(None) } else { Err(Error::Storage) };
            prop_assert_eq!(s.load(&mut buf), expected);
            prop_assert_eq!(s.load(&mut []), expected);
            // Recovery from garbage: commits start over and work.
            let fresh = &b"fresh"[..5.min(size - HEADER)];
            s.commit(fresh).unwrap();
            prop_assert_eq!(load_vec(&mut s), Some(fresh.to_vec()));
        }
    }

    #[test]
    fn a_crafted_record_is_returned_exactly(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        seq in any::<u64>(),
        in_b: bool,
        noise in noise_region(256),
    ) {
        let rec = region_with(256, seq, &data);
        let (a, b) = if in_b { (noise, rec) } else { (rec, noise) };
        let mut s = FlashStorage::new(SimFlash::with_contents(a, b));
        prop_assert_eq!(load_vec(&mut s), Some(data));
    }

    #[test]
    fn the_higher_sequence_wins(
        x in proptest::collection::vec(any::<u8>(), 0..100),
        y in proptest::collection::vec(any::<u8>(), 0..100),
        sx in any::<u64>(),
        sy in any::<u64>(),
    ) {
        let flash = SimFlash::with_contents(region_with(256, sx, &x), region_with(256, sy, &y));
        let mut s = FlashStorage::new(flash.clone());
        let (winner, loser) = if sy > sx { (y, Region::A) } else { (x, Region::B) };
        prop_assert_eq!(load_vec(&mut s), Some(winner));
        if sx.max(sy) < u64::MAX {
            // The next commit replaces the loser, never the winner.
            s.commit(b"next").unwrap();
            prop_assert_eq!(flash.region(loser), region_with(256, sx.max(sy) + 1, b"next"));
        }
    }
}

/// Which region holds the newest valid record.
fn newest_region(flash: &SimFlash) -> Region {
    let a = valid_seq(&flash.region(Region::A));
    let b = valid_seq(&flash.region(Region::B));
    if b > a { Region::B } else { Region::A }
}

#[test]
fn a_lost_newest_record_reads_as_rolled_back() {
    // A byte of data, a byte of the check, or the magic of the newest record decays.
    for offset in [HEADER + 2, 20, 0] {
        let flash = SimFlash::new(SIZE, 1);
        let mut s = FlashStorage::new(flash.clone());
        s.commit(b"older").unwrap();
        s.commit(b"newer").unwrap();
        let mut fresh = FlashStorage::new(flash.clone());
        assert_eq!(load_vec(&mut fresh).as_deref(), Some(&b"newer"[..]));
        assert!(!fresh.rolled_back(), "the newest record is there");

        let newest = newest_region(&flash);
        flash.0.borrow_mut().regions[idx(newest)][offset] ^= 0x01;
        let mut rebooted = FlashStorage::new(flash.clone());
        assert_eq!(load_vec(&mut rebooted).as_deref(), Some(&b"older"[..]));
        assert!(
            rebooted.rolled_back(),
            "offset {offset}: fell back silently"
        );
    }
}

#[test]
fn a_power_cut_during_a_commit_is_not_a_rollback() {
    // Operations of the second commit: erase, data, header, then the mark on the first.
    for cut in 0..4 {
        let flash = SimFlash::new(SIZE, 3 + cut as u64);
        let mut s = FlashStorage::new(flash.clone());
        s.commit(b"first").unwrap();
        flash.cut_after(cut);
        let _ = s.commit(b"second");
        flash.reboot();
        let mut rebooted = FlashStorage::new(flash.clone());
        let loaded = load_vec(&mut rebooted).unwrap();
        assert!(loaded == b"first" || loaded == b"second", "cut {cut}");
        assert!(
            !rebooted.rolled_back(),
            "cut {cut}: an unfinished commit is no rollback"
        );
    }
}

#[test]
fn only_an_erased_store_is_blank() {
    let mut s = FlashStorage::new(SimFlash::new(SIZE, 1));
    assert_eq!(s.load(&mut [0u8; 64]), Ok(None));

    // Power cut while writing the very first record's data: its header is still erased.
    let flash = SimFlash::new(SIZE, 2);
    flash.cut_after(1);
    assert_eq!(
        FlashStorage::new(flash.clone()).commit(b"state"),
        Err(Error::Storage)
    );
    flash.reboot();
    assert_eq!(FlashStorage::new(flash).load(&mut [0u8; 64]), Ok(None));

    // A header that is not erased but no valid record: corrupt, never blank.
    let flash = SimFlash::new(SIZE, 1);
    let mut s = FlashStorage::new(flash.clone());
    s.commit(b"state").unwrap();
    flash.0.borrow_mut().regions[0][HEADER] ^= 0x01;
    let mut s = FlashStorage::new(flash.clone());
    assert_eq!(s.load(&mut [0u8; 64]), Err(Error::Storage));
    let mut garbage = vec![0xFF; SIZE];
    garbage[31] = 0x7F;
    let mut s = FlashStorage::new(SimFlash::with_contents(vec![0xFF; SIZE], garbage));
    assert_eq!(s.load(&mut [0u8; 64]), Err(Error::Storage));
}
