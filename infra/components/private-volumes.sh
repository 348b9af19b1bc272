#!/bin/bash
# Makes a VM's cloud-init seed readable by root only, and reports any other
# volume of the VM that other users of the hypervisor can read. Runs on the
# machine running Pulumi, against the hypervisor's libvirtd, before the
# domain is defined.
#
# The seed holds the VM's private SSH host key, and the libvirt provider
# writes it with mode 644 (it takes no XSLT for seeds, as it does for
# volumes). libvirt has no call that changes a volume's mode, so the seed is
# copied by libvirtd into a 0600 volume and copied back under its own name:
# same path, same content, so the provider's seed and the domain that names
# it are unchanged. Every step can be repeated: an interrupted run is
# finished by the next one. A running domain keeps reading the file it has
# open, with the same content.
#
# Disks are never copied (a live disk's copy is torn); one with a mode open
# to others is reported with the command that closes it.
#
# Everything comes from the environment: LIBVIRT_URI, POOL, SEED (the seed's
# volume name), VOLUMES (the VM's other volume names, separated by spaces).
set -euo pipefail

for name in LIBVIRT_URI POOL SEED VOLUMES; do
  if [[ -z "${!name:-}" ]]; then
    echo "private-volumes: $name is not set" >&2
    exit 2
  fi
done
# Names go into a volume's XML below.
for volume in "$SEED" $VOLUMES; do
  if [[ ! $volume =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "private-volumes: '$volume' is not a volume name this program makes" >&2
    exit 2
  fi
done
if ! command -v virsh >/dev/null 2>&1; then
  echo "private-volumes: virsh not found (Debian: apt-get install libvirt-clients)" >&2
  exit 1
fi

lv() { virsh -q -c "$LIBVIRT_URI" "$@"; }
exists() { lv vol-info --pool "$POOL" "$1" >/dev/null 2>&1; }
# The file's mode as libvirtd sees it now (octal, e.g. 0644): the target's
# permissions come before any backing store's.
mode_of() { lv vol-dumpxml --pool "$POOL" "$1" | sed -n 's|.*<mode>\([0-7]*\)</mode>.*|\1|p' | head -n 1; }
private() { [[ -n $1 ]] && (((8#$1 & 8#077) == 0)); }

# Removed however the script ends (a failed virsh call ends it at once).
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# Copies volume $1 into a new 0600 volume $2, inside libvirtd.
copy_private() {
  local capacity xml=$work/volume.xml
  capacity=$(lv vol-info --bytes --pool "$POOL" "$1" | awk '$1 == "Capacity:" { print $2 }')
  printf '<volume><name>%s</name><capacity unit="bytes">%s</capacity><target><format type="raw"/><permissions><mode>0600</mode></permissions></target></volume>\n' \
    "$2" "$capacity" >"$xml"
  lv vol-create-from --pool "$POOL" --inputpool "$POOL" "$xml" "$1" >/dev/null
}

copy="$SEED.private-copy"
if ! exists "$SEED"; then
  if ! exists "$copy"; then
    echo "private-volumes: no seed $SEED in pool $POOL" >&2
    exit 1
  fi
  # A run stopped between removing the seed and copying it back.
  copy_private "$copy" "$SEED"
fi

mode=$(mode_of "$SEED")
if private "$mode"; then
  echo "private-volumes: $SEED is mode $mode" >&2
else
  if exists "$copy"; then lv vol-delete --pool "$POOL" "$copy" >/dev/null; fi
  copy_private "$SEED" "$copy"
  lv vol-delete --pool "$POOL" "$SEED" >/dev/null
  copy_private "$copy" "$SEED"
  echo "private-volumes: $SEED was mode $mode, is mode $(mode_of "$SEED") now" >&2
fi
if exists "$copy"; then lv vol-delete --pool "$POOL" "$copy" >/dev/null; fi

for volume in $VOLUMES; do
  mode=$(mode_of "$volume")
  if ! private "$mode"; then
    echo "private-volumes: WARNING: $volume is mode $mode, readable by other users of the hypervisor; libvirt cannot change it: on the hypervisor, run chmod 0600 $(lv vol-path --pool "$POOL" "$volume") (safe while the VM runs)" >&2
  fi
done
