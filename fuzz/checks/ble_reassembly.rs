//! The BLE reassembler (docs/PROTOCOL.md 21.4) fed genuine fragments of one message, cut, bit-
//! flipped, repeated, reordered or replaced by arbitrary bytes, with time passing. No panic;
//! every refusal leaves the reassembler idle; the fragments accepted for a message in progress
//! are a prefix of a genuine cut of it; a message that completes is exactly what a
//! sender following spec 21.3 would have cut into the fragments accepted for it (counter, index,
//! total, one chunk length); and when those fragments are genuine, it is the genuine message.
//! Shared by `fuzz_targets/ble_reassembly.rs` and tests/fuzz_corpus.rs.

use doorkey::transport::ble::{HEADER_LEN, MAX_BLE_MESSAGE, Reassembler, Segmenter};

/// Fragments of `message` with `chunk` data bytes each, as spec 21.3 lays them out.
fn spec_cut(message: &[u8], counter: u8, chunk: usize) -> Vec<Vec<u8>> {
    let total = (message.len() as u16).to_le_bytes();
    message
        .chunks(chunk)
        .enumerate()
        .map(|(i, data)| [&[counter, i as u8, total[0], total[1]][..], data].concat())
        .collect()
}

/// The next operand byte, 0 once the input is used up.
fn take(ops: &mut &[u8]) -> u8 {
    let (&b, rest) = ops.split_first().unwrap_or((&0, &[]));
    *ops = rest;
    b
}

/// Input: MTU (2 bytes), counter, message length (2 bytes) and seed, then operations.
pub fn ble_reassembly(data: &[u8]) {
    let Some((&[m0, m1, counter, l0, l1, seed], mut ops)) = data.split_first_chunk::<6>() else {
        return;
    };
    let mtu = 23 + u16::from_le_bytes([m0, m1]) % 495;
    let len = 1 + usize::from(u16::from_le_bytes([l0, l1])) % MAX_BLE_MESSAGE;
    let message: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect();
    let mut segmenter = Segmenter::new(&message, counter, mtu).expect("a valid message and MTU");
    let mut genuine = Vec::new();
    let mut out = [0u8; 514];
    while let Some(n) = segmenter.next_into(&mut out).expect("room for a fragment") {
        genuine.push(out[..n].to_vec());
    }

    // Delivered in order, the genuine fragments give back the message.
    let mut buf = vec![0u8; MAX_BLE_MESSAGE];
    let mut r = Reassembler::new(&mut buf);
    for (i, f) in genuine.iter().enumerate() {
        let got = r.push(f, i as u64).expect("a genuine fragment is accepted");
        assert_eq!(got.is_some(), i + 1 == genuine.len());
        if let Some(whole) = got {
            assert_eq!(whole, &message[..]);
        }
    }

    let mut now = 0u64;
    // Fragments accepted for the message in progress.
    let mut run: Vec<Vec<u8>> = Vec::new();
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let pick = usize::from(take(&mut ops)) % genuine.len();
        let mut fragment = genuine[pick].clone();
        match op % 6 {
            0 => {}
            1 => fragment.truncate(usize::from(take(&mut ops)) % fragment.len()),
            2 => {
                let at = usize::from(take(&mut ops)) % fragment.len();
                fragment[at] ^= 1 << (take(&mut ops) % 8);
            }
            3 => {
                let n = usize::from(take(&mut ops)).min(ops.len());
                fragment = ops[..n].to_vec();
                ops = &ops[n..];
            }
            4 => {
                now += u64::from(take(&mut ops)) * 20;
                continue;
            }
            _ => {
                if r.expire(now).is_err() {
                    assert!(!r.in_progress());
                    run.clear();
                }
                continue;
            }
        }
        now += 1;
        match r.push(&fragment, now) {
            Err(_) => {
                assert!(!r.in_progress(), "a refusal discards the partial message");
                run.clear();
            }
            Ok(None) => {
                assert!(r.in_progress());
                run.push(fragment);
                // So far a prefix of what spec 21.3 cuts: one counter, one total, indexes in
                // order, every fragment the first one's length.
                for (i, f) in run.iter().enumerate() {
                    assert_eq!((f[0], f[1], &f[2..4]), (run[0][0], i as u8, &run[0][2..4]));
                    assert_eq!(f.len(), run[0].len());
                }
            }
            Ok(Some(whole)) => {
                run.push(fragment);
                let chunk = run[0].len() - HEADER_LEN;
                assert_eq!(spec_cut(whole, run[0][0], chunk), run);
                if run.iter().all(|f| genuine.contains(f)) {
                    assert_eq!(whole, &message[..]);
                }
                run.clear();
            }
        }
    }
}
