//! A simulated NOR flash for power-loss tests: two regions, erase to 0xFF, writes that only
//! go to erased bytes, and power cuts that tear the operation in progress.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use doorkey::Error;
use doorkey::lock::{Flash, Region};

/// Deterministic noise for torn writes and test data.
#[derive(Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform-ish in `0..=max`.
    pub fn upto(&mut self, max: usize) -> usize {
        (self.next() % (max as u64 + 1)) as usize
    }

    /// How much of a `len`-byte operation completes before a power cut: often all of it
    /// (the cut came just after), otherwise any prefix.
    pub fn torn(&mut self, len: usize) -> usize {
        if self.next().is_multiple_of(4) {
            len
        } else {
            self.upto(len)
        }
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

pub struct Sim {
    pub regions: [Vec<u8>; 2],
    /// Erase and write operations so far: the points where power can be cut.
    pub ops: usize,
    /// Power is cut during the operation with this index.
    pub cut_at: Option<usize>,
    /// Power is off: every operation fails until `reboot`.
    pub dead: bool,
    /// Writes report success but change nothing (worn-out flash).
    pub drop_writes: bool,
    /// Reads fail (a bus error), without cutting power.
    pub fail_reads: bool,
    /// The operation with this index completes but reports an error anyway.
    pub spurious_error_at: Option<usize>,
    /// Every erase and write, in order.
    pub log: Vec<String>,
    pub erased: Vec<Region>,
    pub reads: [usize; 2],
    pub rng: XorShift,
}

/// Simulated NOR flash: two regions, erase to 0xFF, writes only clear bits. A shared handle,
/// so a test can arm power cuts and look at the bytes while a `FlashStorage` owns a clone.
#[derive(Clone)]
pub struct SimFlash(pub Rc<RefCell<Sim>>);

pub fn idx(region: Region) -> usize {
    match region {
        Region::A => 0,
        Region::B => 1,
    }
}

impl SimFlash {
    pub fn new(size: usize, seed: u64) -> SimFlash {
        SimFlash(Rc::new(RefCell::new(Sim {
            regions: [vec![0xFF; size], vec![0xFF; size]],
            ops: 0,
            cut_at: None,
            dead: false,
            drop_writes: false,
            fail_reads: false,
            spurious_error_at: None,
            log: Vec::new(),
            erased: Vec::new(),
            reads: [0; 2],
            rng: XorShift::new(seed),
        })))
    }

    pub fn with_contents(a: Vec<u8>, b: Vec<u8>) -> SimFlash {
        assert_eq!(a.len(), b.len());
        let f = SimFlash::new(a.len(), 7);
        f.0.borrow_mut().regions = [a, b];
        f
    }

    /// Cuts power during the `n`-th erase or write from now (0 = the next one).
    pub fn cut_after(&self, n: usize) {
        let mut s = self.0.borrow_mut();
        s.cut_at = Some(s.ops + n);
    }

    pub fn reboot(&self) {
        let mut s = self.0.borrow_mut();
        s.dead = false;
        s.cut_at = None;
    }

    pub fn ops(&self) -> usize {
        self.0.borrow().ops
    }

    pub fn region(&self, region: Region) -> Vec<u8> {
        self.0.borrow().regions[idx(region)].clone()
    }

    /// Starts an erase or write; `Ok(true)` means power is cut during this one.
    pub fn begin(s: &mut Sim) -> Result<bool, Error> {
        if s.dead {
            return Err(Error::Storage);
        }
        let cut = s.cut_at == Some(s.ops);
        s.ops += 1;
        if cut {
            s.dead = true;
        }
        Ok(cut)
    }

    /// Ends an operation that completed.
    pub fn done(s: &Sim) -> Result<(), Error> {
        if s.spurious_error_at == Some(s.ops - 1) {
            Err(Error::Storage)
        } else {
            Ok(())
        }
    }
}

impl Flash for SimFlash {
    fn region_size(&self) -> usize {
        self.0.borrow().regions[0].len()
    }

    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let mut s = self.0.borrow_mut();
        if s.dead || s.fail_reads {
            return Err(Error::Storage);
        }
        s.reads[idx(region)] += 1;
        let src = s.regions[idx(region)]
            .get(offset..offset + buf.len())
            .ok_or(Error::Storage)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn erase(&mut self, region: Region) -> Result<(), Error> {
        let mut s = self.0.borrow_mut();
        let cut = SimFlash::begin(&mut s)?;
        s.erased.push(region);
        s.log.push(format!("erase {region:?}"));
        let size = s.regions[0].len();
        let done = if cut { s.rng.torn(size) } else { size };
        s.regions[idx(region)][..done].fill(0xFF);
        if cut {
            Err(Error::Storage)
        } else {
            SimFlash::done(&s)
        }
    }

    fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> Result<(), Error> {
        let mut s = self.0.borrow_mut();
        let cut = SimFlash::begin(&mut s)?;
        s.log.push(format!(
            "write {region:?} {offset}..{}",
            offset + data.len()
        ));
        let sim = &mut *s;
        let dst = sim.regions[idx(region)]
            .get_mut(offset..offset + data.len())
            .ok_or(Error::Storage)?;
        // FlashStorage must erase before it writes; NOR flash would silently AND the bytes.
        assert!(
            dst.iter().all(|&b| b == 0xFF),
            "write to unerased flash at {region:?}+{offset}"
        );
        if sim.drop_writes {
            return Ok(());
        }
        if !cut {
            dst.copy_from_slice(data);
            return SimFlash::done(sim);
        }
        // Torn: a prefix of the new bytes, then noise over part of the rest.
        let written = sim.rng.torn(data.len());
        dst[..written].copy_from_slice(&data[..written]);
        let noisy = sim.rng.upto(data.len() - written);
        for b in &mut dst[written..written + noisy] {
            *b &= sim.rng.byte();
        }
        Err(Error::Storage)
    }
}
