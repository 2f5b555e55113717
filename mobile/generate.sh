#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings of doorkey-mobile from the built library (UniFFI's
# library mode: the interface is read from the cdylib's metadata, no UDL) into
# mobile/bindings/kotlin/ and mobile/bindings/swift/, which are checked in.
#
#   bash mobile/generate.sh           regenerate them
#   bash mobile/generate.sh --check   fail if the checked-in ones are not what the code generates
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case "${1:-}" in
    "") ;;
    --check) check=true ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# The generator is this crate's own binary, so its UniFFI version is the scaffolding's.
cargo build --quiet -p doorkey-mobile --features cli --lib --bin uniffi-bindgen
case "$(uname -s)" in
    Darwin) library=target/debug/libdoorkey_mobile.dylib ;;
    *) library=target/debug/libdoorkey_mobile.so ;;
esac

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for language in kotlin swift; do
    # Unformatted: the output must not depend on whether ktlint or swiftformat is installed.
    target/debug/uniffi-bindgen generate --library "$library" --language "$language" \
        --no-format --metadata-no-deps --out-dir "$out/$language" >/dev/null
done

if $check; then
    if ! diff -ru mobile/bindings/kotlin "$out/kotlin" || ! diff -ru mobile/bindings/swift "$out/swift"; then
        echo "mobile/bindings/ is out of date: run bash mobile/generate.sh and commit the result" >&2
        exit 1
    fi
    echo "mobile/bindings/ is current"
else
    rm -rf mobile/bindings/kotlin mobile/bindings/swift
    mkdir -p mobile/bindings
    cp -r "$out/kotlin" "$out/swift" mobile/bindings/
    find mobile/bindings -type f | sort
fi
