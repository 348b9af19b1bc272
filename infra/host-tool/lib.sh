# shellcheck shell=bash
# Shell functions shared by what moodle-fleet runs on its VMs. The site tool
# (moodle-fleet-site, installed beside this file) sources it whole; for the
# generated scripts (the host bootstrap), infra/scripts/bash.ts copies the
# sections a script needs into it: each section starts with a line
# `#@ name` and ends where the next one starts. Everything runs as root under
# `set -euo pipefail`; none of these functions ever puts a secret into a
# command's arguments.

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
  # shellcheck disable=SC2034 # for the caller
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
  # shellcheck disable=SC1003 # a lone backslash, meant literally
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

#@ phpPreflight
# php_preflight VERSION FILE: runs FILE (php-preflight.php) once with the
# CLI's configuration and once with php-fpm's (the CLI binary reading fpm's
# php.ini and conf.d: Debian enables extensions per SAPI, and the shared
# objects are the same). Needs PHP_ETC, PHP_EXTENSIONS, PHP_MIN_INPUT_VARS,
# PHP_MIN_MEMORY_MB, PHP_EXTENSION_PACKAGES. Dies naming what is missing.
php_preflight() {
  local version=$1 file=$2 failed=0 ext
  read -r -a ext <<<"$PHP_EXTENSIONS"
  php "$file" cli "$PHP_MIN_INPUT_VARS" "$PHP_MIN_MEMORY_MB" "${ext[@]}" || failed=1
  PHP_INI_SCAN_DIR="$PHP_ETC/$version/fpm/conf.d" php -c "$PHP_ETC/$version/fpm/php.ini" \
    "$file" fpm "$PHP_MIN_INPUT_VARS" "$PHP_MIN_MEMORY_MB" "${ext[@]}" || failed=1
  if [ "$failed" != 0 ]; then
    die "PHP $version is not ready for Moodle (see above); the extensions come with $PHP_EXTENSION_PACKAGES"
  fi
}

