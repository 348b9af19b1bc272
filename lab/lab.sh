#!/usr/bin/env bash
# The local lab: one real hypervisor, a DNS server and a sample fleet on this
# machine, all inside the network namespace moodle-lab.
#
#   npm run lab            bring everything up and `fleet up` the lab fleet
#   npm run lab -- down    destroy the fleet, stop every service, remove the namespace
#   npm run lab -- env     shell exports for running pulumi and dig by hand
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source lab/lib.sh

LAB_DIR="$ROOT/.lab"
SECRETS="$LAB_DIR/secrets"
CREDENTIALS="$LAB_DIR/credentials.json"
LAB_INPUTS=(--schools schools/lab/schools.csv --ledger schools/lab/placement.csv)

lab_env_exports() {
  cat <<EOF
export LAB_NETNS=$LAB_NETNS
export LAB_DNS_SERVER=10.77.0.1
export PULUMI_BACKEND_URL=file://$ROOT/.state/lab
export PULUMI_CONFIG_PASSPHRASE_FILE=$ROOT/.state/lab.passphrase
export PULUMI_HOME=$ROOT/.toolchain/pulumi-home
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
export PATH=$ROOT/.toolchain/bin:\$PATH
# e.g.: ip netns exec \$LAB_NETNS dig @\$LAB_DNS_SERVER +short 04190001.moodle.lab.example
#       pulumi stack ls
EOF
}

# Generated once, kept in 0600 files under the ignored .lab/: an SSH key for
# the VMs and the TSIG secret of the lab's BIND.
lab_secrets() {
  (umask 077 && mkdir -p "$SECRETS" "$LAB_DIR/ssh")
  if [[ ! -f $LAB_DIR/ssh/id_ed25519 ]]; then
    ssh-keygen -q -t ed25519 -N '' -C moodle-fleet-lab -f "$LAB_DIR/ssh/id_ed25519"
  fi
  install -m 0600 "$LAB_DIR/ssh/id_ed25519" "$SECRETS/sshPrivateKey"
  lab_bind_secret_to_file "$SECRETS/dnsTsigSecret"
}

# The fleet command inside the lab namespace, on the lab's environment.
lab_fleet_cmd() {
  lab_in_ns env PATH="$PATH" "$ROOT/bin/fleet" "$@" --env lab
}

# Driver commands take the lab's school list and its generated secrets.
lab_fleet() {
  lab_fleet_cmd "$@" "${LAB_INPUTS[@]}" --secrets-dir "$SECRETS"
}

lab_up() {
  lab_require_root
  local t0=$SECONDS
  bash toolchain/debian-packages.sh
  bash toolchain/setup.sh
  source .toolchain/env.sh
  lab_netns_up
  lab_bridge_up
  lab_libvirtd_up
  lab_bind_up
  local image_env standin_sha256
  image_env=$(bash lab/image/build.sh --print-env)
  lab_log "guest image: $(sed -n 's/^LAB_IMAGE=//p' <<<"$image_env")"
  # The image carries the stand-in as the lab's Moodle release; the committed
  # config pins its digest, as production pins a real release's.
  standin_sha256=$(sed -n 's/^LAB_STANDIN_SHA256=//p' <<<"$image_env")
  grep -q "sha256: $standin_sha256\$" Pulumi.lab.yaml ||
    lab_die "the Moodle stand-in changed (lab/moodle-standin): set moodle-fleet:moodle release.tarball.sha256 in Pulumi.lab.yaml to $standin_sha256"
  lab_secrets
  # (Its warnings about unset secrets do not apply: the lab's are in $SECRETS.)
  local report
  report=$("$ROOT/bin/fleet" validate --stack lab "${LAB_INPUTS[@]}" 2>&1) || { printf '%s\n' "$report" >&2; exit 1; }
  local fleet_t0=$SECONDS
  lab_fleet up
  lab_fleet_cmd outputs --out "$CREDENTIALS" --show-secrets
  chmod 0600 "$CREDENTIALS"
  lab_log "fleet converged in $((SECONDS - fleet_t0)) s"
  # The summary: every site checked from inside the lab (DNS at the lab's
  # BIND, front page over HTTP); a failing site fails the lab run.
  lab_fleet_cmd check "${LAB_INPUTS[@]}"
  lab_log "credentials (admin passwords): $CREDENTIALS (mode 0600)"
  lab_log "shell setup for pulumi and dig: npm run lab -- env"
  lab_log "done in $((SECONDS - t0)) s"
}

lab_down() {
  lab_require_root
  if [[ -x .toolchain/bin/pulumi && -d .state/lab ]] && lab_in_ns true 2>/dev/null; then
    source .toolchain/env.sh
    lab_fleet destroy --yes-destroy lab || lab_log "destroy reported errors; removing what is left by hand"
  fi
  # Whatever a failed destroy left: domains and the pool of the lab.
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    local d
    for d in $(virsh -c qemu:///system list --all --name | grep '^lab01-' || true); do lab_domain_remove "$d"; done
    if virsh -c qemu:///system pool-info moodle-lab >/dev/null 2>&1; then
      for v in $(virsh -c qemu:///system vol-list moodle-lab | awk 'NR>2 && $1 {print $1}'); do
        virsh -c qemu:///system vol-delete --pool moodle-lab "$v" >/dev/null
      done
      virsh -c qemu:///system pool-destroy moodle-lab >/dev/null 2>&1 || true
      virsh -c qemu:///system pool-undefine moodle-lab >/dev/null
    fi
  fi
  # The zone goes too: no record of the lab survives it.
  lab_bind_reset
  lab_libvirtd_down
  lab_bridge_down
  lab_netns_down
  rm -f "$CREDENTIALS"
  lab_log "lab is down: no VM, pool, DNS server, namespace or lab process left"
}

case "${1:-up}" in
  up) lab_up ;;
  down) lab_down ;;
  env) lab_env_exports ;;
  *) lab_die "usage: npm run lab [-- up|down|env]" ;;
esac
