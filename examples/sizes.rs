//! Prints the encoded size of each wire object, one line each: `size <name> <bytes>`.
//!
//! Objects are built the way the delivery flow builds them (one lock, second-precision
//! times in 2026), so the numbers are what a deployment sends.

#[path = "../tests/common/mod.rs"]
mod common;

use doorkey::credential::Chain;
use doorkey::crypto::{P256DeviceKey, Signer};
use doorkey::lock::DoorEvent;
use doorkey::phone::{Credential, PhoneSession};
use doorkey::receipt::{Event, Head, Parsed, Receipt};
use doorkey::server::{Delivery, Issuer};
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick};

/// One BLE write at ATT MTU 247.
const BLE_WRITE: usize = 244;

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
        slot_end: common::T0 + Seconds::from_hours(1),
    };
    let minted: Chain = issuer
        .mint_delivery(
            &delivery,
            w.courier.public_key(),
            common::T0 + Seconds::from_secs(5),
            Seconds::from_secs(600),
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

    let mut lock = common::install(&w);
    let mut challenge = [0u8; 256];
    let c = lock
        .challenge(Tick::BOOT, &mut w.rng, &mut challenge)
        .expect("challenge");
    let cred = Credential::new(minted.as_bytes(), common::key(4)).expect("credential");
    let mut open = [0u8; 2048];
    let (mut session, o) = PhoneSession::open(
        &challenge[..c],
        &cred,
        Command::Unlock,
        &mut w.rng,
        &mut open,
    )
    .expect("open");
    let mut command = [0u8; 64];
    let k = session
        .command(Command::Lock, &mut command)
        .expect("command");
    let mut reply = [0u8; 64];
    let r = lock
        .handle(Tick::BOOT, &mut open[..o], &mut reply)
        .expect("handle")
        .reply;
    println!("size challenge {c}");
    println!("size unlock_request_chain_2 {o}");
    println!(
        "size unlock_request_chain_2_over_ble_write {}",
        o.saturating_sub(BLE_WRITE)
    );
    println!("size command {k}");
    println!("size reply {r}");

    // Receipts as a lock sends them: a delivery unlocks, the door opens, the courier's phone
    // fetches the sealed bundle (an ack, a signed head, then the receipts) in the same session.
    let mut lock = common::install(&w);
    common::enable_audit(&mut lock, Tick::from_secs(40), 1, &mut w.rng);
    common::set_time(
        &mut lock,
        Tick::from_secs(50),
        common::T0 - Seconds::from_secs(50),
        &common::key(1),
        &mut w.rng,
    );
    let (mut session, _, _, reply) = common::visit(
        &mut lock,
        Tick::from_secs(130),
        &cred,
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(reply, Reply::Unlocked);
    lock.door_event(Tick::from_secs(135), DoorEvent::Opened)
        .expect("door event");
    let k = session
        .command(Command::Receipts { after: 0 }, &mut command)
        .expect("command");
    let Reply::Receipts(sealed) =
        common::exchange(&mut lock, Tick::from_secs(140), &mut session, &command[..k]).1
    else {
        panic!("expected receipts");
    };
    println!("size sealed_bundle {}", sealed.len());
    let (_, bundle) = common::unseal(&lock.id(), sealed);
    let (_, mut rest) = Parsed::<Head>::take(&bundle).expect("head");
    println!("size chain_head {}", bundle.len() - rest.len());
    while !rest.is_empty() {
        let (receipt, next) = Parsed::<Receipt>::take(rest).expect("receipt");
        let size = rest.len() - next.len();
        match receipt.body.event {
            Event::Unlocked => println!("size receipt {size}"),
            Event::DoorOpened => println!("size receipt_door_event {size}"),
            _ => {}
        }
        rest = next;
    }

    // A repeat visit: the lock above now holds the company's link, so the next courier of
    // the company, with its own purpose-bound delivery grant, sends only its leaf.
    let next = Delivery {
        order_id: b"order-2026-0601-0043",
        ..delivery
    };
    let repeat: Chain = issuer
        .mint_delivery(
            &next,
            w.courier.public_key(),
            common::T0 + Seconds::from_secs(60),
            Seconds::from_secs(600),
            &mut w.rng,
        )
        .expect("mint");
    let cred = Credential::new(repeat.as_bytes(), common::key(4)).expect("credential");
    let c = lock
        .challenge(Tick::from_secs(150), &mut w.rng, &mut challenge)
        .expect("challenge");
    let (_, o) = PhoneSession::open(
        &challenge[..c],
        &cred,
        Command::Unlock,
        &mut w.rng,
        &mut open,
    )
    .expect("open");
    let outcome = lock
        .handle(Tick::from_secs(150), &mut open[..o], &mut [0u8; 64])
        .expect("handle");
    assert_eq!(outcome.action, doorkey::lock::Action::Unlock);
    println!("size challenge_one_held_link {c}");
    println!("size unlock_request_repeat {o}");
    println!(
        "size unlock_request_repeat_over_ble_write {}",
        o.saturating_sub(BLE_WRITE)
    );

    // The same delivery to a courier whose device key is P-256 (a Secure Enclave or StrongBox
    // key): one byte more in the leaf, the holder signature the same size.
    let phone = P256DeviceKey::from_bytes(&[44; 32]).expect("p256 key");
    let mint_p256 = |order: &'static [u8], at: u64, rng: &mut _| -> Chain {
        issuer
            .mint_delivery(
                &Delivery {
                    order_id: order,
                    ..delivery
                },
                phone.public_key(),
                common::T0 + Seconds::from_secs(at),
                Seconds::from_secs(600),
                rng,
            )
            .expect("mint")
    };
    let p256_chain = mint_p256(b"order-2026-0601-0044", 70, &mut w.rng);
    println!(
        "size credential_link_purpose_p256 {}",
        p256_chain.as_bytes().len() - company_chain.as_bytes().len()
    );
    println!(
        "size credential_chain_2_purpose_p256 {}",
        p256_chain.as_bytes().len()
    );
    let mut fresh = common::install(&w);
    let cred = Credential::new(p256_chain.as_bytes(), &phone).expect("credential");
    let (_, sent, ..) = common::visit(&mut fresh, Tick::BOOT, &cred, Command::Unlock, &mut w.rng);
    println!("size unlock_request_chain_2_p256 {}", sent.len());
    let repeat = mint_p256(b"order-2026-0601-0045", 80, &mut w.rng);
    let cred = Credential::new(repeat.as_bytes(), &phone).expect("credential");
    let (_, sent, outcome, _) = common::visit(
        &mut lock,
        Tick::from_secs(160),
        &cred,
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(outcome.action, doorkey::lock::Action::Unlock);
    println!("size unlock_request_repeat_p256 {}", sent.len());
}
