#!/bin/bash
# Shuts a VM down cleanly before the libvirt provider deletes its domain, for
# a new size or for good: the provider's delete powers a running domain off
# at once, and with it every site's database and php-fpm. Runs on the machine
# running Pulumi, against the hypervisor's libvirtd.
#
# Everything comes from the environment, so nothing is interpolated into this
# text: LIBVIRT_URI, DOMAIN, TIMEOUT_SECONDS (how long the guest may take
# before the provider's hard power-off goes ahead), REASON: `resize` (the
# default: only when VCPU or MEMORY_MIB, the size the domain is about to get,
# differ from the running domain's) or `delete` (the domain goes).
set -euo pipefail

REASON=${REASON:-resize}
case "$REASON" in
  resize) required=(LIBVIRT_URI DOMAIN VCPU MEMORY_MIB TIMEOUT_SECONDS) ;;
  delete) required=(LIBVIRT_URI DOMAIN TIMEOUT_SECONDS) ;;
  *)
    echo "domain-shutdown: REASON must be resize or delete, not '$REASON'" >&2
    exit 2
    ;;
esac
for name in "${required[@]}"; do
  if [[ -z "${!name:-}" ]]; then
    echo "domain-shutdown: $name is not set" >&2
    exit 2
  fi
done

if ! command -v virsh >/dev/null 2>&1; then
  echo "domain-shutdown: virsh not found (Debian: apt-get install libvirt-clients); without it the resize of $DOMAIN would power it off hard" >&2
  exit 1
fi

lv() { virsh -q -c "$LIBVIRT_URI" "$@"; }

# A failure to reach libvirtd stops here, before the provider touches the domain.
domains=$(lv list --all --name)
if ! grep -qxF -- "$DOMAIN" <<<"$domains"; then
  echo "domain-shutdown: no domain $DOMAIN yet, nothing to shut down" >&2
  exit 0
fi

if [[ $REASON == resize ]]; then
  info=$(lv dominfo -- "$DOMAIN")
  field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$info" | head -n 1; }
  cpus=$(field 'CPU(s)')
  memory_kib=$(field 'Max memory' | sed 's/[^0-9].*$//')
  if [[ "$cpus" == "$VCPU" && "$memory_kib" == "$((MEMORY_MIB * 1024))" ]]; then
    # Not a resize: the domain keeps running.
    exit 0
  fi
fi

state=$(lv domstate -- "$DOMAIN")
if [[ "$state" != "running" ]]; then
  echo "domain-shutdown: $DOMAIN is $state, not running: nothing to shut down" >&2
  exit 0
fi

if [[ $REASON == resize ]]; then
  echo "domain-shutdown: $DOMAIN goes from $cpus vcpu, $memory_kib KiB to $VCPU vcpu, $((MEMORY_MIB * 1024)) KiB: shutting it down (up to $TIMEOUT_SECONDS s)" >&2
else
  echo "domain-shutdown: $DOMAIN is deleted: shutting it down (up to $TIMEOUT_SECONDS s)" >&2
fi
start=$SECONDS
last_request=-30
while (( SECONDS - start < TIMEOUT_SECONDS )); do
  # The request is repeated: a guest still booting may miss the first one.
  if (( SECONDS - last_request >= 30 )); then
    lv shutdown -- "$DOMAIN" >/dev/null || true
    last_request=$SECONDS
  fi
  if [[ "$(lv domstate -- "$DOMAIN" 2>/dev/null || true)" == "shut off" ]]; then
    echo "domain-shutdown: $DOMAIN is shut off after $((SECONDS - start)) s" >&2
    exit 0
  fi
  sleep "${POLL_SECONDS:-2}"
done
echo "domain-shutdown: WARNING: $DOMAIN did not shut down within $TIMEOUT_SECONDS s; the $REASON powers it off" >&2
exit 0
