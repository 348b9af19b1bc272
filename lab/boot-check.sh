#!/usr/bin/env bash
# Boots the lab's guest image once, for real, and checks it: a throwaway
# libvirt domain (direct kernel boot, a qcow2 overlay of the cached image, a
# blank 2G data disk as vdb, a NoCloud seed ISO written by the fleet's own
# generators with a fresh SSH key and a static address on the lab bridge),
# SSH from inside the lab namespace, then cloud-init, the data disk (ext4
# labelled moodle-data at /srv), the services, Moodle's PHP extensions, the Moodle stand-in
# tarball; then (unless --no-bootstrap) the fleet's host bootstrap, twice,
# with MariaDB's data moved to /srv/mysql; (unless --no-standin) the
# stand-in's install contract through Apache and php-fpm; (with the
# bootstrap) the fleet's site install and delete commands for two sites
# (lab/boot-check-sites.ts), run by the site tool the bootstrap installed,
# secrets on standard input; and a reboot, after
# which disk, bind mount, MariaDB and the stand-in's database must be back. The domain and its files are removed
# afterwards, also when a check fails or the script is interrupted.
#
#   lab/boot-check.sh [--name NAME] [--addr IP] [--kvm] [--no-standin] [--no-bootstrap]
#                     [--keep] [--json FILE] [--image-env FILE]
#
#   --name NAME     domain name (default lab-boot-check-<pid>, or $LAB_BOOT_NAME)
#   --addr IP       the guest's static address on labbr0 (default 10.77.0.50,
#                   or $LAB_BOOT_ADDR)
#   --kvm           boot with domain type kvm; on success later lab domains may
#                   use kvm (lab_domain_type), on failure they stay on qemu/TCG
#   --no-standin    skip the stand-in install check
#   --no-bootstrap  skip the host bootstrap and the reboot
#   --keep          leave the domain running and its files in place
#   --json FILE     also write the result (JSON) to FILE
#   --image-env F   boot the image an image.env file describes instead of
#                   building or reusing the image of the current recipe
#
# Prints timings as it goes and, last, one line `BOOT_CHECK_RESULT {json}`.
# Exit status 0 only when every check passed.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LAB_DIR/lib.sh"

name=${LAB_BOOT_NAME:-lab-boot-check-$$}
addr=${LAB_BOOT_ADDR:-10.77.0.50}
domain_type=$(lab_domain_type)
try_kvm=0
check_standin=1
run_bootstrap=1
keep=0
json_out=
image_env_file=
timeout_s=${LAB_BOOT_TIMEOUT:-600}

while (($#)); do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --addr) addr=$2; shift 2 ;;
    --kvm) domain_type=kvm; try_kvm=1; shift ;;
    --no-standin) check_standin=0; shift ;;
    --no-bootstrap) run_bootstrap=0; shift ;;
    --keep) keep=1; shift ;;
    --json) json_out=$2; shift 2 ;;
    --image-env) image_env_file=$2; shift 2 ;;
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) lab_die "unknown option $1 (see --help)" ;;
  esac
