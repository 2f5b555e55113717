//! Prints the encoded size of each wire object, one line each: `size <name> <bytes>`.
//!
//! Objects are built the way the delivery flow builds them (one lock, second-precision
//! times in 2026), so the numbers are what a deployment sends.

#[path = "../tests/common/mod.rs"]
mod common;

use doorkey::credential::Chain;
use doorkey::crypto::Signer;
use doorkey::server::{Delivery, Issuer};

fn main() {
    let mut w = common::World::new();
    let company_chain = w.company_chain();
    let root = company_chain.as_bytes().len() - 7;

    let mut plain = w.courier_link();
    plain.purpose = None;
    let with_plain = company_chain.extend(&w.company, &plain).expect("extend");
    let leaf_plain = with_plain.as_bytes().len() - company_chain.as_bytes().len();

    let issuer = Issuer::new(common::key(3), company_chain.clone()).expect("issuer");
    let delivery = Delivery {
        order_id: b"order-2026-0601-0042",
        lock: w.lock_id(),
        slot_start: common::T0,
        slot_end: common::T0 + 3600,
    };
    let minted: Chain = issuer
        .mint_delivery(
            &delivery,
            w.courier.public_key(),
            common::T0 + 5,
            600,
            &mut w.rng,
        )
        .expect("mint");
    let leaf_purpose = minted.as_bytes().len() - company_chain.as_bytes().len();

    println!("size credential_link_root {root}");
    println!("size credential_link {leaf_plain}");
    println!("size credential_link_purpose {leaf_purpose}");
    println!("size credential_chain_1 {}", company_chain.as_bytes().len());
    println!("size credential_chain_2 {}", with_plain.as_bytes().len());
    println!(
        "size credential_chain_2_purpose {}",
        minted.as_bytes().len()
    );
}
