//! Carrying session messages over a radio link, sans-IO.
//!
//! The session layer ([`crate::session`], [`crate::lock`], [`crate::phone`]) takes and returns
//! whole messages; a transport cuts them into the link's units and puts them back together.
//! Each transport here only moves bytes: it checks lengths and order, never the content, and
//! reads no clock (the caller passes the time).
//!
//! - [`ble`]: BLE GATT, any ATT MTU from 23 to 517 (docs/PROTOCOL.md section 21).

pub mod ble;
