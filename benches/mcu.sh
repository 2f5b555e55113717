#!/usr/bin/env bash
# Microcontroller report for the lock role (QUALITY.md "Performance targets", MISSION.md item 10).
#
# Builds examples/firmware (thumbv7em-none-eabihf, no heap, opt-level "s", lto, codegen-units 1,
# panic abort) in two settings -- `default` and `compact` (sha2's non-unrolled SHA-512, the
# size-over-speed option) -- runs it under QEMU (mps2-an386, Cortex-M4, -icount shift=0), and
# prints flash, stack and instruction counts for both.
#
#   bash benches/mcu.sh            # both settings
#   SETTINGS=default bash benches/mcu.sh
#
# Each setting is also built with doorkey's `p256` feature (P-256 holder keys): the report gives
# the lock-only flash with and without it, and a P-256 holder verification beside an Ed25519 one.
#
# Installs what it needs (rustup target and llvm-tools, qemu-system-arm from apt). Builds one
# at a time. Exits non-zero if the firmware fails a check or a build fails.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FW="$ROOT/examples/firmware"
TARGET=thumbv7em-none-eabihf
SETTINGS="${SETTINGS:-default compact}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-600}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

log() { echo "mcu.sh: $*" >&2; }

# ---------------------------------------------------------------- tools
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    log "installing the $TARGET target"
    rustup target add "$TARGET" >&2
fi
SYSROOT="$(rustc --print sysroot)"
HOST="$(rustc -vV | sed -n 's/^host: //p')"
LLVM_BIN="$SYSROOT/lib/rustlib/$HOST/bin"
if [ ! -x "$LLVM_BIN/llvm-size" ]; then
    log "installing llvm-tools"
    rustup component add llvm-tools >&2 || true
fi
apt_install() {
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y "$@" >&2 || { apt-get update >&2 && apt-get install -y "$@" >&2; }
    else
        sudo apt-get install -y "$@" >&2 || { sudo apt-get update >&2 && sudo apt-get install -y "$@" >&2; }
    fi
}
if [ -x "$LLVM_BIN/llvm-size" ]; then
    SIZE="$LLVM_BIN/llvm-size"; NM="$LLVM_BIN/llvm-nm"; OBJDUMP="$LLVM_BIN/llvm-objdump"
else
    command -v arm-none-eabi-size >/dev/null || apt_install binutils-arm-none-eabi
    SIZE=arm-none-eabi-size; NM=arm-none-eabi-nm; OBJDUMP=arm-none-eabi-objdump
fi
command -v qemu-system-arm >/dev/null || apt_install qemu-system-arm
HAVE_PY=1
command -v python3 >/dev/null || HAVE_PY=0

# ---------------------------------------------------------------- build and run
OUT="$FW/target/mcu-report"
mkdir -p "$OUT"

build() { # setting variant(features)
    local setting=$1 variant=$2 feats=() flags=""
    [ "$variant" != full ] && feats=(--features "$variant")
    [ "$setting" = compact ] && flags='--cfg sha2_backend_soft="compact"'
    log "building $variant ($setting)"
    (cd "$FW" && RUSTFLAGS="$flags" CARGO_TARGET_DIR="$FW/target/$setting" \
        cargo build --release --target "$TARGET" "${feats[@]}" >&2)
    cp "$FW/target/$setting/$TARGET/release/doorkey-firmware" "$OUT/$setting-$variant.elf"
}

run_qemu() { # elf
    timeout "$QEMU_TIMEOUT" qemu-system-arm -M mps2-an386 -cpu cortex-m4 -icount shift=0 \
        -nographic -semihosting-config enable=on,target=native -kernel "$1"
}

# Flash: everything loaded into flash (vector table, text, rodata, data initializers).
flash_of() { # elf -> "text rodata total"
    "$SIZE" -A "$1" | awk '
        $1==".vector_table"||$1==".text" {t+=$2}
        $1==".rodata" {r+=$2}
        $1==".data" {d+=$2}
        END {print t, r+d, t+r+d}'
}
ram_of() {
    "$SIZE" -A "$1" | awk '$1==".bss"||$1==".data"||$1==".uninit" {s+=$2} END {print s}'
}

