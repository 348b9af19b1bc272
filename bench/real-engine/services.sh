#!/bin/bash
# The real-engine benchmark's stand-ins for the VMs' side, all inside the
# network namespace moodle-bench (never the lab's):
#   - every planned host address (10.30.0.0/15) and the DNS server 10.29.0.53
#     are local addresses of the namespace (a `local` route, so no per-host
#     address has to be added);
#   - sshd on port 22 of all of them, whose ForceCommand swallows the
#     generated script from stdin and exits 0: the commands still travel over
#     real SSH connections, but nothing runs; SFTP uploads land in a tmpfs;
#   - BIND 9, primary for moodle.bench.example, taking TSIG-signed updates;
#   - a libvirtd of its own (own mount namespace: /run/libvirt,
#     /var/lib/libvirt, /var/log/libvirt are bench directories), whose VMs'
#     NICs attach to the bridge br0 of this namespace.
#
#   bench/real-engine/services.sh up|down|uri
# `up` writes the secrets (SSH key, TSIG key) 0600 into $BENCH_DIR/secrets.
# BENCH_NS and BENCH_DIR let the fault tests run their own copy beside the
# benchmark's.
set -euo pipefail

NS=${BENCH_NS:-moodle-bench}
BENCH_DIR=${BENCH_DIR:-/var/tmp/moodle-bench}
ZONE=moodle.bench.example
KEY_NAME=bench-key
DNS_ADDR=10.29.0.53
SECRETS=$BENCH_DIR/secrets
RUN=$BENCH_DIR/run

in_ns() { ip netns exec "$NS" "$@"; }
pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

network_up() {
  ip netns list | grep -qx "$NS\( (id: [0-9]*)\)\?" || ip netns add "$NS"
  in_ns ip link set lo up
  in_ns ip route replace local 10.30.0.0/15 dev lo
  # named listens on interface addresses only, so this one is a real one.
  in_ns ip addr replace "$DNS_ADDR/32" dev lo
  in_ns ip link show br0 >/dev/null 2>&1 || in_ns ip link add br0 type bridge
  in_ns ip link set br0 up
}

