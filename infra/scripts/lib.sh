# Shell functions shared by the scripts moodle-fleet runs on its VMs.
# bash.ts copies the sections a script needs into it; each section starts
# with a line `#@ name` and ends where the next one starts. The generated
# scripts run as root under `set -euo pipefail`; none of these functions ever
# puts a secret into a command's arguments.

#@ base
# Needs TAG. Logging, cleanup of temporary files on exit, the root check.
log() { printf '%s\n' "moodle-fleet[$TAG]: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}
CLEANUP=()
trap 'rm -rf -- "${CLEANUP[@]}"' EXIT
[ "$EUID" -eq 0 ] || die "must run as root"
WORK=$(mktemp -d)
CLEANUP+=("$WORK")

#@ ensureDir
# ensure_dir DIR MODE OWNER GROUP: creates DIR (missing parents get 0755, so
# that a restrictive umask never hides what lies below them) and sets its
# mode and owner.
ensure_dir() {
  local dir=$1 mode=$2 owner=$3 group=$4 parent
  if [ ! -d "$dir" ]; then
    parent=${dir%/*}
    if [ -n "$parent" ]; then (umask 022 && mkdir -p -- "$parent"); fi
    mkdir -p -- "$dir"
  fi
  chmod -- "$mode" "$dir"
  chown -- "$owner:$group" "$dir"
}

#@ putFile
# put_file TARGET MODE OWNER GROUP < CONTENT: replaces TARGET atomically when
# its content differs, and then sets CHANGED=1. The content goes to a
# temporary file in the same directory, created 0600 by mktemp, which gets its
# final mode and owner before the rename: a file with secrets is never
# visible with looser permissions. Until commit_files or rollback_files, the
# previous version is kept so that rollback_files can restore it.
CHANGED=0
UNDO=()
put_file() {
  local target=$1 mode=$2 owner=$3 group=$4 tmp backup
  tmp=$(mktemp -- "$target.new.XXXXXX")
  CLEANUP+=("$tmp")
  cat >"$tmp"
  chmod -- "$mode" "$tmp"
  chown -- "$owner:$group" "$tmp"
  if [ -f "$target" ] && cmp -s -- "$tmp" "$target"; then
    rm -f -- "$tmp"
    chmod -- "$mode" "$target"
    chown -- "$owner:$group" "$target"
    return 0
  fi
  backup=""
  if [ -e "$target" ]; then
    backup="$WORK/undo.${#UNDO[@]}"
    cp -p -- "$target" "$backup"
  fi
  UNDO+=("$target" "$backup")
  mv -f -- "$tmp" "$target"
  CHANGED=1
}
rollback_files() {
  local i
  for ((i = ${#UNDO[@]} - 2; i >= 0; i -= 2)); do
    if [ -n "${UNDO[i + 1]}" ]; then
      mv -f -- "${UNDO[i + 1]}" "${UNDO[i]}"
    else
      rm -f -- "${UNDO[i]}"
    fi
  done
  UNDO=()
}
commit_files() { UNDO=(); }

#@ mysqlRoot
# mysql_root [ARGS...] < SQL: MariaDB's root over the local socket
# (unix_socket authentication: no password anywhere).
mysql_root() { mysql --protocol=socket --user=root --batch --skip-column-names "$@"; }

#@ sqEscape
# sq_escape VALUE: prints VALUE with each backslash and single quote escaped
# by a backslash: the inside of a PHP single-quoted string, or of a MariaDB
# string literal when backslash escapes are on. Builtins only.
sq_escape() {
  local s=$1 bs='\' q="'"
  s=${s//"$bs"/"$bs$bs"}
  s=${s//"$q"/"$bs$q"}
  printf '%s' "$s"
}

#@ phpVersion
# php_version: prints the newest PHP version with an fpm configuration under
# PHP_ETC (e.g. 8.2); fails when there is none.
php_version() {
  local d v best="" bmaj=-1 bmin=-1 maj min
  for d in "$PHP_ETC"/*/fpm; do
    [ -d "$d" ] || continue
    v=${d%/fpm}
    v=${v##*/}
    [[ $v =~ ^([0-9]+)\.([0-9]+)$ ]] || continue
    maj=${BASH_REMATCH[1]}
    min=${BASH_REMATCH[2]}
    if ((maj > bmaj || (maj == bmaj && min > bmin))); then
      best=$v bmaj=$maj bmin=$min
    fi
  done
  [ -n "$best" ] || return 1
  printf '%s' "$best"
}

#@ lock
# lock_config / unlock_config: serialise changes to the host's Apache and
# php-fpm configuration between site scripts running at the same time, so a
# config test or reload never sees another site's half-written files.
lock_config() {
  exec 9>"$LOCK_FILE"
  flock 9
}
unlock_config() {
  flock -u 9
  exec 9>&-
}

#@ reload
# reload_service UNIT: reloads a running service, starts a stopped one.
reload_service() { systemctl reload-or-restart "$1"; }

#@ fetch
# fetch URL FILE [SHA256]: downloads URL to FILE, checks its SHA-256 when given.
fetch() {
  local url=$1 out=$2 sum=${3:-}
  curl --fail --silent --show-error --location --retry 5 --retry-delay 3 --output "$out" -- "$url"
  if [ -n "$sum" ]; then
    if ! printf '%s  %s\n' "$sum" "$out" | sha256sum --check --status -; then
      die "checksum mismatch for $url (want sha256 $sum)"
    fi
  fi
}

#@ packages
# pkg_installed NAME: whether dpkg has NAME fully installed.
# apt_install NAME...: installs from the archive, refreshing apt's lists once.
pkg_installed() {
  local s
  s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [ "$s" = "install ok installed" ]
}
APT_UPDATED=no
apt_install() {
  if [ "$APT_UPDATED" = no ]; then
    apt-get update -qq
    APT_UPDATED=yes
  fi
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
