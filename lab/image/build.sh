#!/usr/bin/env bash
# Builds the lab's guest image: Debian 12 (bookworm) from Debian's packages
# with mmdebstrap, an ext4 root file system made with `mke2fs -d`, converted to
# qcow2, plus the image's kernel and initrd for direct kernel boot
# (cmdline `root=/dev/vda console=ttyS0 net.ifnames=0`).
#
# The image is built once and cached in $LAB_IMAGES/debian12-lab-<hash>/, where
# <hash> covers this script, packages.txt and the Moodle stand-in; it is
# rebuilt only when one of them changes. `current` points at the newest build.
#
#   lab/image/build.sh              build if needed, print where things are
#   lab/image/build.sh --print-env  build if needed, print KEY=value lines only
#   lab/image/build.sh --hash       print the recipe hash only
#   lab/image/build.sh --standin-digests
#                                   print the two stand-in tarballs' SHA-256
#                                   (as the image will carry them; no build)
#   lab/image/build.sh --prune      remove cached images other than the current one
#
# Needs root (mmdebstrap's root mode, chroot) and Debian's package mirror.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=$(dirname "$HERE")
# shellcheck source=../lib.sh
source "$LAB_DIR/lib.sh"

SUITE=bookworm
MIRROR=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${LAB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
IMAGE_SIZE=${LAB_IMAGE_SIZE:-4G}
KERNEL_CMDLINE='root=/dev/vda console=ttyS0 net.ifnames=0'

# Hash of every input of the recipe: file names and contents.
image_recipe_hash() {
  (
    cd "$LAB_DIR"
    { printf '%s\n' image/build.sh image/packages.txt; find moodle-standin image/standin-second -type f; } |
      LC_ALL=C sort | xargs -d '\n' sha256sum
  ) | sha256sum | cut -c1-16
}

image_packages() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HERE/packages.txt" | grep -v '^$' | paste -sd, -
}

image_print_env() {
  cat "$1/image.env"
}

image_print_summary() {
  local dir=$1
  # shellcheck disable=SC1091
  (
    source "$dir/image.env"
    printf 'image:  %s (%s on disk, %s virtual)\n' "$LAB_IMAGE" "$(du -h "$LAB_IMAGE" | cut -f1)" \
      "$(qemu-img info --output=json "$LAB_IMAGE" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | numfmt --to=iec)"
    printf 'kernel: %s\ninitrd: %s\ncmdline: %s\n' "$LAB_KERNEL" "$LAB_INITRD" "$LAB_KERNEL_CMDLINE"
    printf 'build time: %s s (when it was built: %s)\n' "$LAB_IMAGE_BUILD_SECONDS" "$LAB_IMAGE_BUILT_AT"
  )
}

