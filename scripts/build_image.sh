#!/usr/bin/env bash
# Builds the task image with podman for the tests: a Debian base bootstrapped here (no
# registry is needed), then the Dockerfile with the host's Rust toolchain, crate registry
# and release build cache mounted so that nothing is downloaded or rebuilt needlessly.
# Writes the image name to $1 when it worked. Where podman is missing and cannot be installed,
# or cannot run at all, it writes the reason to $1.skip, says it, and exits 0: the image tests
# then skip with that reason, shown in pytest's summary. Once podman runs, any failure of the
# build itself exits non-zero (set -e): a broken image never passes for a missing podman.
set -euo pipefail
out=$1
image=${IMAGE:-localhost/slipstream:test}
base=${BASE_IMAGE:-localhost/slipstream-base:bookworm}
builder=${BUILDER_IMAGE:-localhost/slipstream-builder:bookworm}
cache=${CACHE:-$HOME/.cache/slipstream}
rm -f "$out" "$out.skip"
mkdir -p "$cache"

skip() {  # podman cannot be had or run here: record why, for the image tests to report
    echo "$1" > "$out.skip"
    echo "image not built: $1" >&2
    exit 0
}

sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
    echo "installing podman (apt)"
    { $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq podman buildah runc debootstrap >/dev/null; } \
        || skip "podman is not installed and cannot be installed here (apt-get failed)"
fi
conf="$cache/containers.conf"
cat > "$conf" <<'CONF'
[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
export CONTAINERS_CONF="$conf"
if ! podman info >/dev/null 2>&1; then
    skip "podman cannot run here: $(podman info 2>&1 | tail -1)"
fi

bootstrap() {  # image name, extra packages
    podman image exists "$1" && return 0
    echo "bootstrapping the Debian image $1 (~2 min, once)"
    root=$(mktemp -d)
    $sudo debootstrap --variant=minbase --include="python3,python3-venv,ca-certificates$2" \
        bookworm "$root" >/dev/null
    $sudo tar -C "$root" -c . | podman import - "$1" >/dev/null
    $sudo rm -rf "$root"
}
bootstrap "$base" ""
bootstrap "$builder" ",gcc,libc6-dev,curl"

ca=/etc/ssl/certs/ca-certificates.crt
# The image's own release build cache; seeded from the host's release build the first time,
# so that only what differs (pyo3 for the image's Python, our crates) is compiled.
if [ ! -d "$cache/target-image" ] && [ -d "$cache/target-release" ]; then
    cp -a "$cache/target-release" "$cache/target-image"
fi
mkdir -p "$HOME/.cargo" "$HOME/.rustup" "$cache/target-image"
echo "building $image"
podman build --quiet --build-arg BASE="$base" --build-arg BUILDER_BASE="$builder" \
    --build-arg CARGO_TARGET_DIR=/target --build-arg PIP_CERT=/host-ca.crt \
    -v "$HOME/.rustup:/root/.rustup" -v "$HOME/.cargo:/root/.cargo" \
    -v "$cache/target-image:/target" -v "$ca:/host-ca.crt:ro" \
    -t "$image" . >/dev/null
podman image prune -f >/dev/null  # the builder stages of earlier builds
echo "$image" > "$out"
rm -f "$out.skip"
echo "built $image"
