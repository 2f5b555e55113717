//! Any bytes: decoding never panics, and whatever decodes re-encodes to the same bytes.
#![no_main]

use doorkey::credential::UnverifiedChain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(chain) = UnverifiedChain::decode(data) else {
        return;
    };
    // Header (version, kind, 4-byte owner hint, count), then each body and its signature.
    let mut re = data[..7].to_vec();
    let mut at = 7;
    for link in chain.links() {
        let body = postcard::to_allocvec(link).expect("a decoded link encodes");
        re.extend_from_slice(&body);
        at += body.len();
        re.extend_from_slice(&data[at..at + 64]);
        at += 64;
    }
    assert_eq!(re, data, "decode -> encode is not the identity");
});