#@ release
# What the fleet needs to know about a Moodle release tree (the host
# bootstrap and the site tool ask the same questions).
#
# release_web_root DIR: the directory Apache serves and the CLI scripts live
# in: DIR/public from Moodle 5.1 on (moodledev.io/docs/5.1/guides/restructure),
# DIR itself before.
release_web_root() {
  if [ -d "$1/public" ]; then printf '%s' "$1/public"; else printf '%s' "$1"; fi
}
# release_php_minimum DIR: the lowest PHP version the release runs on, as its
# lib/phpminimumversionlib.php (public/lib/ from 5.1) states it
# ($minimumversion = 'X.Y.Z';); fails when the file or the line is missing.
release_php_minimum() {
  local file line
  file=$(release_web_root "$1")/lib/phpminimumversionlib.php
  [ -f "$file" ] || return 1
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*\$minimumversion[[:space:]]*=[[:space:]]*[\'\"]([0-9]+(\.[0-9]+){1,2})[\'\"]\; ]]; then
      printf '%s' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$file"
  return 1
}
# version_at_least HAVE WANT: whether dotted version HAVE (8.2.29) is at
# least WANT (8.2.0); missing parts count as 0, anything after the digits of
# a part (8.2.29-1) is ignored.
version_at_least() {
  local -a have want
  local i h w
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    h=${have[i]:-0}
    w=${want[i]:-0}
    h=${h%%[!0-9]*}
    w=${w%%[!0-9]*}
    if ((10#${h:-0} != 10#${w:-0})); then
      ((10#${h:-0} > 10#${w:-0}))
      return
    fi
  done
  return 0
}
# require_release_php DIR WHAT: dies unless this host's PHP (the CLI, the
# same version as php-fpm on Debian) meets the release's minimum.
require_release_php() {
  local minimum have
  minimum=$(release_php_minimum "$1") || die "$2: no \$minimumversion in lib/phpminimumversionlib.php: not a Moodle release this tool knows"
  have=$(php -r 'echo PHP_VERSION;') || die "cannot run php to read its version"
  if ! version_at_least "$have" "$minimum"; then
    die "$2 needs PHP $minimum or later (lib/phpminimumversionlib.php); this host has PHP $have: no site is switched to it. Use a release for PHP $have, or a newer guest image"
  fi
}
# moodle_version_of DIR: the release's $version (YYYYMMDDRR.XX) from its
# version.php; fails when it has none.
moodle_version_of() {
  local file line
  file=$(release_web_root "$1")/version.php
  if [ ! -f "$file" ]; then file=$1/version.php; fi
  [ -f "$file" ] || return 1
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*\$version[[:space:]]*=[[:space:]]*([0-9]{1,12}(\.[0-9]{1,2})?)[[:space:]]*\; ]]; then
      printf '%s' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$file"
  return 1
}
# moodle_version_newer A B: whether Moodle version A (2024100700.05) is
# above B; both are decimals with at most two digits after the point.
moodle_version_newer() {
  local a=$1 b=$2 ai af bi bf
  ai=${a%%.*} bi=${b%%.*}
  af=${a#"$ai"} bf=${b#"$bi"}
  af=${af#.} bf=${bf#.}
  af=${af}00 bf=${bf}00
  ((10#$ai > 10#$bi || (10#$ai == 10#$bi && 10#${af:0:2} > 10#${bf:0:2})))
}

#@ redis
# redis_admin < COMMANDS: runs redis-cli commands, one a line, as the
# fleet's Redis admin user. Its password is read from REDIS_ADMIN_SECRET
# (0600 root) and sent in an AUTH command on redis-cli's standard input,
# never as an argument or in the environment. Prints the replies (raw, one a
# line, the AUTH reply first) to standard output.
redis_admin() {
  local pass
  IFS= read -r pass <"$REDIS_ADMIN_SECRET" || die "cannot read the Redis admin secret $REDIS_ADMIN_SECRET"
  { printf 'AUTH %s %s\n' "$REDIS_ADMIN_USER" "$pass"; cat; } | redis-cli --raw
}
# redis_expect EXPECTED... < REPLIES: fails unless the replies are exactly
# the expected lines (redis-cli exits 0 even when a command was refused).
redis_expect() {
  local got want
  got=$(cat)
  want=$(printf '%s\n' "$@")
  if [ "$got" != "$want" ]; then
    log "Redis answered: ${got//$'\n'/ | }"
    return 1
  fi
}
# redis_secret FILE: prints the secret in FILE, making a new one (64 hex
# digits from the kernel's random source, FILE 0600 root) when it is missing.
redis_secret() {
  local file=$1 s=""
  if [ -f "$file" ]; then IFS= read -r s <"$file" || true; fi
  if ! [[ $s =~ ^[0-9a-f]{64}$ ]]; then
    s=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$s" | put_file "$file" 0600 root root
    commit_files
  fi
  printf '%s' "$s"
}
# sha256_hex VALUE: the SHA-256 of VALUE in hex, computed from a pipe (Redis
# ACL rules can name a password by its hash, so the password itself never
# has to reach Redis when a user is defined).
sha256_hex() {
  local sum
  sum=$(printf '%s' "$1" | sha256sum)
  printf '%s' "${sum%% *}"
}
# redis_delete_prefix PREFIX: deletes every key that starts with PREFIX (no
# glob characters in it) in small SCAN steps inside Redis, so nothing but
# this one command crosses the connection; prints how many went.
redis_delete_prefix() {
  local script out
  script="local c='0' local n=0 repeat local r=redis.call('SCAN',c,'MATCH',ARGV[1],'COUNT',500) c=r[1] for _,k in ipairs(r[2]) do redis.call('UNLINK',k) n=n+1 end until c=='0' return n"
  out=$(printf 'EVAL "%s" 0 "%s*"\n' "$script" "$1" | redis_admin)
  if ! [[ $out =~ ^OK$'\n'([0-9]+)$ ]]; then
    log "Redis answered: ${out//$'\n'/ | }"
    return 1
  fi
  printf '%s' "${BASH_REMATCH[1]}"
}

#@ archive
# archive_site SUFFIX WITH_DB: writes what is left of the site (a dump of its
# database when WITH_DB is 1, site-config.php, the data directory, the cron
# log and MANIFEST) to ARCHIVE_DIR/SCHOOL_ID-<UTC time>SUFFIX.tar.gz, 0600 in
# a 0700 directory, and sets ARCHIVE to its path. The archive appears
# complete or not at all; a failing dump stops the script (set -e) before
# anything is destroyed. Needs SCHOOL_ID, ARCHIVE_DIR, DB_NAME, SITE_CONFIG,
# DATA_DIR, CRON_LOG and MANIFEST.
archive_site() {
  local suffix=$1 with_db=$2 stage items
  ensure_dir "$ARCHIVE_DIR" 0700 root root
  stage=$(mktemp -d -- "$ARCHIVE_DIR/.$SCHOOL_ID.XXXXXX")
  CLEANUP+=("$stage")
  printf '%s\n' "$MANIFEST" "archived: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stage/manifest.txt"
  items=(-C "$stage" manifest.txt)
  if [ "$with_db" = 1 ]; then
    mysqldump --protocol=socket --user=root --single-transaction --quick --routines --triggers --events \
      --default-character-set=utf8mb4 --databases "$DB_NAME" >"$stage/database.sql"
    items+=(database.sql)
  fi
  if [ -f "$SITE_CONFIG" ]; then items+=(-C "${SITE_CONFIG%/*}" "${SITE_CONFIG##*/}"); fi
  if [ -d "$DATA_DIR" ]; then items+=(-C "${DATA_DIR%/*}" "${DATA_DIR##*/}"); fi
  if [ -f "$CRON_LOG" ]; then items+=(-C "${CRON_LOG%/*}" "${CRON_LOG##*/}"); fi
  ARCHIVE="$ARCHIVE_DIR/$SCHOOL_ID-$(date -u +%Y%m%dT%H%M%SZ)$suffix.tar.gz"
  if [ -e "$ARCHIVE" ]; then ARCHIVE="${ARCHIVE%.tar.gz}-$$.tar.gz"; fi
  tar --create --gzip --file "$stage/archive.tar.gz" "${items[@]}"
  chmod 0600 "$stage/archive.tar.gz"
  mv -- "$stage/archive.tar.gz" "$ARCHIVE"
  rm -rf -- "$stage"
}

#@ password
# new_password: prints (no newline) a fresh 24-character password from the
# kernel's random source: a letter first, then, in shuffled order, 2 lower
# case, 2 upper case, 2 digits, 2 of PASSWORD_SPECIALS and 15 letters or
# digits. The specials need no escaping in a PHP single-quoted string, an SQL
# literal or a shell word, and satisfy Moodle's default password policy.
# Every draw is uniform; the password lives in shell variables only.
PASSWORD_LOWER=abcdefghijklmnopqrstuvwxyz
PASSWORD_UPPER=ABCDEFGHIJKLMNOPQRSTUVWXYZ
PASSWORD_DIGITS=0123456789
PASSWORD_SPECIALS='-_.+=:,%'
new_password() {
  # Fresh bytes for each password: one drawn in the caller's shell never
  # shares a byte with one drawn in a subshell of it.
  local random_pool="" random_value chars=() i j swap
  local letters=$PASSWORD_LOWER$PASSWORD_UPPER
  random_chars 1 "$letters"
  random_chars 2 "$PASSWORD_LOWER"
  random_chars 2 "$PASSWORD_UPPER"
  random_chars 2 "$PASSWORD_DIGITS"
  random_chars 2 "$PASSWORD_SPECIALS"
  random_chars 15 "$letters$PASSWORD_DIGITS"
  # Fisher-Yates over everything after the first character.
  for ((i = ${#chars[@]} - 1; i > 1; i--)); do
    random_below "$i"
    j=$((random_value + 1))
    swap=${chars[i]}
    chars[i]=${chars[j]}
    chars[j]=$swap
  done
  printf '%s' "${chars[@]}"
}
# random_chars N ALPHABET: appends N characters drawn uniformly from
# ALPHABET to new_password's chars (bash's dynamic scope).
random_chars() {
  local k
  for ((k = 0; k < $1; k++)); do
    random_below "${#2}"
    chars+=("${2:random_value:1}")
  done
}
# random_below N: sets new_password's random_value to a uniform integer from
# 0 to N-1 (N from 1 to 256). Bytes from the largest multiple of N up are
# dropped, as a plain modulo would favour the low values; od reads them 64
# at a time into random_pool, so a password costs one or two processes.
random_below() {
  local n=$1 limit byte
  limit=$((256 - 256 % n))
  while :; do
    random_pool=${random_pool#"${random_pool%%[0-9]*}"}
    if [ -z "$random_pool" ]; then
      random_pool=$(od -An -tu1 -N64 /dev/urandom) || die "cannot read /dev/urandom"
      random_pool=${random_pool//[!0-9]/ }
      [[ $random_pool == *[0-9]* ]] || die "no random bytes from /dev/urandom"
      continue
    fi
    byte=${random_pool%% *}
    random_pool=${random_pool#"$byte"}
    if ((10#$byte < limit)); then
      random_value=$((10#$byte % n))
      return 0
    fi
  done
}
