# The lab's guest network: a Linux bridge inside the lab's network namespace.
# Sourced by lib.sh; run it as `lab/network.sh up|down|status`.
#
# labbr0 carries 10.77.0.1/24 and nothing else: no uplink, no NAT, no DHCP,
# no iptables and no libvirt network. Domains attach with an interface of type
# bridge and get static addresses 10.77.0.10-10.77.0.99 from cloud-init;
# whatever they send stays inside the namespace.

LAB_BRIDGE=${LAB_BRIDGE:-labbr0}
LAB_BRIDGE_ADDR=${LAB_BRIDGE_ADDR:-10.77.0.1}
LAB_BRIDGE_PREFIX=${LAB_BRIDGE_PREFIX:-24}
# Guests' static addresses come from this range (cloud-init network-config).
LAB_GUEST_FIRST=${LAB_GUEST_FIRST:-10.77.0.10}
LAB_GUEST_LAST=${LAB_GUEST_LAST:-10.77.0.99}

lab_bridge_exists() {
  ip -n "$LAB_NETNS" link show "$LAB_BRIDGE" >/dev/null 2>&1
}

# Creates the namespace if needed, then the bridge with its address. Idempotent.
lab_bridge_up() {
  lab_netns_up
  if ! lab_bridge_exists; then
    # STP off and no forwarding delay: a guest's port forwards at once.
    ip -n "$LAB_NETNS" link add "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0
  fi
  ip -n "$LAB_NETNS" addr replace "$LAB_BRIDGE_ADDR/$LAB_BRIDGE_PREFIX" dev "$LAB_BRIDGE"
  ip -n "$LAB_NETNS" link set "$LAB_BRIDGE" up
}

# Removes the bridge; domains still attached lose their network.
lab_bridge_down() {
  if ip netns list | grep -qw "^$LAB_NETNS" && lab_bridge_exists; then
    ip -n "$LAB_NETNS" link del "$LAB_BRIDGE"
  fi
}

lab_bridge_status() {
  if ip netns list | grep -qw "^$LAB_NETNS" && lab_bridge_exists; then
    ip -n "$LAB_NETNS" -br addr show dev "$LAB_BRIDGE"
    ip -n "$LAB_NETNS" -br link show master "$LAB_BRIDGE"
  else
    echo "$LAB_BRIDGE: absent"
    return 1
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  # shellcheck source=lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  lab_require_root
  case "${1:-}" in
    up) lab_bridge_up ;;
    down) lab_bridge_down ;;
    status) lab_bridge_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
fi