# Text + rodata by crate, from symbol sizes (LTO inlines across crates: a function's bytes count
# for the crate that defines the symbol it ended up in).
symbols() { # elf -> "size crate name" per text/rodata symbol
    "$NM" -C --print-size --size-sort --radix=d "$1" 2>/dev/null | awk '
        NF>=4 && $3 ~ /^[tTrR]$/ {
            name=$0; sub(/^[0-9]+ +[0-9]+ +[tTrR] +/, "", name)
            n=name
            gsub(/\$LT\$/, "<", n); gsub(/\$GT\$/, ">", n); gsub(/\$RF\$/, "\\&", n)
            gsub(/\$u20\$/, " ", n); gsub(/\$C\$/, ",", n); gsub(/\.\./, "::", n)
            sub(/::h[0-9a-f]+$/, "", n)
            full=n
            gsub(/^[<&_ ]+/, "", n); sub(/^mut /, "", n)
            if (n ~ /^[A-Za-z_][A-Za-z0-9_]* as /) { sub(/^[A-Za-z_][A-Za-z0-9_]* as /, "", n) }
            if (n ~ /^\.L/) c="(anonymous constants)"
            else if (match(n, /^[A-Za-z_][A-Za-z0-9_]*::/)) c=substr(n, 1, RLENGTH-2)
            else c="(C/asm: memcpy, vectors...)"
            if (c=="ed25519") c="ed25519_dalek"
            if (c=="serde_core"||c=="serde"||c=="postcard") c="serde/postcard"
            if (c=="cipher"||c=="universal_hash"||c=="aead"||c=="chacha20poly1305") c="aead glue (cipher, universal_hash, chacha20poly1305)"
            if (c=="digest"||c=="block_buffer"||c=="hmac"||c=="hkdf") c="digest glue (digest, block_buffer, hmac, hkdf)"
            if (c=="cortex_m"||c=="cortex_m_rt"||c=="cortex_m_semihosting") c="cortex-m runtime/semihosting"
            if (c=="doorkey_firmware") c="doorkey_firmware (wrappers with doorkey Lock::* inlined)"
            printf "%d\t%s\t%s\n", $2, c, substr(full, 1, 110)
        }'
}
by_crate() { # elf
    symbols "$1" | awk -F'\t' '{s[$2]+=$1; tot+=$1}
        END { for (c in s) printf "%8d  %s\n", s[c], c; printf "%8d  (sum of symbols)\n", tot }' | sort -rn
}
largest_doorkey() { # elf count
    symbols "$1" | awk -F'\t' '$2 ~ /^doorkey/ {printf "%8d  %s\n", $1, $3}' | sort -rn | awk -v n="$2" 'NR <= n'
}

status=0
for setting in $SETTINGS; do
    for variant in full lockonly baseline p256 lockonly,p256; do
        build "$setting" "$variant"
    done
    log "running $setting under QEMU"
    if run_qemu "$OUT/$setting-full.elf" > "$OUT/$setting-run.txt" 2>&1; then :; else
        log "firmware ($setting) exited with status $?"; status=1
    fi
    if run_qemu "$OUT/$setting-lockonly.elf" > "$OUT/$setting-lockonly.txt" 2>&1; then :; else
        log "lockonly firmware ($setting) failed"; status=1
    fi
    if run_qemu "$OUT/$setting-lockonly,p256.elf" > "$OUT/$setting-lockonly-p256.txt" 2>&1; then :; else
        log "lockonly firmware with p256 ($setting) failed"; status=1
    fi
    if run_qemu "$OUT/$setting-p256.elf" > "$OUT/$setting-p256-run.txt" 2>&1; then :; else
        log "firmware with p256 ($setting) exited with status $?"; status=1
    fi
done

# ---------------------------------------------------------------- report
phone_bytes() { grep -o 'phone messages [0-9]*' "$OUT/$1-run.txt" | awk '{print $3}'; }

echo "# doorkey lock role on thumbv7em-none-eabihf (Cortex-M4), no heap"
echo "opt-level \"s\", lto, codegen-units 1, panic abort; QEMU mps2-an386 -icount shift=0"
echo "settings: default = as shipped; compact = RUSTFLAGS='--cfg sha2_backend_soft=\"compact\"'"
echo "(curve25519-dalek is built without precomputed-tables in both: doorkey depends on it"
echo " through ed25519-dalek/x25519-dalek with default-features = false)"
for setting in $SETTINGS; do
    echo
    echo "================================================================ setting: $setting"
    read -r ft fr ftot <<<"$(flash_of "$OUT/$setting-full.elf")"
    read -r lt lr ltot <<<"$(flash_of "$OUT/$setting-lockonly.elf")"
    read -r bt br btot <<<"$(flash_of "$OUT/$setting-baseline.elf")"
    pb=$(phone_bytes "$setting"); pb=${pb:-0}
    share=$((ltot - btot - pb))
    echo "-- flash (text + rodata, bytes)"
    printf "  %-58s %7d  (text %d, rodata %d)\n" "whole measuring firmware" "$ftot" "$ft" "$fr"
    printf "  %-58s %7d  (text %d, rodata %d)\n" "lock-only firmware (install, sessions, boot; no printing)" "$ltot" "$lt" "$lr"
    printf "  %-58s %7d\n" "baseline firmware (runtime, platform RNG, exit; no doorkey)" "$btot"
    printf "  %-58s %7d  = %d.%d KiB  [target <= 64 KiB]\n" "lock role share = lock-only - baseline - phone msgs ($pb B)" \
        "$share" $((share / 1024)) $(((share % 1024) * 10 / 1024))
    read -r _ _ ptot <<<"$(flash_of "$OUT/$setting-lockonly,p256.elf")"
    printf "  %-58s %7d  (+%d for the p256 feature)\n" "lock-only firmware with the p256 feature (P-256 holders)" "$ptot" $((ptot - ltot))
    printf "  %-58s %7d\n" "RAM of the measuring firmware (.data+.bss, statics)" "$(ram_of "$OUT/$setting-full.elf")"
    echo "-- lock-only image by crate (text + rodata of symbols, bytes)"
    by_crate "$OUT/$setting-lockonly.elf" | sed 's/^/  /'
    echo "-- largest doorkey symbols in the lock-only image (bytes)"
    largest_doorkey "$OUT/$setting-lockonly.elf" 15 | sed 's/^/  /'
    echo "-- firmware run (instructions = SysTick ticks x 40; stack by painting)"
    sed 's/^/  /' "$OUT/$setting-run.txt"
    echo "-- with the p256 feature: a holder verification by each algorithm (instructions, stack)"
    grep -E 'holder verify|P-256|RESULT' "$OUT/$setting-p256-run.txt" | sed 's/^/  /' || true