done
# The name is also the guest's host name (a DNS label) and its instance id.
[[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] || lab_die "domain name '$name' is not a plain host name"
REPO_DIR=$(dirname "$LAB_DIR")
TSX=$REPO_DIR/node_modules/.bin/tsx
[[ -x $TSX ]] || lab_die "no $TSX: run npm install (or npm run setup) first"

lab_require_root

work=$LAB_STATE/boot-check/$name
key=$work/id_ed25519
ssh_opts=(-i "$key" -o StrictHostKeyChecking=accept-new -o "UserKnownHostsFile=$work/known_hosts"
  -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR)

guest_ssh() { lab_in_ns ssh "${ssh_opts[@]}" "root@$addr" "$@"; }
vsh() { virsh -q -c qemu:///system "$@"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
  local status=$?
  if ((keep)); then
    lab_log "kept: domain $name, files in $work (ssh: ip netns exec $LAB_NETNS ssh -i $key root@$addr)"
    return
  fi
  if ((status != 0)) && [[ -f $work/console.log ]]; then
    lab_log "last lines of the guest's console:"
    tail -n 40 "$work/console.log" >&2 || true
  fi
  lab_domain_remove "$name"
  rm -rf --one-file-system "$work"
}

# ---------------------------------------------------------------------------
lab_log "guest image: building or reusing the cached one"
t_image0=$(date +%s.%N)
if [[ -n $image_env_file ]]; then
  image_env=$(cat "$image_env_file")
else
  image_env=$(bash "$LAB_DIR/image/build.sh" --print-env)
fi
t_image1=$(date +%s.%N)
eval "$image_env"
image_step_s=$(elapsed "$t_image0" "$t_image1")

lab_bridge_up
lab_kvm_device_setup
lab_libvirtd_up

if vsh dominfo "$name" >/dev/null 2>&1; then
  lab_die "a domain named $name exists already"
fi
# Something answering SSH there already would be mistaken for this guest.
if lab_in_ns timeout 3 bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; then
  lab_die "$addr answers already on $LAB_BRIDGE: another guest uses it"
fi

mkdir -p "$work"
chmod 0755 "$LAB_STATE" "$LAB_STATE/boot-check" "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh key and a NoCloud seed: static address, root's authorized key.
ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$key"
mac=$(printf '52:54:00:%s' "$(printf '%s' "$name" | sha256sum | sed 's/^\(..\)\(..\)\(..\).*/\1:\2:\3/')")
# The seed and the bootstrap, as the fleet writes them for a host.
"$TSX" "$LAB_DIR/boot-check-seed.ts" --name "$name" --addr "$addr" --prefix "$LAB_BRIDGE_PREFIX" \
  --gateway "$LAB_BRIDGE_ADDR" --ssh-key "$key.pub" --standin-sha256 "${LAB_STANDIN_SHA256:-}" --out "$work/seed" ||
  lab_die "could not write the seed with infra/scripts"
genisoimage -quiet -output "$work/seed.iso" -volid cidata -joliet -rock \
  "$work/seed/user-data" "$work/seed/meta-data" "$work/seed/network-config"

qemu-img create -q -f qcow2 -F qcow2 -b "$LAB_IMAGE" "$work/root.qcow2" 8G
# The data disk, blank, as the fleet gives every host (cloud-init formats it).
qemu-img create -q -f qcow2 "$work/data.qcow2" 2G
chmod 0644 "$work/seed.iso" "$work/root.qcow2" "$work/data.qcow2"

cat >"$work/domain.xml" <<EOF
<domain type='$domain_type'>
  <name>$name</name>
  <memory unit='MiB'>2048</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>$LAB_KERNEL_CMDLINE</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$work/root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$work/data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$work/seed.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <source bridge='$LAB_BRIDGE'/>
      <mac address='$mac'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$work/console.log'/>
      <target port='0'/>
    </serial>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <memballoon model='none'/>
  </devices>
</domain>
EOF

t_define=$(date +%s.%N)
vsh define "$work/domain.xml" >/dev/null
t_start=$(date +%s.%N)
vsh start "$name" >/dev/null
lab_log "domain $name ($domain_type) defined in $(elapsed "$t_define" "$t_start") s, started in $(elapsed "$t_start" "$(date +%s.%N)") s; waiting for SSH on $addr"

# wait_ssh [BOOT_ID]: waits until SSH answers (from a boot other than BOOT_ID).
wait_ssh() {
  local old=${1:-} deadline now
  deadline=$(($(date +%s) + timeout_s))
  while (($(date +%s) < deadline)); do
    if now=$(guest_ssh cat /proc/sys/kernel/random/boot_id 2>/dev/null) && [[ $now != "$old" ]]; then
      return 0
    fi
    if [[ $(vsh domstate "$name" 2>/dev/null) != running ]]; then
      lab_log "the domain stopped before SSH answered"
      return 1
    fi
    sleep 1
  done
  return 1
}

boot_ok=0
if wait_ssh; then boot_ok=1; fi
t_ssh=$(date +%s.%N)
boot_s=$(elapsed "$t_start" "$t_ssh")
if ((!boot_ok)); then
  if ((try_kvm)); then rm -f "$LAB_STATE/kvm-boot-ok"; fi
  lab_die "no SSH on $addr after $boot_s s ($domain_type)"
fi
lab_log "SSH answered $boot_s s after start"

# ---------------------------------------------------------------------------
# Checks inside the guest; each prints KEY=value.
guest_ssh bash -s >"$work/checks.out" 2>"$work/checks.err" <<'EOF' || true
st=$(cloud-init status --wait 2>/dev/null | sed -n 's/^status: //p')
echo "cloud_init=$st"
for s in apache2 php8.2-fpm mariadb redis-server ssh; do
  echo "svc_$s=$(systemctl is-active "$s" 2>/dev/null)"
done
# Moodle's required PHP extensions, baked into the image for the CLI and php-fpm ("" = none missing).
exts="iconv mbstring curl openssl ctype zip zlib gd simplexml spl pcre dom xml xmlreader intl json hash fileinfo sodium filter mysqli redis"
echo "php_missing_cli=$(php -r 'foreach (array_slice($argv, 1) as $e) { if (!extension_loaded($e)) echo $e, " "; }' -- $exts)"
fpm_mods=$(php-fpm8.2 -m 2>/dev/null | tr 'A-Z' 'a-z')
echo "php_missing_fpm=$(for e in $exts; do grep -qx "$e" <<<"$fpm_mods" || printf '%s ' "$e"; done)"
echo "standin_sha256_file=$(cut -d' ' -f1 /opt/moodle-standin/SHA256 2>/dev/null)"
echo "standin_sha256_actual=$(sha256sum /opt/moodle-standin/moodle-standin.tgz 2>/dev/null | cut -d' ' -f1)"
echo "kernel=$(uname -r)"
echo "root_bytes=$(df -B1 --output=size / | tail -n 1 | tr -d ' ')"
echo "apt_daily=$(systemctl is-enabled apt-daily.timer 2>/dev/null)"
echo "apt_daily_upgrade=$(systemctl is-enabled apt-daily-upgrade.timer 2>/dev/null)"
echo "hostname=$(hostname)"
echo "default_route=$(ip -4 route show default | awk '{print $3; exit}')"
echo "failed_units=$(systemctl --failed --no-legend --plain | awk '{print $1}' | paste -sd, -)"
echo "data_source=$(findmnt -n -o SOURCE /srv)"
echo "data_fstype=$(findmnt -n -o FSTYPE /srv)"
echo "data_label=$(blkid -s LABEL -o value /dev/vdb)"
echo "data_bytes=$(df -B1 --output=size /srv | tail -n 1 | tr -d ' ')"
echo "data_fstab=$(grep -c '^LABEL=moodle-data /srv ext4 defaults,nofail 0 2$' /etc/fstab)"
EOF

get() { sed -n "s/^$1=//p" "$work/checks.out" | head -n 1; }

failures=()
expect() { # KEY EXPECTED
  local got
  got=$(get "$1")
  if [[ $got != "$2" ]]; then failures+=("$1: expected '$2', got '$got'"); fi
}
expect cloud_init done
for s in apache2 php8.2-fpm mariadb redis-server ssh; do expect "svc_$s" active; done
expect php_missing_cli ""
expect php_missing_fpm ""
expect standin_sha256_actual "${LAB_STANDIN_SHA256:-}"
expect standin_sha256_file "${LAB_STANDIN_SHA256:-}"
expect kernel "$LAB_KERNEL_VERSION"
expect default_route "$LAB_BRIDGE_ADDR"
expect hostname "$name"
expect apt_daily masked
expect apt_daily_upgrade masked
expect data_source /dev/vdb
expect data_fstype ext4
expect data_label moodle-data
expect data_fstab 1
if [[ $(get cloud_init) != done ]]; then
  guest_ssh 'cloud-init status --long; grep -E "WARNING|ERROR|Traceback" /var/log/cloud-init.log | tail -n 20' >&2 || true
fi

# ---------------------------------------------------------------------------
# The fleet's host bootstrap, as Pulumi's remote command runs it (the script
# as the SSH command, nothing on stdin), twice: the second run must change
# nothing. MariaDB's data must then live on the data disk.
bootstrap_json='null'
bootstrap_s=0
bootstrap2_s=0
# bootstrap_run N: runs the bootstrap, output in $work/bootstrapN.{out,err}; prints its exit status.
bootstrap_run() {
  local rc=0
  guest_ssh "$(cat "$work/seed/bootstrap.sh")" </dev/null >"$work/bootstrap$1.out" 2>"$work/bootstrap$1.err" || rc=$?
  echo "$rc"
}
mysql_checks() {
  guest_ssh bash -s <<'EOF' || true
echo "mysql_source=$(findmnt -n -o SOURCE /var/lib/mysql)"
echo "mysql_fstab=$(grep -c '^/srv/mysql /var/lib/mysql none bind,nofail,x-systemd.requires-mounts-for=/srv 0 0$' /etc/fstab)"
echo "mysql_owner=$(stat -c %U:%G /srv/mysql)"
echo "mysql_unit_requires=$(systemctl show -p RequiresMountsFor --value mariadb)"
echo "mariadb=$(systemctl is-active mariadb)"
echo "mariadb_answers=$(mariadb -N -B -e 'SELECT 1' 2>/dev/null)"
echo "release=$([ -f /srv/moodle/release/.release-id ] && echo yes || echo no)"
EOF
}
if ((run_bootstrap)); then
  # The site tool's folder where the host's site-tool step (SFTP) puts it.
  upload=$(cat "$work/seed/site-tool-upload")
  tar -C "$(cat "$work/seed/site-tool-source")" -cf - . | guest_ssh "mkdir -p -- '$upload' && tar -C '$upload' -xf -" ||
    lab_die "could not copy the site tool to the guest"
  t0=$(date +%s.%N)
  rc1=$(bootstrap_run 1)
  t1=$(date +%s.%N)
  rc2=$(bootstrap_run 2)
  t2=$(date +%s.%N)
  bootstrap_s=$(elapsed "$t0" "$t1")
  bootstrap2_s=$(elapsed "$t1" "$t2")
  lab_log "host bootstrap: $bootstrap_s s (exit $rc1), again $bootstrap2_s s (exit $rc2)"
  {
    echo "rc=$rc1"
    echo "rc_again=$rc2"
    if grep -q "moving MariaDB's data" "$work/bootstrap1.err"; then echo "moved=yes"; else echo "moved=no"; fi
    if grep -q "already on the data disk" "$work/bootstrap2.err" && ! grep -q "moving MariaDB's data" "$work/bootstrap2.err" &&
      grep -q "release up to date" "$work/bootstrap2.err"; then echo "again_quiet=yes"; else echo "again_quiet=no"; fi
    mysql_checks
  } >"$work/bootstrap.out"
  bget() { sed -n "s/^$1=//p" "$work/bootstrap.out" | head -n 1; }
  bexpect() {
    local got
    got=$(bget "$1")
    if [[ $got != "$2" ]]; then failures+=("bootstrap $1: expected '$2', got '$got'"); fi
  }
  bexpect rc 0
  bexpect rc_again 0
  bexpect moved yes
  bexpect again_quiet yes
  bexpect mysql_source '/dev/vdb[/mysql]'
  bexpect mysql_fstab 1
  bexpect mysql_owner mysql:mysql
  bexpect mysql_unit_requires /var/lib/mysql
  bexpect mariadb active
  bexpect mariadb_answers 1
  bexpect release yes
  if [[ $(bget rc) != 0 || $(bget rc_again) != 0 ]]; then
    lab_log "bootstrap output:"
    tail -n 30 "$work/bootstrap1.err" "$work/bootstrap2.err" >&2 || true
  fi
fi

# ---------------------------------------------------------------------------
# The stand-in's contract: a release with its config.php, a database, a vhost.
standin_json='null'
if ((check_standin)); then
  guest_ssh bash -s >"$work/standin.out" 2>"$work/standin.err" <<'EOF' || true
set -u
rel=/srv/moodle/release-check
# As Moodle, the stand-in reads config.php from its own root only: the
# check's site is the unpacked release itself.
site=$rel/moodle
data=/var/moodledata/check
mkdir -p "$rel" "$site" "$data"
tar -xzf /opt/moodle-standin/moodle-standin.tgz -C "$rel"
chown www-data:www-data "$data"
pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
mariadb -e "CREATE DATABASE checkdb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
  CREATE USER 'checkuser'@'localhost' IDENTIFIED BY '$pw';
  GRANT ALL ON checkdb.* TO 'checkuser'@'localhost';"
cat >"$site/config.php" <<CONF
<?php
unset(\$CFG);
global \$CFG;
\$CFG = new stdClass();
\$CFG->dbtype = 'mariadb';
\$CFG->dblibrary = 'native';
\$CFG->dbhost = 'localhost';
\$CFG->dbname = 'checkdb';
\$CFG->dbuser = 'checkuser';
\$CFG->dbpass = '$pw';
\$CFG->prefix = 'mdl_';
\$CFG->wwwroot = 'http://check.moodle.lab.example';
\$CFG->dataroot = '$data';
require_once(__DIR__ . '/lib/setup.php');
CONF
chmod 0640 "$site/config.php"; chgrp www-data "$site/config.php"
cat >/etc/apache2/sites-available/check.conf <<CONF
<VirtualHost *:80>
    ServerName check.moodle.lab.example
    DocumentRoot $site
    <Directory $site>
        Options FollowSymLinks
        Require all granted
    </Directory>
</VirtualHost>
CONF
a2ensite -q check >/dev/null && systemctl reload apache2
code() { curl -s -o /tmp/check.html -w '%{http_code}' -H 'Host: check.moodle.lab.example' http://127.0.0.1/; }
echo "http_before=$(code)"
# max_input_vars as the host bootstrap sets it (also without --no-bootstrap's bootstrap run).
cli() { runuser -u www-data -- php -d max_input_vars=5000 "$site/admin/cli/$1" "${@:2}" >/dev/null 2>&1; echo $?; }
name='Check <School> & "Friends"'
echo "install_nolicense=$(cli install_database.php --adminpass=Secret-1 --fullname="$name" --shortname=check)"
echo "install=$(cli install_database.php --agree-license --adminuser=admin --adminpass=Secret-1 \
  --adminemail=admin@check.moodle.lab.example --fullname="$name" --shortname=check)"
echo "install_again=$(cli install_database.php --agree-license --adminpass=Secret-1 --fullname="$name" --shortname=check)"
echo "cron=$(cli cron.php)"
q() { mariadb -N -B checkdb -e "$1"; }
echo "rolesactive=$(q "SELECT value FROM mdl_config WHERE name='rolesactive'")"
echo "lastcron_set=$([[ -n $(q "SELECT value FROM mdl_config WHERE name='lastcron'") ]] && echo yes || echo no)"
echo "admin_hash_ok=$(php -r 'echo password_verify("Secret-1", $argv[1]) ? "yes" : "no";' "$(q "SELECT password FROM mdl_user WHERE username='admin'")")"
echo "http_after=$(code)"
if grep -qF 'Check &lt;School&gt; &amp; &quot;Friends&quot;' /tmp/check.html; then echo "fullname_escaped=yes"; else echo "fullname_escaped=no"; fi
EOF
  sget() { sed -n "s/^$1=//p" "$work/standin.out" | head -n 1; }
  sexpect() {
    local got
    got=$(sget "$1")
    if [[ $got != "$2" ]]; then failures+=("standin $1: expected '$2', got '$got'"); fi
  }
  sexpect http_before 503
  sexpect install_nolicense 1
  sexpect install 0
  sexpect install_again 1
  sexpect cron 0
  sexpect rolesactive 1
  sexpect lastcron_set yes
  sexpect admin_hash_ok yes
  sexpect http_after 200
  sexpect fullname_escaped yes
  standin_json=$(sed -n 's/^\([a-z_]*\)=\(.*\)$/"\1":"\2"/p' "$work/standin.out" | paste -sd, -)
  standin_json="{$standin_json}"
fi

# ---------------------------------------------------------------------------
# The fleet's site commands, as the program generates them for two planned
# sites of this host (the second with a hostile name): one line each of the
# site tool the bootstrap installed (content-addressed, linked as
# /usr/local/sbin/moodle-fleet-site), run as Pulumi's remote command runs
# them. Site 1 gets the passwords an older stack had on standard input; the
# host makes site 2's. Then: both sites serve their names, each install
# printed the admin password (site 1's the stack's), which verifies against
# Moodle's user table, nothing in a name was executed, a second install
# changes nothing and prints the same password, a site whose database was
# dropped is repaired by the install, and the delete (by school id) archives
# a site and removes it.
sites_json='null'
if ((run_bootstrap)); then
  sites_dir=$work/sites
  "$TSX" "$LAB_DIR/boot-check-sites.ts" --host "$name" --out "$sites_dir" ||
    lab_die "could not write the site commands with infra/scripts"
  # shellcheck source=/dev/null
  source "$sites_dir/sites.env"
  t_sites0=$(date +%s.%N)
  # site_remote: runs the shell on stdin in the guest, after sites.env.
  site_remote() { { cat "$sites_dir/sites.env"; cat; } | guest_ssh bash -s 2>>"$sites_dir/remote.err" || true; }
  # site_run N install|delete [STDIN]: runs the site's command; prints its exit status.
  site_run() {
    local rc=0
    guest_ssh "$(cat "$sites_dir/site-$1-$2.cmd")" <"${3:-/dev/null}" >>"$sites_dir/site-$1-$2.out" 2>>"$sites_dir/site-$1-$2.err" || rc=$?
    echo "$rc"
  }
  serve_checks() { # PREFIX N...: HTTP status and name on the page, per site
    local prefix=$1; shift
    site_remote <<EOF
for n in $*; do
  fqdn_var=SITE_\${n}_FQDN; name_var=SITE_\${n}_NAME_HTML
  code=\$(curl -s -o /tmp/site-\$n.html -w '%{http_code}' -H "Host: \${!fqdn_var}" http://127.0.0.1/)
  echo "${prefix}http_\$n=\$code"
  if grep -qF -- "\${!name_var}" /tmp/site-\$n.html; then echo "${prefix}name_\$n=yes"; else echo "${prefix}name_\$n=no"; fi
done
EOF
  }
  admin_check() { # N: the admin password site N's install printed against the hash in mdl_user
    local db_var=SITE_$1_DB
    guest_ssh "h=\$(mariadb -N -B ${!db_var} -e \"SELECT password FROM mdl_user WHERE username='admin'\"); \
php -r '\$p = rtrim((string)fgets(STDIN), \"\\n\"); echo password_verify(\$p, \$argv[1]) ? \"yes\" : \"no\";' \"\$h\"" \
      <"$sites_dir/site-$1.printed" 2>>"$sites_dir/remote.err" || true
  }
  printed_admin() { # N: whether site N's installs printed an admin password; the last one goes to site-N.printed (0600)
    local line password=""
    while IFS= read -r line; do
      if [[ $line == "admin-password: "?* ]]; then password=${line#admin-password: }; fi
    done <"$sites_dir/site-$1-install.out"
    if [ -z "$password" ]; then
      echo no
      return
    fi
    (umask 077 && printf '%s\n' "$password" >"$sites_dir/site-$1.printed")
    echo yes
  }
  same_file() { cmp -s "$1" "$2" && echo yes || echo no; }
  marker() { # N: the marker's content and time
    site_remote <<EOF
m=SITE_$1_MARKER; stat -c '%Y.%s' "\${!m}" 2>/dev/null && sha256sum <"\${!m}" 2>/dev/null | cut -c1-16
EOF
  }
  {
    # The tool: root's alone, in a directory named by its digest.
    echo "script_mode=$(guest_ssh 'stat -L -c %a /usr/local/sbin/moodle-fleet-site')"
    echo "tool_content_addressed=$(guest_ssh 'readlink -f /usr/local/sbin/moodle-fleet-site' |
      grep -qE '^/usr/local/lib/moodle-fleet/site-tool/[0-9a-f]{64}/moodle-fleet-site$' && echo yes || echo no)"
    echo "install_1=$(site_run 1 install "$sites_dir/site-1.stdin")"
    echo "install_2=$(site_run 2 install)"
    serve_checks "" 1 2
    echo "printed_admin_1=$(printed_admin 1)"
    echo "printed_stack_admin_1=$(same_file "$sites_dir/site-1.printed" "$sites_dir/site-1.admin")"
    echo "printed_admin_2=$(printed_admin 2)"
    cp -p "$sites_dir/site-2.printed" "$sites_dir/site-2.printed-first" 2>/dev/null || true
    echo "admin_1=$(admin_check 1)"
    echo "admin_2=$(admin_check 2)"
    echo "pwned=$(guest_ssh 'test -e /tmp/PWNED && echo yes || echo no')"
    m_before=$(marker 2)
    echo "install_again_2=$(site_run 2 install)"
    m_after=$(marker 2)
    printed_admin 2 >/dev/null
    echo "printed_again_same_2=$(same_file "$sites_dir/site-2.printed" "$sites_dir/site-2.printed-first")"
    if [[ -n $m_before && $m_before == "$m_after" ]]; then echo "marker_unchanged=yes"; else echo "marker_unchanged=no"; fi
    echo "installer_runs_2=$(grep -c "running Moodle's installer" "$sites_dir/site-2-install.err" || true)"
    serve_checks again_ 2
    # Broken on purpose: the database is gone, the configuration stays.
    site_remote <<'EOF'
mariadb -e "DROP DATABASE \`$SITE_1_DB\`"
echo "broken_config_kept=$([ -f "$SITE_1_ROOT/site-config.php" ] && [ -f "$SITE_1_MARKER" ] && echo yes || echo no)"
EOF
    serve_checks broken_ 1
    echo "repair_1=$(site_run 1 install "$sites_dir/site-1.stdin")"
    serve_checks repaired_ 1
    printed_admin 1 >/dev/null
    echo "repaired_printed_stack_admin_1=$(same_file "$sites_dir/site-1.printed" "$sites_dir/site-1.admin")"
    echo "repaired_admin_1=$(admin_check 1)"
    # Archive and remove the hostile site; the other one keeps serving.
    echo "delete_2=$(site_run 2 delete)"
    site_remote <<'EOF'
echo "deleted_spec=$([ ! -e "/etc/moodle-fleet/sites/$SITE_2_ID.env" ] && echo yes || echo no)"
shopt -s nullglob
archives=("$SITE_2_ARCHIVE_DIR/$SITE_2_ID"-*.tar.gz)
echo "archives=${#archives[@]}"
if ((${#archives[@]} == 1)); then
  a=${archives[0]}
  echo "archive_mode=$(stat -c %a "$a")"
  echo "archive_dir_mode=$(stat -c %a "$SITE_2_ARCHIVE_DIR")"
  list=$(tar -tzf "$a")
  echo "archive_sql=$(grep -qx database.sql <<<"$list" && echo yes || echo no)"
  echo "archive_sql_has_course=$(tar -xzOf "$a" database.sql | grep -q 'CREATE TABLE `mdl_course`' && echo yes || echo no)"
  echo "archive_config=$(grep -qx site-config.php <<<"$list" && echo yes || echo no)"
fi
pools=(/etc/php/*/fpm/pool.d/"$SITE_2_SLUG.conf")
echo "deleted_pool=$(((${#pools[@]} == 0)) && echo yes || echo no)"
echo "deleted_vhost=$([ ! -e "/etc/apache2/sites-available/$SITE_2_SLUG.conf" ] && [ ! -e "/etc/apache2/sites-enabled/$SITE_2_SLUG.conf" ] && echo yes || echo no)"
echo "deleted_db=$([ "$(mariadb -N -B -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$SITE_2_DB'")" = 0 ] && echo yes || echo no)"
echo "deleted_db_user=$([ "$(mariadb -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE User='$SITE_2_DB_USER'")" = 0 ] && echo yes || echo no)"
echo "deleted_user=$(getent passwd "$SITE_2_USER" >/dev/null && echo no || echo yes)"
echo "deleted_files=$([ ! -e "$SITE_2_DATA" ] && [ ! -e "$SITE_2_ROOT" ] && echo yes || echo no)"
echo "deleted_cron=$([ ! -e "/etc/cron.d/$SITE_2_SLUG" ] && echo yes || echo no)"
echo "deleted_gone_http=$(curl -s -H "Host: $SITE_2_FQDN" http://127.0.0.1/ | grep -qF -- "$SITE_2_NAME_HTML" && echo no || echo yes)"
EOF
    serve_checks after_delete_ 1
    echo "pwned_end=$(guest_ssh 'test -e /tmp/PWNED && echo yes || echo no')"
  } >"$sites_dir/sites.out" 2>>"$sites_dir/remote.err"
  sites_s=$(elapsed "$t_sites0" "$(date +%s.%N)")
  lab_log "site commands: $sites_s s"
  xget() { sed -n "s/^$1=//p" "$sites_dir/sites.out" | head -n 1; }
  xexpect() {
    local got
    got=$(xget "$1")
    if [[ $got != "$2" ]]; then failures+=("sites $1: expected '$2', got '$got'"); fi
  }
  for kv in script_mode=700 tool_content_addressed=yes deleted_spec=yes install_1=0 install_2=0 http_1=200 http_2=200 name_1=yes name_2=yes \
    printed_admin_1=yes printed_stack_admin_1=yes printed_admin_2=yes printed_again_same_2=yes admin_1=yes admin_2=yes \
    pwned=no install_again_2=0 marker_unchanged=yes installer_runs_2=1 again_http_2=200 again_name_2=yes \
    broken_config_kept=yes broken_http_1=503 broken_name_1=no repair_1=0 repaired_http_1=200 repaired_name_1=yes \
    repaired_printed_stack_admin_1=yes repaired_admin_1=yes delete_2=0 archives=1 archive_mode=600 archive_dir_mode=700 archive_sql=yes \
    archive_sql_has_course=yes archive_config=yes deleted_pool=yes deleted_vhost=yes deleted_db=yes deleted_db_user=yes \
    deleted_user=yes deleted_files=yes deleted_cron=yes deleted_gone_http=yes after_delete_http_1=200 \
    after_delete_name_1=yes pwned_end=no; do
    xexpect "${kv%%=*}" "${kv#*=}"
  done
  if grep -q '^install_[12]=[^0]\|^repair_1=[^0]\|^delete_2=[^0]' "$sites_dir/sites.out"; then
    lab_log "site command output:"
    tail -n 20 "$sites_dir"/site-*.err "$sites_dir/remote.err" >&2 || true
  fi
  sites_json="{$(sed -n 's/^\([a-z_0-9]*\)=\(.*\)$/"\1":"\2"/p' "$sites_dir/sites.out" | paste -sd, -),\"seconds\":$sites_s}"
fi

# ---------------------------------------------------------------------------
# A reboot: systemd must mount the data disk by label, then the bind mount,
# then start MariaDB on it; the bootcmd must find nothing to do; the data
# (the stand-in's database) must still be there; the bootstrap changes nothing.
reboot_s=0
if ((run_bootstrap)); then
  old_boot=$(guest_ssh cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)
  t0=$(date +%s.%N)
  guest_ssh systemctl reboot >/dev/null 2>&1 || true
  if wait_ssh "$old_boot"; then
    reboot_s=$(elapsed "$t0" "$(date +%s.%N)")
    lab_log "SSH answered again $reboot_s s after the reboot"
    {
      guest_ssh bash -s <<'EOF' || true
st=$(cloud-init status --wait 2>/dev/null | sed -n 's/^status: //p')
echo "cloud_init=$st"
echo "data_source=$(findmnt -n -o SOURCE /srv)"
echo "checkdb=$([ -d /srv/mysql/checkdb ] && echo yes || echo no)"
echo "rolesactive=$(mariadb -N -B checkdb -e "SELECT value FROM mdl_config WHERE name='rolesactive'" 2>/dev/null)"
echo "mysql_after_srv=$(systemctl show -p After --value var-lib-mysql.mount | tr ' ' '\n' | grep -qx srv.mount && echo yes || echo no)"
EOF
      mysql_checks
      echo "rc_after_reboot=$(bootstrap_run 3)"
      if grep -q "already on the data disk" "$work/bootstrap3.err" && ! grep -q "moving MariaDB's data" "$work/bootstrap3.err"; then
        echo "quiet_after_reboot=yes"
      else
        echo "quiet_after_reboot=no"
      fi
    } >"$work/reboot.out"
  else
    failures+=("reboot: no SSH after $timeout_s s")
    : >"$work/reboot.out"
  fi
  rget() { sed -n "s/^$1=//p" "$work/reboot.out" | head -n 1; }
  rexpect() {
    local got
    got=$(rget "$1")
    if [[ $got != "$2" ]]; then failures+=("after reboot $1: expected '$2', got '$got'"); fi
  }
  rexpect cloud_init done
  rexpect data_source /dev/vdb
  rexpect mysql_source '/dev/vdb[/mysql]'
  rexpect mysql_after_srv yes
  rexpect mariadb active
  rexpect mariadb_answers 1
  rexpect rc_after_reboot 0
  rexpect quiet_after_reboot yes
  if ((check_standin)); then
    rexpect checkdb yes
    rexpect rolesactive 1
  fi
  kv_json() { sed -n 's/^\([a-z_0-9]*\)=\(.*\)$/"\1":"\2"/p' "$1" | paste -sd, -; }
  bootstrap_json="{$(kv_json "$work/bootstrap.out"),\"seconds\":$bootstrap_s,\"againSeconds\":$bootstrap2_s,\
\"rebootSeconds\":$reboot_s,\"afterReboot\":{$(kv_json "$work/reboot.out")}}"
fi

if ((try_kvm)); then
  if ((${#failures[@]} == 0)); then touch "$LAB_STATE/kvm-boot-ok"; else rm -f "$LAB_STATE/kvm-boot-ok"; fi
fi

# ---------------------------------------------------------------------------
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
failures_json=$(for f in "${failures[@]}"; do json_str "$f"; echo; done | paste -sd, -)
result=$(cat <<EOF
{"ok":$( ((${#failures[@]} == 0)) && echo true || echo false ),"domain":$(json_str "$name"),"domainType":$(json_str "$domain_type"),\
"imageHash":$(json_str "$LAB_IMAGE_HASH"),"image":$(json_str "$LAB_IMAGE"),"imageBytes":$(stat -c %s "$LAB_IMAGE"),\
"imageBuildSeconds":$LAB_IMAGE_BUILD_SECONDS,"imageStepSeconds":$image_step_s,"bootToSshSeconds":$boot_s,\
"cloudInit":$(json_str "$(get cloud_init)"),"services":{"apache2":$(json_str "$(get svc_apache2)"),\
"php8.2-fpm":$(json_str "$(get svc_php8.2-fpm)"),"mariadb":$(json_str "$(get svc_mariadb)"),\
"redis-server":$(json_str "$(get svc_redis-server)")},"phpMissing":$(json_str "$(get php_missing_cli)$(get php_missing_fpm)"),\
"standinSha256":$(json_str "$(get standin_sha256_actual)"),"expectedStandinSha256":$(json_str "${LAB_STANDIN_SHA256:-}"),\
"rootBytes":$(root_bytes=$(get root_bytes); echo "${root_bytes:-0}"),"failedUnits":$(json_str "$(get failed_units)"),\
"dataDisk":{"source":$(json_str "$(get data_source)"),"fstype":$(json_str "$(get data_fstype)"),"label":$(json_str "$(get data_label)"),\
"bytes":$(data_bytes=$(get data_bytes); echo "${data_bytes:-0}"),"fstabEntries":$(json_str "$(get data_fstab)")},\
"bootstrap":$bootstrap_json,"standin":$standin_json,"sites":$sites_json,"failures":[${failures_json}]}
EOF
)
[[ -n $json_out ]] && printf '%s\n' "$result" >"$json_out"
printf 'BOOT_CHECK_RESULT %s\n' "$result"
if ((${#failures[@]})); then
  printf '[lab] check failed: %s\n' "${failures[@]}" >&2
  exit 1
fi
lab_log "all checks passed (image step $image_step_s s, boot to SSH $boot_s s)"
