/**
 * The host's data disk: the VM's second disk (vdb), which holds the sites'
 * files and MariaDB's databases, so that none of them fills the root disk.
 *
 * - cloud-init, at every boot (bootcmd, before anything else runs): formats
 *   the disk as ext4 labelled `moodle-data` when it is blank, enters it in
 *   /etc/fstab by label and mounts it (default at /srv). A disk that carries
 *   anything else is left untouched, and cloud-init reports an error.
 * - the host bootstrap: refuses to run without the disk mounted, and moves
 *   MariaDB's datadir onto it once, bind-mounted over /var/lib/mysql.
 *
 * cloud-init's own fs_setup and mounts modules are not used: in the version
 * Debian 12 ships (22.4), mounts drops `LABEL=` entries (it only accepts
 * device paths) and fs_setup either reformats a raw disk on every new
 * instance (`partition: none`) or decides from lsblk alone (`auto`).
 */
import { heredoc } from "./quote";
import type { HostScriptInput, SystemPaths } from "./types";

/** The data disk as the guest sees it: the domain's second virtio disk. */
export const DATA_DISK_DEVICE = "/dev/vdb";
/** File system label of the data disk; fstab mounts it by this label. */
export const DATA_DISK_LABEL = "moodle-data";
export const DEFAULT_DATA_MOUNT = "/srv";

/** Where the host's data disk is mounted, or null for a host without one. */
export function dataMountOf(host: Pick<HostScriptInput, "dataMount">): string | null {
  return host.dataMount === undefined ? DEFAULT_DATA_MOUNT : host.dataMount;
}

/** MariaDB's datadir on the data disk. */
export function dataMysqlDir(dataMount: string): string {
  return `${dataMount}/mysql`;
}

/** The fstab line of the data disk. nofail: a missing disk must not stop the boot (SSH stays reachable). */
export function dataDiskFstabLine(dataMount: string, label = DATA_DISK_LABEL): string {
  return `LABEL=${label} ${dataMount} ext4 defaults,nofail 0 2`;
}

/**
 * The fstab line that bind-mounts MariaDB's data from the data disk. systemd
 * orders it after the data disk's mount; nofail keeps a missing disk from
 * sending the boot into emergency mode, and MariaDB's drop-in
 * ({@link mariadbDropIn}) keeps MariaDB down instead.
 */
export function mysqlBindFstabLine(dataMount: string, mysqlDataDir: string): string {
  return `${dataMysqlDir(dataMount)} ${mysqlDataDir} none bind,nofail,x-systemd.requires-mounts-for=${dataMount} 0 0`;
}

/** systemd drop-in of mariadb.service: no start without its datadir's mount. */
export function mariadbDropIn(mysqlDataDir: string): string {
  return `# Written by moodle-fleet. MariaDB's data lives on the data disk, bind-mounted
# here by /etc/fstab: without that mount, MariaDB must not start (it would
# start on the stale copy on the root disk).
[Unit]
RequiresMountsFor=${mysqlDataDir}
`;
}

/**
 * POSIX sh run by cloud-init's bootcmd as `sh -c SCRIPT NAME DEVICE LABEL
 * MOUNTPOINT FSTAB`; every value arrives as a positional parameter. Safe to
 * run at every boot: it formats only a blank disk (blkid finds no file
 * system or partition table, and its first MiB is all zeros), and a disk
 * with the wrong file system or label is left alone and reported.
 */
export const DATA_DISK_SCRIPT = `set -eu
dev=$1 label=$2 mnt=$3 fstab=$4
say() { printf 'moodle-fleet data disk: %s\\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }
[ -e "$dev" ] || fail "$dev does not exist: no data disk attached"
rc=0
blkid -p "$dev" >/dev/null 2>&1 || rc=$?
case $rc in
  2)
    cmp -s -n 1048576 "$dev" /dev/zero || fail "$dev has no known file system but holds data: not formatting it"
    say "formatting the blank $dev as ext4, label $label"
    mkfs.ext4 -q -L "$label" "$dev" </dev/null
    if command -v udevadm >/dev/null 2>&1; then udevadm settle || true; fi
    ;;
  0)
    type=$(blkid -p -o value -s TYPE "$dev" 2>/dev/null || true)
    found=$(blkid -p -o value -s LABEL "$dev" 2>/dev/null || true)
    [ "$type" = ext4 ] && [ "$found" = "$label" ] ||
      fail "$dev holds '$type' labelled '$found' (or a partition table), not ext4 labelled $label: left as it is"
    ;;
  *) fail "blkid could not probe $dev (exit status $rc): left as it is" ;;
esac
changed=0
if ! awk -v s="LABEL=$label" -v m="$mnt" '$1 == s && $2 == m { f = 1 } END { exit !f }' "$fstab"; then
  if awk -v m="$mnt" '$1 !~ /^#/ && $2 == m { f = 1 } END { exit !f }' "$fstab"; then
    fail "$fstab mounts something else on $mnt: left as it is"
  fi
  if [ -s "$fstab" ] && [ -n "$(tail -c 1 "$fstab")" ]; then echo >>"$fstab"; fi
  printf '%s\\n' "LABEL=$label $mnt ext4 defaults,nofail 0 2" >>"$fstab"
  changed=1
fi
mkdir -p "$mnt"
if ! mountpoint -q "$mnt"; then
  # systemd may be mounting it at the same moment (a later boot).
  mount --fstab "$fstab" "$mnt" || mountpoint -q "$mnt" || fail "could not mount $mnt"
  say "mounted LABEL=$label at $mnt"
fi
if [ "$changed" = 1 ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
`;