done

if [ "$HAVE_PY" = 1 ]; then
    setting=${SETTINGS%% *}
    echo
    echo "================================================================ static stack ($setting)"
    echo "Worst path of the call graph from each lock entry point (frame = push + sub sp in the"
    echo "prologue; direct calls only; recursion cut). Includes error paths the run does not take."
    "$OBJDUMP" -d -C --no-show-raw-insn "$OUT/$setting-full.elf" > "$OUT/$setting-full.dis"
    python3 - "$OUT/$setting-full.dis" <<'PY'
import re, sys
frames, calls, fn, n = {}, {}, None, 0
def regs(args):
    cnt = 0
    for r in re.findall(r'\{(.*)\}', args)[0].split(','):
        r = r.strip()
        if '-' in r:
            a, b = r.split('-'); cnt += int(b[1:]) - int(a[1:]) + 1
        else:
            cnt += 1
    return cnt
for line in open(sys.argv[1]):
    m = re.match(r'^([0-9a-f]+) <(.*)>:$', line)
    if m:
        fn = m.group(2); frames[fn] = 0; calls[fn] = set(); n = 0; continue
    if fn is None: continue
    n += 1
    ins = line.split('\t')
    if len(ins) < 3: continue
    op, args = ins[1].strip(), ins[2].strip()
    if op in ('bl', 'blx', 'b.w', 'b'):
        t = re.search(r'<(.*?)(\+0x[0-9a-f]+)?>', args)
        if t and not t.group(2) and t.group(1) != fn: calls[fn].add(t.group(1))
    if n > 12: continue
    if op in ('push', 'push.w') or (op.startswith('stmdb') and 'sp!' in args):
        frames[fn] += 4 * regs(args)
    elif op == 'vpush':
        frames[fn] += (8 if re.findall(r'\{(.*)\}', args)[0].strip().startswith('d') else 4) * regs(args)
    elif op in ('sub', 'sub.w', 'subw') and args.startswith('sp, '):
        m2 = re.search(r'#(0x[0-9a-f]+|\d+)', args)
        if m2: frames[fn] += int(m2.group(1), 0)
memo = {}
def depth(f, seen=()):
    if f in memo: return memo[f]
    if f in seen: return (0, [])
    best = (0, [])
    for c in calls.get(f, ()):
        d = depth(c, seen + (f,))
        if d[0] > best[0]: best = d
    memo[f] = (frames.get(f, 0) + best[0], [f] + best[1])
    return memo[f]
def short(s):
    s = re.sub(r'::h[0-9a-f]{16}$', '', s)
    for a, b in (('$LT$', '<'), ('$GT$', '>'), ('$u20$', ' '), ('$RF$', '&'), ('$C$', ','), ('..', '::'), ('$u5b$', '['), ('$u5d$', ']'), ('$u3b$', ';')):
        s = s.replace(a, b)
    return s[:100]
def show(title, path):
    total = sum(frames.get(p, 0) for p in path)
    print(f"  {title}: {total} B")
    for p in path:
        if frames.get(p, 0) >= 128: print(f"    {frames[p]:6d}  {short(p)}")
roots = {}
for f in frames:
    m = re.search(r'workload::(install|boot|challenge|handle)::', f)
    if m: roots[m.group(1)] = f
for r in ('challenge', 'handle', 'install', 'boot'):
    if r in roots:
        show(f"worst static path from Lock::{r} (via firmware wrapper)", depth(roots[r])[1])
# The success path of first contact: handle -> verify_proof -> ...
vp = [f for f in frames if 'Lock$LT$S$GT$::verify_proof' in f]
if vp and 'handle' in roots:
    show("first-contact unlock path: handle -> verify_proof -> worst", [roots['handle']] + depth(vp[0])[1])
print("  largest frames of doorkey functions (bytes):")
for f, s in sorted(frames.items(), key=lambda x: -x[1]):
    if s >= 512 and short(f).lstrip('_<').startswith('doorkey::'):
        print(f"    {s:6d}  {short(f)}")
PY
fi

echo
for setting in $SETTINGS; do
    r=$(grep '^RESULT' "$OUT/$setting-run.txt" || echo "RESULT missing")
    echo "$setting: $r"
done
echo "raw outputs and ELF files: $OUT"
exit $status
