# Shared by the lab and the system tests; sourced, not run.
# Everything the lab starts lives in one network namespace, so guest bridges,
# tap devices and addresses exist only there.
LAB_NETNS=${LAB_NETNS:-moodle-lab}
LAB_RUN=/run/moodle-lab
# Lasting lab state: the cached guest image, BIND's zone and key, boot checks.
LAB_STATE=${LAB_STATE:-/var/lib/moodle-lab}
LAB_IMAGES=$LAB_STATE/images

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

lab_require_root() {
  [[ $(id -u) -eq 0 ]] || lab_die "the lab needs root (libvirtd, network namespaces); run it as root"
}

lab_netns_up() {
  ip netns list | grep -qw "^$LAB_NETNS" || ip netns add "$LAB_NETNS"
  ip -n "$LAB_NETNS" link set lo up
  mkdir -p "$LAB_RUN"
}

lab_netns_down() {
  if ip netns list | grep -qw "^$LAB_NETNS"; then
    # Processes left in the namespace would keep it alive.
    ip netns pids "$LAB_NETNS" | xargs -r kill 2>/dev/null || true
    sleep 0.5
    ip netns pids "$LAB_NETNS" | xargs -r kill -9 2>/dev/null || true
    ip netns del "$LAB_NETNS"
  fi
}

lab_in_ns() { ip netns exec "$LAB_NETNS" "$@"; }

_pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

# libvirtd and virtlogd from Debian's packages, started by hand (no systemd
# needed) inside the lab namespace. The control socket is a file, so the
# provider reaches qemu:///system from outside the namespace.
lab_libvirtd_up() {
  # Without udev /dev/kvm stays root-only, and libvirtd then re-probes QEMU on
  # every call (30-60 s each).
  lab_kvm_device_setup
  getent group kvm >/dev/null || groupadd -r kvm
  getent passwd libvirt-qemu >/dev/null || useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p "$LAB_RUN"
  if ! _pid_alive "$LAB_RUN/virtlogd.pid"; then
    lab_in_ns virtlogd -d -p "$LAB_RUN/virtlogd.pid"
  fi
  if ! _pid_alive "$LAB_RUN/libvirtd.pid"; then
    lab_in_ns libvirtd -d -p "$LAB_RUN/libvirtd.pid"
  fi
  local i
  for i in $(seq 1 100); do
    virsh -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  lab_die "libvirtd did not answer on qemu:///system"
}

# Waits for the process itself, not its pid file: a daemon removes the file
# before it has finished shutting down.
lab_libvirtd_down() {
  local f pid
  for f in "$LAB_RUN/libvirtd.pid" "$LAB_RUN/virtlogd.pid"; do
    if _pid_alive "$f"; then
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$f"
  done
}

# Debian's udev rules give /dev/kvm to group kvm, mode 0660; where no udev ran
# it stays root-only. Then libvirtd probes QEMU with KVM but finds KVM unusable
# for the qemu user when it checks its capability cache, throws the cache away
# and probes again on every call: each define or start waits 30-60 s.
lab_kvm_device_setup() {
  [[ -c /dev/kvm ]] || return 0
  getent group kvm >/dev/null || groupadd -r kvm
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
}

# The libvirt domain type of lab VMs: qemu (TCG) by default, because Debian
# guests die under KVM on some hosts ("KVM internal error ... emulation
# failure"). kvm when LAB_DOMAIN_TYPE says so, or when `lab/boot-check.sh
# --kvm` passed on this machine (it leaves $LAB_STATE/kvm-boot-ok).
lab_domain_type() {
  if [[ -n ${LAB_DOMAIN_TYPE:-} ]]; then
    printf '%s\n' "$LAB_DOMAIN_TYPE"
  elif [[ -f $LAB_STATE/kvm-boot-ok && -c /dev/kvm ]]; then
    printf 'kvm\n'
  else
    printf 'qemu\n'
  fi
}

# Stops and undefines a libvirt domain by name; nothing happens when there is
# none. Its disks are the caller's to remove.
lab_domain_remove() {
  local name=$1
  virsh -q -c qemu:///system dominfo "$name" >/dev/null 2>&1 || return 0
  virsh -q -c qemu:///system destroy "$name" >/dev/null 2>&1 || true
  virsh -q -c qemu:///system undefine "$name" >/dev/null 2>&1 || true
}

# The bridge the lab's VMs attach to, and the lab's BIND: both live in the
# lab namespace (see network.sh and bind.sh).
_lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=network.sh
source "$_lab_dir/network.sh"
# shellcheck source=bind.sh
source "$_lab_dir/bind.sh"
unset _lab_dir
