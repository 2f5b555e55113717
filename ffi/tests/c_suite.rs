//! The C test suite (`tests/c/suite.c`): built with gcc under AddressSanitizer and
//! UndefinedBehaviorSanitizer against the static library with the `testkit` helpers, and run.
//! The delivery story it drives is recorded, and replayed here into a Rust lock: every answer
//! of the C-driven lock must be byte-identical to the Rust lock's for the same inputs.

use doorkey::crypto::{PublicKey, SecretKey};
use doorkey::lock::{Flash, FlashStorage, Lock, Region};
use doorkey::time::Tick;
use doorkey_ffi::{DOORKEY_FLASH_REGION_MIN, doorkey_action, doorkey_result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's target directory (this test runs from `<target>/debug/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("the test runs from <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds the static library with the test helpers, then the suite, and runs it; returns the
/// transcript of the delivery story.
fn run_suite() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A target directory of its own: the library built with `testkit` never replaces the
    // one a lock maker builds, and this never waits on the build that runs the tests.
    let target = target_dir().join("c-suite");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--lib",
            "-p",
            "doorkey-ffi",
            "--features",
            "testkit",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(manifest)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the static library failed");
    let library = target.join("debug").join("libdoorkey_ffi.a");
    let suite = target.join("doorkey_c_suite");
    let status = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
        .args(["-fno-omit-frame-pointer"])
        .arg("-I")
        .arg(manifest.join("include"))
        .arg(manifest.join("tests/c/suite.c"))
        .arg(&library)
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s"])
        .arg("-o")
        .arg(&suite)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "compiling the C suite failed");
    let transcript = target.join("transcript.txt");
    let _ = std::fs::remove_file(&transcript);
    let out = Command::new(&suite)
        .env("DOORKEY_TRANSCRIPT", &transcript)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .output()
        .expect("the C suite runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the C suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checks passed"), "{stdout}");
    std::fs::read_to_string(transcript).expect("the suite wrote its transcript")
}

/// Two flash regions in memory: the Rust lock's counterpart of the C suite's RAM flash.
struct MemFlash([Vec<u8>; 2]);

impl MemFlash {
    fn blank() -> MemFlash {
        MemFlash([
            vec![0xFF; DOORKEY_FLASH_REGION_MIN],
            vec![0xFF; DOORKEY_FLASH_REGION_MIN],
        ])
    }

    fn range(&mut self, region: Region, at: usize, len: usize) -> doorkey::Result<&mut [u8]> {
        let r = &mut self.0[region as usize];
        r.get_mut(at..at + len).ok_or(doorkey::Error::Storage)
    }
}

impl Flash for MemFlash {
    fn region_size(&self) -> usize {
        DOORKEY_FLASH_REGION_MIN
    }

    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> doorkey::Result<()> {
        buf.copy_from_slice(self.range(region, offset, buf.len())?);
        Ok(())
    }

    fn erase(&mut self, region: Region) -> doorkey::Result<()> {
        self.0[region as usize].fill(0xFF);
        Ok(())
    }

    fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> doorkey::Result<()> {
        self.range(region, offset, data.len())?
            .copy_from_slice(data);
        Ok(())
    }
}

/// Hands out exactly the random bytes the C lock drew.
struct Replay(Vec<u8>);

impl doorkey::Rng for Replay {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(
            dest.len() <= self.0.len(),
            "the Rust lock draws more than the C lock"
        );
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

fn bytes(field: &str) -> Vec<u8> {
    if field == "-" {
        return Vec::new();
    }
    (0..field.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&field[i..i + 2], 16).expect("hex"))
        .collect()
}

fn code<T>(result: &doorkey::Result<T>) -> u32 {
    result
        .as_ref()
        .err()
        .map_or(doorkey_result::Ok, |e| (*e).into()) as u32
}

fn num(field: &str) -> u64 {
    field.parse().expect("number")
}

/// The C suite passes under the sanitizers, and its lock answers exactly as a Rust lock does.
#[test]
fn c_suite_passes_and_its_lock_answers_as_the_rust_lock() {
    let transcript = run_suite();
    let mut lock: Option<Lock<FlashStorage<MemFlash>>> = None;
    let mut handled = 0;
    for line in transcript.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "init" => {
                let flash = lock
                    .take()
                    .map_or_else(MemFlash::blank, |l| l.into_storage().into_inner());
                let seed: [u8; 32] = bytes(f[1]).try_into().expect("32-byte seed");
                lock = Some(Lock::new(
                    SecretKey::from_seed(&seed),
                    FlashStorage::new(flash),
                ));
            }
            "boot" => {
                let l = lock.as_mut().expect("init before boot");
                assert_eq!(code(&l.start()), num(f[1]) as u32, "{line}");
            }
            "provision" => {
                let l = lock.as_mut().expect("init before provision");
                let owner = PublicKey(bytes(f[1]).try_into().expect("32-byte key"));
                assert_eq!(code(&l.provision(owner)), num(f[2]) as u32, "{line}");
            }
            "challenge" => {
                let l = lock.as_mut().expect("init before challenge");
                let mut rng = Replay(bytes(f[2]));
                let mut out = [0u8; 160];
                let result = l.challenge(Tick::from_secs(num(f[1])), &mut rng, &mut out);
                assert_eq!(code(&result), num(f[3]) as u32, "{line}");
                let n = result.unwrap_or(0);
                assert_eq!(out[..n], bytes(f[4]), "challenge at tick {}", f[1]);
                assert!(rng.0.is_empty(), "the Rust lock draws less than the C lock");
            }
            "handle" => {
                let l = lock.as_mut().expect("init before handle");
                let mut input = bytes(f[2]);
                let mut out = vec![0u8; 2400];
                let result = l.handle(Tick::from_secs(num(f[1])), &mut input, &mut out);
                assert_eq!(code(&result), num(f[3]) as u32, "{line}");
                let (action, denied, unrecorded, reply) = match result {
                    Ok(o) => {
                        let action = match o.action {
                            doorkey::lock::Action::Unlock => doorkey_action::Unlock,
                            doorkey::lock::Action::Lock => doorkey_action::Lock,
                            _ => doorkey_action::None,
                        };
                        let c = |e: Option<doorkey::Error>| code::<()>(&e.map_or(Ok(()), Err));
                        (
                            action as u32,
                            c(o.denied),
                            c(o.unrecorded),
                            out[..o.reply].to_vec(),
                        )
                    }
                    Err(_) => (doorkey_action::None as u32, 0, 0, Vec::new()),
                };
                assert_eq!(action, num(f[4]) as u32, "{line}");
                assert_eq!((denied, unrecorded), (num(f[5]) as u32, num(f[6]) as u32));
                assert_eq!(reply, bytes(f[7]), "reply at tick {}", f[1]);
                handled += 1;
            }
            "door" => {
                let l = lock.as_mut().expect("init before door events");
                let event = match num(f[2]) {
                    0 => doorkey::lock::DoorEvent::Opened,
                    1 => doorkey::lock::DoorEvent::Closed,
                    2 => doorkey::lock::DoorEvent::LeftOpen,
                    _ => {
                        // Refused by the C ABI before it reached the lock.
                        assert_eq!(num(f[3]) as u32, doorkey_result::InvalidArgument as u32);
                        continue;
                    }
                };
                assert_eq!(
                    code(&l.door_event(Tick::from_secs(num(f[1])), event)),
                    num(f[3]) as u32,
                    "{line}"
                );
            }
            other => panic!("unknown transcript line {other}"),
        }
    }
    assert!(
        handled >= 10,
        "the transcript covers the story ({handled} messages)"
    );
}
