#!/usr/bin/env bash
# make image-check: the container image checked without a Docker engine. Builds the binary
# with the Dockerfile's own `RUN cargo build` line, runs it, and checks that the Dockerfile's
# stages fit that binary: what the run stage copies, runs and runs as, which base images, and
# that the build stage's COPYs hold everything the build read. Exits non-zero, saying why, on
# the first failed group of checks. See docs/image.md for what this cannot check.
#
#   e2e/image/check.sh                       # the repository's Dockerfile
#   DOCKERFILE=/tmp/Dockerfile e2e/image/check.sh
#   IMAGE_CHECK_QUICK=1 e2e/image/check.sh   # `make test`: see below
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
dockerfile=${DOCKERFILE:-$root/Dockerfile}
helper=(python3 "$root/e2e/image/dockerfile.py" --dockerfile "$dockerfile")

fail() {
  echo "image-check: FAIL: $*" >&2
  exit 1
}
say() { echo "image-check: $*"; }

# The container builds with no CARGO_TARGET_DIR or target override, so neither does this run:
# the binary lands where the Dockerfile's COPY expects it only under the same defaults.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET CARGO_BUILD_TARGET_DIR

# 1. The Dockerfile and .dockerignore on their own (fast, before the build).
facts=$("${helper[@]}" static) || fail "the Dockerfile's static checks failed (above)"
eval "$facts"
say "Dockerfile: base images pinned, build stage on rustc $RUSTC_VERSION, run stage ENTRYPOINT" \
  "[\"reloader\"] CMD [\"$RUN_CMD\"], numeric non-root USER, OCI labels, .dockerignore"

# 2. The Dockerfile's cargo line, verbatim, from the repository root (as WORKDIR in the image).
read -r -a build <<<"$BUILD_CMD"
[[ ${build[0]} == cargo ]] || fail "the RUN line does not start with cargo: $BUILD_CMD"
say "running the Dockerfile's build line: $BUILD_CMD"
# IMAGE_CHECK_QUICK=1 (what `make test` runs): the same line, sources, lockfile, features and
# paths, with the release profile's optimiser turned down through cargo's environment (no
# LTO, opt-level 1): a cold build takes minutes instead of a quarter of an hour on two
# cores. Everything checked below is the same; only the machine code differs.
if [[ ${IMAGE_CHECK_QUICK:-} == 1 ]]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1
  say "quick: the release profile's optimiser turned down (LTO off, opt-level 1)"
fi
start=$SECONDS
"${build[@]}" || fail "the Dockerfile's build line failed: $BUILD_CMD"
say "built in $((SECONDS - start)) s"

# 3. Where cargo put the binary: the same line again (a no-op now) reports its artifacts.
exe=$("${build[@]}" --quiet --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and m["target"]["name"] == "reloader":
        print(m["executable"])
') || fail "could not read cargo's artifacts"
[[ -n $exe && -x $exe ]] || fail "cargo reported no reloader executable"
produced="$BUILD_WORKDIR/${exe#"$root"/}"
[[ $produced == "$COPY_SRC" ]] ||
  fail "the run stage copies $COPY_SRC but the build line produces $produced (at $exe)"
say "COPY --from=build $COPY_SRC is the file cargo produced"

# 4. The binary runs: --help, the version the crate declares, and the CMD's subcommand.
help=$("$exe" --help) || fail "$exe --help exited $?"
grep -q '^Usage: reloader' <<<"$help" || fail "reloader --help printed no usage line: $help"
grep -q '^  serve ' <<<"$help" || fail "reloader --help lists no serve subcommand: $help"
version=$("$exe" version) || fail "$exe version exited $?"
[[ $version == "reloader $CRATE_VERSION" ]] ||
  fail "reloader version printed '$version', expected 'reloader $CRATE_VERSION'"
read -r -a run_cmd <<<"$RUN_CMD"
"$exe" "${run_cmd[@]}" --help >/dev/null || fail "the image's CMD ($RUN_CMD) is not a subcommand"
say "reloader --help, reloader version ($version) and reloader $RUN_CMD --help run"
# The newest glibc symbol version the binary needs, against the run stage's Debian glibc.
needs=$(python3 -c '
import re, sys
found = set(re.findall(rb"GLIBC_(\d+)\.(\d+)", open(sys.argv[1], "rb").read()))
print(".".join(map(str, max((int(a), int(b)) for a, b in found))) if found else "")
' "$exe")
[[ -n $RUN_GLIBC && -n $needs ]] ||
  fail "cannot compare the glibc the binary needs ($needs) with the run stage's"
[[ $(printf '%s\n' "$needs" "$RUN_GLIBC" | sort -V | tail -n1) == "$RUN_GLIBC" ]] ||
  fail "the binary needs glibc $needs, the run stage has $RUN_GLIBC"
say "the binary needs glibc $needs, the run stage's Debian has $RUN_GLIBC"

# 5. The build context: the build stage's COPYs, laid out as in the image, resolve the
#    workspace with the lockfile, and hold every repository file the build read.
staged=$(mktemp -d)
trap 'rm -rf "$staged"' EXIT
"${helper[@]}" stage "$staged" || fail "could not lay out the build stage's COPYs"
# cargo fetch loads every manifest as a build does (declared benches must exist, unlike for
# cargo metadata) and checks Cargo.lock; it writes nothing into the staged tree.
cargo fetch --locked --manifest-path "$staged/Cargo.toml" ||
  fail "the build stage's COPYs do not load the workspace with --locked (missing files?)"
say "the build stage's COPYs resolve the workspace with --locked"
"${helper[@]}" context "${exe%/*}/reloader.d" "$staged" ||
  fail "the build stage's COPYs miss files the build reads"

say "OK"