# Everything done to the root file system after mmdebstrap installed the packages.
image_customize() {
  local root=$1 stage=$2

  # The root file system is the whole of /dev/vda, no partition table.
  printf '/dev/vda / ext4 errors=remount-ro 0 1\n' >"$root/etc/fstab"

  # Every guest gets its own identity on first boot.
  rm -f "$root"/etc/ssh/ssh_host_*
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  printf 'localhost\n' >"$root/etc/hostname"
  rm -f "$root/etc/resolv.conf"
  : >"$root/etc/resolv.conf"

  # No periodic apt runs: the lab guests have no route to a mirror.
  ln -sfn /dev/null "$root/etc/systemd/system/apt-daily.timer"
  ln -sfn /dev/null "$root/etc/systemd/system/apt-daily-upgrade.timer"
  printf 'APT::Periodic::Enable "0";\n' >"$root/etc/apt/apt.conf.d/10periodic-disabled"
  # e2scrub only matters for LVM snapshots, and costs seconds at each boot.
  ln -sfn /dev/null "$root/etc/systemd/system/e2scrub_all.timer"
  ln -sfn /dev/null "$root/etc/systemd/system/e2scrub_reap.service"

  # cloud-init reads its seed from a NoCloud disk (label cidata) and probes
  # no metadata service.
  cat >"$root/etc/cloud/cloud.cfg.d/90-moodle-lab.cfg" <<'EOF'
# Lab image: the seed comes from a NoCloud disk (volume label cidata).
datasource_list: [ NoCloud, None ]
# No RSA host key: generating it costs seconds under TCG.
ssh_genkeytypes: [ed25519, ecdsa]
# No boot loader in the image (direct kernel boot).
grub_dpkg:
  enabled: false
EOF

  # Locales generated ahead and the default set to what cloud-init would
  # choose, so its locale step has nothing to do (it takes 16 s under TCG).
  sed -i -e 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$root/etc/locale.gen"
  chroot "$root" locale-gen >/dev/null
  printf 'LANG=en_US.UTF-8\n' >"$root/etc/default/locale"

  # Apache hands PHP to php-fpm.
  local fpmconf
  fpmconf=$(cd "$root/etc/apache2/conf-available" && ls php*-fpm.conf)
  chroot "$root" a2enmod -q proxy_fcgi setenvif >/dev/null
  chroot "$root" a2enconf -q "${fpmconf%.conf}" >/dev/null

  # The Moodle stand-in (a test double) as two release tarballs with a
  # top-level moodle/ folder, packed reproducibly, and their checksums: the
  # lab's release, and a second one (a later version.php) that the lab
  # upgrades its sites to.
  mkdir -p "$root/opt/moodle-standin"
  standin_pack "$LAB_DIR/moodle-standin" "" "$stage/first" "$root/opt/moodle-standin/moodle-standin.tgz"
  standin_pack "$LAB_DIR/moodle-standin" "$LAB_DIR/image/standin-second/version.php" "$stage/second" \
    "$root/opt/moodle-standin/moodle-standin-2.tgz"
  (cd "$root/opt/moodle-standin" && sha256sum moodle-standin.tgz moodle-standin-2.tgz >SHA256)
  chmod 0644 "$root/opt/moodle-standin/moodle-standin.tgz" "$root/opt/moodle-standin/moodle-standin-2.tgz" \
    "$root/opt/moodle-standin/SHA256"

  rm -rf "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/*
}

# standin_pack SOURCE VERSION_PHP STAGE OUT: SOURCE as a release tarball OUT
# (top folder moodle/), its version.php replaced by VERSION_PHP when given.
# Reproducible: the same files give the same bytes (Pulumi.lab.yaml pins
# the digest).
standin_pack() {
  local src=$1 version=$2 stage=$3 out=$4
  mkdir -p "$stage/moodle"
  cp -R "$src/." "$stage/moodle/"
  if [[ -n $version ]]; then cp "$version" "$stage/moodle/version.php"; fi
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' -C "$stage" -cf - moodle | gzip -9n >"$out"
}

# The digests of the stand-in tarballs as image_customize packs them.
standin_digests() {
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  standin_pack "$LAB_DIR/moodle-standin" "" "$tmp/first" "$tmp/moodle-standin.tgz"
  standin_pack "$LAB_DIR/moodle-standin" "$LAB_DIR/image/standin-second/version.php" "$tmp/second" "$tmp/moodle-standin-2.tgz"
  printf 'LAB_STANDIN_SHA256=%s\n' "$(sha256sum "$tmp/moodle-standin.tgz" | cut -d' ' -f1)"
  printf 'LAB_STANDIN2_SHA256=%s\n' "$(sha256sum "$tmp/moodle-standin-2.tgz" | cut -d' ' -f1)"
}

image_build() {
  local hash=$1 final=$2 t0=$3
  local work root out t1 t2 t3
  work=$(mktemp -d "$LAB_IMAGES/.build-$hash.XXXXXX")
  root=$work/root
  out=$work/out
  mkdir -p "$out"
  # shellcheck disable=SC2064
  trap "image_build_cleanup '$work'" EXIT

  lab_log "building the guest image $hash (mmdebstrap $SUITE)"
  mmdebstrap --variant=apt --mode=root --format=directory \
    --include="$(image_packages)" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    "$SUITE" "$root" \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main" \
    >"$work/mmdebstrap.log" 2>&1 || { tail -n 40 "$work/mmdebstrap.log" >&2; lab_die "mmdebstrap failed"; }
  t1=$(date +%s)

  image_customize "$root" "$work/stage"
  local kernel initrd
  kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
  initrd=$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)
  [[ -n $kernel && -n $initrd ]] || lab_die "no kernel or initrd in the image's /boot"
  install -m 0644 "$kernel" "$out/vmlinuz"
  install -m 0644 "$initrd" "$out/initrd.img"
  chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$out/packages.lst"
  t2=$(date +%s)

  mke2fs -q -t ext4 -L lab-root -d "$root" -F "$work/root.raw" "$IMAGE_SIZE" >/dev/null
  qemu-img convert -c -f raw -O qcow2 "$work/root.raw" "$out/disk.qcow2"
  t3=$(date +%s)

  cat >"$out/image.env" <<EOF
