#!/usr/bin/env bash
# Installs the Debian packages the toolchain, the tests and the lab need.
# Idempotent: only missing packages are installed, and apt's lists are
# refreshed only when something is missing.
set -euo pipefail

packages=(
  # hypervisor: libvirtd + QEMU (TCG on machines where KVM guests crash)
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  # cloud-init seed ISOs are built by the libvirt provider with mkisofs/genisoimage;
  # its xml.xslt (a volume's and a pool's file modes) runs xsltproc
  genisoimage xsltproc
  # authoritative DNS taking TSIG-signed dynamic updates, and its clients
  bind9 bind9-utils bind9-dnsutils
  # lab guest image and loopback SSH
  mmdebstrap e2fsprogs openssh-server openssh-client
  # the Moodle stand-in's unit checks (php -l, its command line contract)
  php-cli
  iproute2 procps psmisc
  # PHP, to run the generated config and install wrapper in tests
  php-cli
  # promtool, to check the generated monitoring config (the service is never started)
  prometheus
  # the PostgreSQL state backend: psql for the fleet's locks, the server (never the
  # packaged service) for the tests' own clusters, openssl for their TLS certificates
  postgresql-15 postgresql-client-15 openssl
  # gitlab-ci-local (the pipeline test) copies the work tree with rsync
  rsync git
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "debian-packages: missing ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "debian-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Never let package scripts start services on install: the lab and tests start
# exactly what they need, inside their own network namespace.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
fi
trap '((created_policy)) && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
