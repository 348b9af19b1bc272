# The lab's DNS: BIND 9 from Debian's bind9 package, run as root inside the
# lab's network namespace, listening on the lab bridge's address port 53 only,
# primary for the lab zone and taking RFC 2136 updates signed with a TSIG key.
# Sourced by lib.sh; run it as `lab/bind.sh up|down|reset|status|keyfile|secret FILE`.
#
# State in $LAB_BIND_DIR (zone, journal, key, log); pid file in $LAB_RUN.

LAB_DNS_ZONE=${LAB_DNS_ZONE:-moodle.lab.example}
LAB_TSIG_KEY_NAME=${LAB_TSIG_KEY_NAME:-fleet-lab}
LAB_BIND_DIR=${LAB_BIND_DIR:-${LAB_STATE:-/var/lib/moodle-lab}/bind}
LAB_BIND_KEYFILE=$LAB_BIND_DIR/$LAB_TSIG_KEY_NAME.key
LAB_BIND_CONF=$LAB_BIND_DIR/named.conf
LAB_BIND_PIDFILE=${LAB_RUN:-/run/moodle-lab}/named.pid

# True when the pid file names a running named.
lab_bind_running() {
  [[ -f $LAB_BIND_PIDFILE ]] || return 1
  local pid
  pid=$(cat "$LAB_BIND_PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == named ]]
}

_lab_bind_write_config() {
  cat >"$LAB_BIND_CONF.new" <<NAMEDCONF
// Written by lab/bind.sh; rewritten on every start.
options {
    directory "$LAB_BIND_DIR";
    pid-file "$LAB_BIND_PIDFILE";
    session-keyfile "$LAB_RUN/named.session.key";
    listen-on port 53 { $LAB_BRIDGE_ADDR; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    allow-transfer { none; };
    notify no;
    dnssec-validation no;
};

controls { };

logging {
    channel lab_log {
        file "$LAB_BIND_DIR/named.log" versions 2 size 5m;
        severity info;
        print-time yes;
    };
    category default { lab_log; };
    category lame-servers { null; };
};

include "$LAB_BIND_KEYFILE";

zone "$LAB_DNS_ZONE" {
    type primary;
    file "$LAB_DNS_ZONE.zone";
    journal "$LAB_DNS_ZONE.zone.jnl";
    allow-update { key "$LAB_TSIG_KEY_NAME"; };
};
NAMEDCONF
  mv -f "$LAB_BIND_CONF.new" "$LAB_BIND_CONF"
}

_lab_bind_write_zone() {
  local zonefile=$LAB_BIND_DIR/$LAB_DNS_ZONE.zone
  [[ -f $zonefile ]] && return 0
  cat >"$zonefile" <<ZONE
\$ORIGIN $LAB_DNS_ZONE.
\$TTL 60
@   IN SOA ns.$LAB_DNS_ZONE. hostmaster.$LAB_DNS_ZONE. (
        1       ; serial
        3600    ; refresh
        600     ; retry
        86400   ; expire
        60 )    ; negative answers
    IN NS ns.$LAB_DNS_ZONE.
ns  IN A  $LAB_BRIDGE_ADDR
ZONE
}

# Starts named (bridge and namespace first). Idempotent: a running named is
# left alone. The zone and its journal survive restarts; lab_bind_reset
# starts over with an empty zone.
lab_bind_up() {
  lab_bridge_up
  mkdir -p "$LAB_BIND_DIR" "$LAB_RUN"
  chmod 0700 "$LAB_BIND_DIR"
  if [[ ! -s $LAB_BIND_KEYFILE ]]; then
    (umask 077 && tsig-keygen -a hmac-sha256 "$LAB_TSIG_KEY_NAME" >"$LAB_BIND_KEYFILE.new")
    mv -f "$LAB_BIND_KEYFILE.new" "$LAB_BIND_KEYFILE"
  fi
  chmod 0600 "$LAB_BIND_KEYFILE"
  if lab_bind_running; then
    return 0
  fi
  rm -f "$LAB_BIND_PIDFILE"
  _lab_bind_write_zone
  _lab_bind_write_config
  named-checkconf "$LAB_BIND_CONF" || lab_die "named.conf does not check: $LAB_BIND_CONF"
  named-checkzone -q "$LAB_DNS_ZONE" "$LAB_BIND_DIR/$LAB_DNS_ZONE.zone" ||
    lab_die "the zone file of $LAB_DNS_ZONE does not check"
  # No -u: named stays root, so it writes its journal in the state folder.
  lab_in_ns named -4 -c "$LAB_BIND_CONF" || lab_die "named did not start (see $LAB_BIND_DIR/named.log)"
  local i
  for i in $(seq 1 100); do
    if lab_bind_running &&
      lab_in_ns dig +short +time=1 +tries=1 "@$LAB_BRIDGE_ADDR" SOA "$LAB_DNS_ZONE" 2>/dev/null | grep -q .; then
      return 0
    fi
    sleep 0.1
  done
  lab_bind_down
  lab_die "named did not answer for $LAB_DNS_ZONE on $LAB_BRIDGE_ADDR (see $LAB_BIND_DIR/named.log)"
}

# Stops named and waits until it is gone. Idempotent.
lab_bind_down() {
  if lab_bind_running; then
    local pid i
    pid=$(cat "$LAB_BIND_PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$LAB_BIND_PIDFILE"
}

# Stops named and throws the zone (and its journal) away; the key stays.
lab_bind_reset() {
  lab_bind_down
  rm -f "$LAB_BIND_DIR/$LAB_DNS_ZONE.zone" "$LAB_BIND_DIR/$LAB_DNS_ZONE.zone.jnl"
}

# The path of the TSIG key file (named.conf syntax, as `nsupdate -k` reads it).
lab_bind_keyfile() {
  printf '%s\n' "$LAB_BIND_KEYFILE"
}

# Writes the TSIG key's secret (base64, nothing else) to FILE with mode 0600,
# for the program's configuration. The secret never goes to standard output.
lab_bind_secret_to_file() {
  local dest=${1:?usage: lab_bind_secret_to_file FILE}
  [[ -s $LAB_BIND_KEYFILE ]] || lab_die "no TSIG key yet: run lab_bind_up first"
  (
    umask 077
    sed -n 's/^[[:space:]]*secret[[:space:]]*"\([^"]*\)";.*/\1/p' "$LAB_BIND_KEYFILE" >"$dest.new"
  )
  [[ -s $dest.new ]] || { rm -f "$dest.new"; lab_die "no secret found in $LAB_BIND_KEYFILE"; }
  chmod 0600 "$dest.new"
  mv -f "$dest.new" "$dest"
}

lab_bind_status() {
  if lab_bind_running; then
    echo "named running (pid $(cat "$LAB_BIND_PIDFILE")), zone $LAB_DNS_ZONE on $LAB_BRIDGE_ADDR:53, key $LAB_BIND_KEYFILE"
  else
    echo "named not running"
    return 1
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  # shellcheck source=lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  lab_require_root
  case "${1:-}" in
    up) lab_bind_up ;;
    down) lab_bind_down ;;
    reset) lab_bind_reset ;;
    status) lab_bind_status ;;
    keyfile) lab_bind_keyfile ;;
    secret) lab_bind_secret_to_file "${2:?usage: $0 secret FILE}" ;;
    *) echo "usage: $0 up|down|reset|status|keyfile|secret FILE" >&2; exit 2 ;;
  esac
fi