LAB_IMAGE_HASH=$hash
LAB_IMAGE_DIR=$final
LAB_IMAGE=$final/disk.qcow2
LAB_KERNEL=$final/vmlinuz
LAB_INITRD=$final/initrd.img
LAB_KERNEL_CMDLINE='$KERNEL_CMDLINE'
LAB_KERNEL_VERSION=$(basename "$kernel" | sed 's/^vmlinuz-//')
LAB_STANDIN_TARBALL=file:///opt/moodle-standin/moodle-standin.tgz
LAB_STANDIN_SHA256=$(sed -n 's/  moodle-standin\.tgz$//p' "$root/opt/moodle-standin/SHA256")
LAB_STANDIN2_TARBALL=file:///opt/moodle-standin/moodle-standin-2.tgz
LAB_STANDIN2_SHA256=$(sed -n 's/  moodle-standin-2\.tgz$//p' "$root/opt/moodle-standin/SHA256")
LAB_IMAGE_BUILD_SECONDS=$((t3 - t0))
LAB_IMAGE_BUILT_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
  chmod 0755 "$out"
  chmod 0644 "$out"/*
  mv -T "$out" "$final"
  ln -sfn "$(basename "$final")" "$LAB_IMAGES/.current.new"
  mv -T "$LAB_IMAGES/.current.new" "$LAB_IMAGES/current"
  lab_log "image built in $((t3 - t0)) s (mmdebstrap $((t1 - t0)) s, customize $((t2 - t1)) s, mke2fs+qcow2 $((t3 - t2)) s)"
}

image_build_cleanup() {
  local work=$1
  # mmdebstrap unmounts what it mounted; should it have been killed, nothing
  # mounted below the work folder may be removed with it.
  if [[ -d $work/root ]]; then
    findmnt -rn -o TARGET | grep -F "$work/root" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work"
}

main() {
  local mode=summary
  case "${1:-}" in
    '') ;;
    --print-env) mode=env ;;
    --hash) image_recipe_hash; return 0 ;;
    --standin-digests) standin_digests; return 0 ;;
    --prune) mode=prune ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
    *) lab_die "unknown option $1 (see --help)" ;;
  esac
  lab_require_root
  local hash final t0
  t0=$(date +%s)
  hash=$(image_recipe_hash)
  final=$LAB_IMAGES/debian12-lab-$hash
  mkdir -p "$LAB_IMAGES"
  chmod 0755 "$LAB_STATE" "$LAB_IMAGES"

  if [[ $mode == prune ]]; then
    local d current
    current=$(readlink "$LAB_IMAGES/current" || true)
    for d in "$LAB_IMAGES"/debian12-lab-*; do
      [[ -d $d && $(basename "$d") != "$current" ]] || continue
      lab_log "removing $d"
      rm -rf --one-file-system "$d"
    done
    return 0
  fi

  if [[ ! -f $final/image.env ]]; then
    exec 9>"$LAB_IMAGES/.build.lock"
    flock 9
    # Another build may have finished while this one waited.
    [[ -f $final/image.env ]] || image_build "$hash" "$final" "$t0"
    flock -u 9
  else
    lab_log "guest image $hash is cached"
    if [[ $(readlink "$LAB_IMAGES/current" || true) != "$(basename "$final")" ]]; then
      ln -sfn "$(basename "$final")" "$LAB_IMAGES/.current.new"
      mv -T "$LAB_IMAGES/.current.new" "$LAB_IMAGES/current"
    fi
  fi
  if [[ $mode == env ]]; then
    image_print_env "$final"
  else
    image_print_summary "$final"
  fi
}

main "$@"
