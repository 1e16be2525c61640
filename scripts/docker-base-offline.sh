#!/usr/bin/env bash
# Builds a local stand-in for node:24-slim, for machines whose Docker engine cannot pull from an
# image registry (no Docker Hub) but can reach Debian's apt mirror and the npm registry. CI does not
# run it (CI has no Docker engine); docs/deploy.md "Container image" shows how it is used:
#
#   sudo scripts/docker-base-offline.sh                       # -> fleetgate-base:bookworm-node24
#   docker build --build-arg NODE_IMAGE=fleetgate-base:bookworm-node24 -t fleetgate:local .
#
# What it makes, like the official image: Debian bookworm (debootstrap --variant=minbase), the Node
# 24 binary the repo pins (node_modules/node/bin/node) as /usr/local/bin/node, and npm (the npm
# package's tarball from the npm registry, which bundles its dependencies) under
# /usr/local/lib/node_modules/npm with npm and npx in /usr/local/bin. No corepack and no yarn: the
# Dockerfile uses neither. Needs root (debootstrap), debootstrap (installed with apt-get when
# missing), npm on the host (only to fetch the npm tarball) and `pnpm install` run in the repo.
#
# Environment: IMAGE (default fleetgate-base:bookworm-node24), SUITE (bookworm), MIRROR
# (http://deb.debian.org/debian), NPM_VERSION (11, the npm line Node 24 ships with), EXTRA_CA_FILE.
#
# Behind a TLS-intercepting egress proxy (npm in a build fails with SELF_SIGNED_CERT_IN_CHAIN), the
# build needs the proxy's CA: EXTRA_CA_FILE (default: the host's NODE_EXTRA_CA_CERTS, when set) is
# copied to /usr/local/share/fleetgate-base/extra-ca.pem, and the Dockerfile's deps stage trusts it
# only when built with --build-arg NODE_EXTRA_CA_CERTS=/usr/local/share/fleetgate-base/extra-ca.pem.
# The file then also sits in the final image, unread (nothing there sets NODE_EXTRA_CA_CERTS).
set -euo pipefail

image=${IMAGE:-fleetgate-base:bookworm-node24}
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
npm_version=${NPM_VERSION:-11}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
node="$root/node_modules/node/bin/node"

die() {
  echo "docker-base-offline: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it)"
[ -x "$node" ] || die "$node is missing: run pnpm install in $root first"
node_version=$("$node" --version)
case "$node_version" in
v24.*) ;;
*) die "$node is $node_version, not Node 24" ;;
esac
command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info)"
command -v npm >/dev/null || die "npm is needed on the host to fetch the npm package tarball"
command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap

work=$(mktemp -d /tmp/fleetgate-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "docker-base-offline: debootstrap $suite from $mirror (a few minutes)"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  {
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  }
# Slim like debian:*-slim: no downloaded .debs, no apt lists (apt-get update works again in a build).
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

install -m 0755 "$node" "$rootfs/usr/local/bin/node"

extra_ca=${EXTRA_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}
if [ -n "$extra_ca" ]; then
  [ -r "$extra_ca" ] || die "EXTRA_CA_FILE $extra_ca is not readable"
  install -D -m 0644 "$extra_ca" "$rootfs/usr/local/share/fleetgate-base/extra-ca.pem"
  echo "docker-base-offline: extra CA $extra_ca -> /usr/local/share/fleetgate-base/extra-ca.pem"
fi

echo "docker-base-offline: npm@$npm_version from the npm registry"
tarball=$(cd "$work" && npm pack --silent "npm@$npm_version")
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$tarball" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
npm_installed=$(chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)

echo "docker-base-offline: importing $image (node $node_version, npm $npm_installed)"
tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'CMD ["node"]' \
  --message "debootstrap $suite minbase + node $node_version + npm $npm_installed (scripts/docker-base-offline.sh)" \
  - "$image" >/dev/null
docker run --rm "$image" node -e 'console.log(`node ${process.version} on`, require("os").release())' >/dev/null ||
  die "the imported image does not run node"
docker images "$image"
build_args="--build-arg NODE_IMAGE=$image"
[ -z "$extra_ca" ] || build_args+=" --build-arg NODE_EXTRA_CA_CERTS=/usr/local/share/fleetgate-base/extra-ca.pem"
echo "docker-base-offline: now run: docker build $build_args -t fleetgate:local $root"
