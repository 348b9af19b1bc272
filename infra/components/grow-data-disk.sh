#!/bin/bash
# Grows a VM's data disk to the size its host record says (`fleet grow-disk`),
# on the machine running Pulumi, against the hypervisor's libvirtd. Never
# shrinks. The libvirt provider would replace the volume for a new size, and
# a replace of a data volume removes every school's data, so the volume
# ignores its size after creation and this step grows it in place: with
# `blockresize` while the VM runs (QEMU has the image open), else with
# `vol-resize`. The guest's file system follows in the host's own step.
#
# Everything comes from the environment, nothing is interpolated into this
# text: LIBVIRT_URI, DOMAIN, POOL, VOLUME, DATA_GIB.
set -euo pipefail

for name in LIBVIRT_URI DOMAIN POOL VOLUME DATA_GIB; do
  if [[ -z "${!name:-}" ]]; then
    echo "grow-data-disk: $name is not set" >&2
    exit 2
  fi
done
if [[ ! $DATA_GIB =~ ^[1-9][0-9]{0,5}$ ]]; then
  echo "grow-data-disk: DATA_GIB must be a whole number of GiB, not '$DATA_GIB'" >&2
  exit 2
fi
if ! command -v virsh >/dev/null 2>&1; then
  echo "grow-data-disk: virsh not found (Debian: apt-get install libvirt-clients)" >&2
  exit 1
fi

lv() { virsh -q -c "$LIBVIRT_URI" "$@"; }

want=$((DATA_GIB * 1024 * 1024 * 1024))
have=$(lv vol-info --bytes --pool "$POOL" "$VOLUME" | awk '$1 == "Capacity:" { print $2 }')
if [[ -z $have ]]; then
  echo "grow-data-disk: no capacity for volume $VOLUME in pool $POOL" >&2
  exit 1
fi
if ((want < have)); then
  echo "grow-data-disk: $VOLUME is $have bytes, more than the $DATA_GIB GiB asked for: a data disk only grows" >&2
  exit 1
fi
if ((want == have)); then
  echo "grow-data-disk: $VOLUME is already $DATA_GIB GiB" >&2
  exit 0
fi

path=$(lv vol-path --pool "$POOL" "$VOLUME")
if [[ $(lv domstate "$DOMAIN" 2>/dev/null || true) == running ]]; then
  lv blockresize "$DOMAIN" "$path" "${want}B" >/dev/null
else
  lv vol-resize --pool "$POOL" "$VOLUME" "$want" >/dev/null
fi
echo "grow-data-disk: $VOLUME grown from $have to $want bytes" >&2