secrets_up() {
  mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
  if [[ ! -f $SECRETS/sshPrivateKey ]]; then
    (umask 077 && node -e '
      const c = require("node:crypto");
      const { privateKey } = c.generateKeyPairSync("ed25519");
      process.stdout.write(privateKey.export({ format: "pem", type: "pkcs8" }));
    ' >"$SECRETS/sshPrivateKey")
  fi
  if [[ ! -f $SECRETS/dnsTsigSecret ]]; then
    (umask 077 && tsig-keygen -a hmac-sha256 "$KEY_NAME" >"$BENCH_DIR/tsig.key" &&
      sed -n 's/.*secret "\(.*\)";/\1/p' "$BENCH_DIR/tsig.key" >"$SECRETS/dnsTsigSecret")
  fi
}

sshd_up() {
  local d=$BENCH_DIR/sshd
  mkdir -p "$d" /run/sshd && chmod 700 "$d"
  [[ -f $d/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
  # The public half of the fleet's key, in authorized_keys form.
  node -e '
    const c = require("node:crypto"), fs = require("node:fs");
    const jwk = c.createPublicKey(fs.readFileSync(process.argv[1], "utf8")).export({ format: "jwk" });
    const str = (b) => { const n = Buffer.alloc(4); n.writeUInt32BE(b.length); return Buffer.concat([n, b]); };
    const blob = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(Buffer.from(jwk.x, "base64url"))]);
    process.stdout.write("ssh-ed25519 " + blob.toString("base64") + " moodle-bench\n");
  ' "$SECRETS/sshPrivateKey" >"$d/authorized_keys"
  chmod 600 "$d/authorized_keys"
  cat >"$d/sshd_config.new" <<EOF
# Written by bench/real-engine/services.sh.
Port 22
ListenAddress 0.0.0.0
HostKey $d/host_ed25519
PidFile $RUN/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The command provider opens one connection per command, many at once.
MaxStartups 1000
MaxSessions 100
# The generated script arrives as the command, its secrets on stdin: both
# are dropped here, nothing is run or kept. SFTP (the site tool's upload)
# is served, into a tmpfs of this sshd's own (below).
Subsystem sftp /usr/lib/openssh/sftp-server
ForceCommand if [ "\${SSH_ORIGINAL_COMMAND-}" = /usr/lib/openssh/sftp-server ]; then exec /usr/lib/openssh/sftp-server; fi; exec cat >/dev/null
LogLevel ERROR
EOF
  # sshd runs ForceCommand through root's shell, and bash sources ~/.bashrc
  # when sshd starts it: this machine's root profile (pyenv, cargo) would
  # then cost more CPU per command than the command provider and the engine
  # together. A VM's root has Debian's default one, so sshd gets an empty home.
  # What SFTP writes (below /var/lib/moodle-fleet on a host) lands in a
  # tmpfs that only this sshd's mount namespace sees: nothing on this machine.
  mkdir -p "$d/home" && chmod 700 "$d/home"
  # One started by an older version of this script (another configuration)
  # makes way, so that a kept benchmark's next run gets this one.
  if pid_alive "$RUN/sshd.pid" && ! cmp -s "$d/sshd_config.new" "$d/sshd_config"; then
    kill "$(cat "$RUN/sshd.pid")"
    for _ in {1..50}; do pid_alive "$RUN/sshd.pid" || break; sleep 0.1; done
  fi
  mv -f "$d/sshd_config.new" "$d/sshd_config"
  pid_alive "$RUN/sshd.pid" || in_ns unshare --mount --propagation private bash -c "
    mount --bind '$d/home' /root
    mount -t tmpfs -o size=256m,mode=0755 moodle-bench-uploads /var/lib
    exec /usr/sbin/sshd -f '$d/sshd_config' -E '$d/sshd.log'
  "
}

bind_up() {
  local d=$BENCH_DIR/bind
  mkdir -p "$d" && chmod 700 "$d"
  cp "$BENCH_DIR/tsig.key" "$d/tsig.key"
  cat >"$d/named.conf" <<EOF
// Written by bench/real-engine/services.sh.
options {
    directory "$d";
    pid-file "$RUN/named.pid";
    session-keyfile "$RUN/named.session.key";
    listen-on port 53 { $DNS_ADDR; };
    listen-on-v6 { none; };
    recursion no;
    allow-transfer { none; };
    notify no;
    dnssec-validation no;
};
controls { };
logging { channel l { file "$d/named.log" versions 2 size 5m; severity warning; }; category default { l; }; };
include "$d/tsig.key";
zone "$ZONE" {
    type primary;
    file "$ZONE.zone";
    allow-update { key "$KEY_NAME"; };
};
EOF
  [[ -f $d/$ZONE.zone ]] || cat >"$d/$ZONE.zone" <<EOF
\$ORIGIN $ZONE.
\$TTL 60
@ IN SOA ns.$ZONE. hostmaster.$ZONE. ( 1 3600 600 86400 60 )
  IN NS ns.$ZONE.
ns IN A $DNS_ADDR
EOF
  pid_alive "$RUN/named.pid" || in_ns /usr/sbin/named -u root -c "$d/named.conf"
}

# libvirtd and virtlogd from Debian's packages, in their own mount namespace
# so their state never mixes with a system libvirtd (or the lab's). That
# includes /etc/libvirt, where libvirtd keeps the persistent domains and
# pools: shared, this libvirtd would load the lab's, and `down` would delete
# the lab's volumes. It gets a copy of the configuration files alone.
libvirt_up() {
  local d=$BENCH_DIR/libvirt
  mkdir -p "$d/run" "$d/lib" "$d/log" "$d/cache" "$d/etc" "$BENCH_DIR/pools"
  pid_alive "$d/run/libvirtd.pid" && return 0
  [[ -f $d/etc/libvirtd.conf ]] || find /etc/libvirt -maxdepth 1 -type f -exec cp -p {} "$d/etc/" \;
  in_ns unshare --mount --propagation private bash -c "
    mount --bind '$d/etc' /etc/libvirt
    mount --bind '$d/run' /run/libvirt 2>/dev/null || { mkdir -p /run/libvirt && mount --bind '$d/run' /run/libvirt; }
    mkdir -p '$d/lib/qemu' '$d/lib/images' && mount --bind '$d/lib' /var/lib/libvirt
    mount --bind '$d/log' /var/log/libvirt 2>/dev/null || { mkdir -p /var/log/libvirt && mount --bind '$d/log' /var/log/libvirt; }
    mount --bind '$d/cache' /var/cache/libvirt 2>/dev/null || { mkdir -p /var/cache/libvirt && mount --bind '$d/cache' /var/cache/libvirt; }
    virtlogd -d -p /run/libvirt/virtlogd.pid
    libvirtd -d -p /run/libvirt/libvirtd.pid
  "
  for _ in $(seq 50); do [[ -S $d/run/libvirt-sock ]] && break; sleep 0.2; done
  [[ -S $d/run/libvirt-sock ]] || { echo "libvirtd did not start" >&2; exit 1; }
  # The base image the root volumes are cloned from: empty, nothing boots.
  [[ -f $BENCH_DIR/base.qcow2 ]] || qemu-img create -q -f qcow2 "$BENCH_DIR/base.qcow2" 16M
}

libvirt_uri() { echo "qemu+unix:///system?socket=$BENCH_DIR/libvirt/run/libvirt-sock"; }

down() {
  local uri
  uri=$(libvirt_uri)
  if [[ -S $BENCH_DIR/libvirt/run/libvirt-sock ]]; then
    for dom in $(virsh -c "$uri" list --all --name 2>/dev/null); do
      virsh -c "$uri" destroy "$dom" >/dev/null 2>&1 || true
      virsh -c "$uri" undefine "$dom" >/dev/null 2>&1 || true
    done
    for pool in $(virsh -c "$uri" pool-list --all --name 2>/dev/null); do
      for vol in $(virsh -c "$uri" vol-list "$pool" 2>/dev/null | awk 'NR>2 && $1 {print $1}'); do
        virsh -c "$uri" vol-delete --pool "$pool" "$vol" >/dev/null 2>&1 || true
      done
      virsh -c "$uri" pool-destroy "$pool" >/dev/null 2>&1 || true
      virsh -c "$uri" pool-undefine "$pool" >/dev/null 2>&1 || true
    done
  fi
  for p in "$BENCH_DIR/libvirt/run/libvirtd.pid" "$BENCH_DIR/libvirt/run/virtlogd.pid" "$RUN/sshd.pid" "$RUN/named.pid"; do
    pid_alive "$p" && kill "$(cat "$p")"
    rm -f "$p"
  done
  sleep 1
  ip netns list | grep -q "^$NS\b" && ip netns del "$NS"
  rm -rf "$BENCH_DIR/bind" "$BENCH_DIR/pools"
}

case ${1:-} in
  up)
    # Traversable (not listable): the VMs' qemu runs as libvirt-qemu and opens
    # their disks under pools/; the secrets below stay 0700.
    mkdir -p "$BENCH_DIR" "$RUN" && chmod 711 "$BENCH_DIR"
    network_up
    secrets_up
    sshd_up
    bind_up
    libvirt_up
    ;;
  down) down ;;
  uri) libvirt_uri ;;
  *) echo "usage: $0 up|down|uri" >&2; exit 2 ;;
esac