/** Variables the bootstrap's data disk sections use. */
export function dataDiskVars(paths: SystemPaths, dataMount: string): Array<[string, string]> {
  return [
    ["DATA_MOUNT", dataMount],
    ["DATA_MYSQL", dataMysqlDir(dataMount)],
    ["MYSQL_DIR", paths.mysqlDataDir],
    ["FSTAB", paths.fstab],
    ["SYSTEMD_DIR", paths.systemdDir],
    ["BIND_LINE", mysqlBindFstabLine(dataMount, paths.mysqlDataDir)],
  ];
}

/** The bootcmd entry that prepares and mounts the data disk. */
export function dataDiskBootcmd(dataMount: string, fstab = "/etc/fstab"): string[] {
  return ["sh", "-c", DATA_DISK_SCRIPT, "moodle-fleet-data-disk", DATA_DISK_DEVICE, DATA_DISK_LABEL, dataMount, fstab];
}

/** Bootstrap: right after cloud-init, refuse to go on without the data disk. */
export function requireDataMountSection(): string {
  return `# The data disk (label ${DATA_DISK_LABEL}), mounted by cloud-init at first boot:
# without it, site files and databases would fill the root disk.
mountpoint -q "$DATA_MOUNT" ||
  die "$DATA_MOUNT is not a mount point: the data disk (${DATA_DISK_DEVICE}, label ${DATA_DISK_LABEL}) is missing or not mounted; refusing to put site data on the root disk (see /var/log/cloud-init-output.log)"`;
}

/**
 * Bootstrap: MariaDB's datadir onto the data disk, before any site has a
 * database. Copied once (cp -a keeps owners and modes) while MariaDB is
 * stopped, then bind-mounted over the datadir by /etc/fstab. Runs again
 * without effect; on a host whose root disk was replaced, the data disk's
 * copy is mounted as it is.
 */
export function mysqlOnDataDiskSection(paths: SystemPaths): string {
  return `# MariaDB's data on the data disk: copied once, then bind-mounted over its
# datadir by fstab, so it is back after a reboot (and MariaDB waits for it).
if ! grep -qxF -- "$BIND_LINE" "$FSTAB" &&
  awk -v d="$MYSQL_DIR" '$1 !~ /^#/ && $2 == d { f = 1 } END { exit !f }' "$FSTAB"; then
  die "$FSTAB mounts something else on $MYSQL_DIR: left as it is"
fi
if [ ! -d "$DATA_MYSQL" ]; then
  [ -d "$MYSQL_DIR" ] || die "$MYSQL_DIR does not exist: is mariadb-server installed?"
  if mountpoint -q "$MYSQL_DIR"; then die "$MYSQL_DIR is a mount point already, but $DATA_MYSQL does not exist: left as it is"; fi
  log "moving MariaDB's data from $MYSQL_DIR to $DATA_MYSQL"
  systemctl stop mariadb
  rm -rf -- "$DATA_MYSQL.partial"
  cp -a -- "$MYSQL_DIR" "$DATA_MYSQL.partial"
  mv -- "$DATA_MYSQL.partial" "$DATA_MYSQL"
fi
CHANGED=0
if ! grep -qxF -- "$BIND_LINE" "$FSTAB"; then
  { awk 1 "$FSTAB"; printf '%s\\n' "$BIND_LINE"; } | put_file "$FSTAB" 0644 root root
fi
ensure_dir "$SYSTEMD_DIR/mariadb.service.d" 0755 root root
put_file "$SYSTEMD_DIR/mariadb.service.d/moodle-fleet-datadir.conf" 0644 root root ${heredoc(mariadbDropIn(paths.mysqlDataDir)).trimEnd()}
commit_files
if [ "$CHANGED" = 1 ]; then systemctl daemon-reload; fi
if ! mountpoint -q "$MYSQL_DIR"; then
  systemctl stop mariadb
  mount --fstab "$FSTAB" "$MYSQL_DIR"
  systemctl start mariadb
  log "MariaDB's data is on the data disk ($DATA_MYSQL)"
else
  log "MariaDB's data already on the data disk"
fi`;
}
