<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Required by the last line of a site's config.php, as in Moodle. Checks the
// settings, derives the site's root from that config.php and provides the
// small database layer the stand-in's scripts use (PDO with MySQL/MariaDB).

global $CFG;

// As Moodle's setup: nothing runs on a PHP below the release's minimum.
require_once(__DIR__ . '/phpminimumversionlib.php');
moodle_require_minimum_php_version();

if (!defined('MOODLE_INTERNAL')) {
    define('MOODLE_INTERNAL', true);
}
if (!defined('MATURITY_STABLE')) {
    define('MATURITY_ALPHA', 50);
    define('MATURITY_BETA', 100);
    define('MATURITY_RC', 150);
    define('MATURITY_STABLE', 200);
}

/** Stops the script: exit 1 on the command line, HTTP status on the web. */
function standin_fail(string $message, int $httpstatus = 503): void {
    if (PHP_SAPI === 'cli') {
        fwrite(STDERR, $message . "\n");
        exit(1);
    }
    http_response_code($httpstatus);
    header('Content-Type: text/html; charset=utf-8');
    echo '<!DOCTYPE html><html><head><title>Error</title></head><body><p>',
        htmlspecialchars($message, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8'), "</p></body></html>\n";
    exit(1);
}

if (!isset($CFG) || !is_object($CFG)) {
    standin_fail('config.php must set up $CFG before it requires lib/setup.php');
}
if (defined('CLI_SCRIPT') && CLI_SCRIPT && PHP_SAPI !== 'cli') {
    standin_fail('Command line scripts can not be executed from the web interface', 403);
}

// As in Moodle: the code's root is where this file lives, whatever
// config.php was loaded and however the script was started.
$CFG->dirroot = dirname(__DIR__);
$CFG->libdir = __DIR__;

foreach (['dbtype', 'dbhost', 'dbname', 'dbuser', 'prefix', 'wwwroot', 'dataroot'] as $standinsetting) {
    if (!isset($CFG->$standinsetting) || !is_string($CFG->$standinsetting) || $CFG->$standinsetting === '') {
        standin_fail("config.php does not set \$CFG->$standinsetting");
    }
}
unset($standinsetting);
if (!isset($CFG->dbpass) || !is_string($CFG->dbpass)) {
    standin_fail('config.php does not set $CFG->dbpass');
}
if (!in_array($CFG->dbtype, ['mariadb', 'mysqli'], true)) {
    standin_fail("database type '{$CFG->dbtype}' is not supported by the stand-in (mariadb, mysqli)");
}
if (!preg_match('/^[a-z][a-z0-9_]*$/', $CFG->prefix)) {
    standin_fail('$CFG->prefix must be lower-case letters, digits and underscores');
}
if (!preg_match('#^https?://[^/\s]+(/\S*)?$#', $CFG->wwwroot) || substr($CFG->wwwroot, -1) === '/') {
    standin_fail('$CFG->wwwroot must be an http(s) URL without a trailing slash');
}
if (!isset($CFG->dboptions) || !is_array($CFG->dboptions)) {
    $CFG->dboptions = [];
}
if (!isset($CFG->directorypermissions)) {
    $CFG->directorypermissions = 02777;
}
// Moodle derives the umask from the directory permissions, so the
// directories it makes get exactly those.
$CFG->umaskpermissions = (($CFG->directorypermissions & 0777) ^ 0777);
umask($CFG->umaskpermissions);

// The data directory must exist and be writable: Moodle never creates it and
// stops with exit 1 (HTTP 503 on the web) and these words.
$standinrealdata = realpath($CFG->dataroot);
if ($standinrealdata === false || !is_dir($standinrealdata)) {
    standin_fatal('Fatal error: $CFG->dataroot is not configured properly, directory does not exist or is not accessible! Exiting.');
}
if (!is_writable($standinrealdata)) {
    standin_fatal('Fatal error: $CFG->dataroot is not writable, admin has to fix directory permissions! Exiting.');
}
$CFG->dataroot = $standinrealdata;
unset($standinrealdata);

// Moodle's default for the per-request directory is shared by every site
// whose PHP uses the same temporary directory.
if (!isset($CFG->localrequestdir)) {
    $CFG->localrequestdir = sys_get_temp_dir() . '/requestdir';
}

// CLI maintenance, as Moodle: with <dataroot>/climaintenance.html the web
// gets that page with HTTP 503; command line scripts see CLI_MAINTENANCE.
if (file_exists($CFG->dataroot . '/climaintenance.html')) {
    if (PHP_SAPI !== 'cli') {
        http_response_code(503);
        header('Content-Type: text/html; charset=utf-8');
        header('Cache-Control: no-store, no-cache, must-revalidate');
        readfile($CFG->dataroot . '/climaintenance.html');
        exit(0);
    }
    if (!defined('CLI_MAINTENANCE')) {
        define('CLI_MAINTENANCE', true);
    }
} else if (!defined('CLI_MAINTENANCE')) {
    define('CLI_MAINTENANCE', false);
}

standin_request_directory();

/**
 * Stops as Moodle's setup does for a broken configuration: the message on
 * standard output, exit 1; HTTP 503 on the web.
 */
function standin_fatal(string $message): void {
    if (PHP_SAPI !== 'cli') {
        http_response_code(503);
    }
    echo $message, "\n";
    exit(1);
}

/**
 * A directory of this request below $CFG->localrequestdir, as Moodle's
 * make_request_directory() makes it: the base with the directory permissions
 * (so /tmp/requestdir belongs to the first site that ran), then a unique
 * folder in it, removed when the script ends. A base this process cannot
 * write to stops the script with Moodle's invalid_dataroot_permissions.
 */
function standin_request_directory(): string {
    global $CFG;
    $base = $CFG->localrequestdir;
    if (!is_dir($base) && !@mkdir($base, $CFG->directorypermissions, true) && !is_dir($base)) {
        standin_invalid_permissions($base);
    }
    if (!is_writable($base)) {
        standin_invalid_permissions($base);
    }
    $dir = $base . '/' . bin2hex(random_bytes(8));
    if (!@mkdir($dir, $CFG->directorypermissions)) {
        standin_invalid_permissions($dir);
    }
    register_shutdown_function(function () use ($dir) {
        @rmdir($dir);
    });
    return $dir;
}

function standin_invalid_permissions(string $path): void {
    standin_fail("invalid_dataroot_permissions: Invalid permissions detected when trying to create a directory. ($path)", 500);
}

/** The site's database, or a stop with "Database connection failed". */
function standin_db(): PDO {
    global $CFG;
    static $pdo = null;
    if ($pdo !== null) {
        return $pdo;
    }
    // Moodle's mariadb and mysqli drivers need mysqli; the stand-in itself
    // talks through pdo_mysql (Debian's php-mysql has both).
    if (!extension_loaded('mysqli')) {
        standin_fail('Database driver problem detected, site administrator needs to check server configuration: '
            . 'the mysqli PHP extension is not loaded');
    }
    $options = $CFG->dboptions;
    if (!empty($options['dbsocket']) && is_string($options['dbsocket']) && $options['dbsocket'][0] === '/') {
        $dsn = 'mysql:unix_socket=' . $options['dbsocket'];
    } else {
        $dsn = 'mysql:host=' . $CFG->dbhost;
        if (!empty($options['dbport'])) {
            $dsn .= ';port=' . (int)$options['dbport'];
        }
    }
    $dsn .= ';dbname=' . $CFG->dbname . ';charset=utf8mb4';
    try {
        $pdo = new PDO($dsn, $CFG->dbuser, $CFG->dbpass, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_EMULATE_PREPARES => false,
        ]);
    } catch (PDOException $e) {
        standin_fail('Database connection failed: ' . $e->getMessage());
    }
    return $pdo;
}

/** A table name with the site's prefix, quoted for SQL. */
function standin_table(string $name): string {
    global $CFG;
    return '`' . $CFG->prefix . $name . '`';
}

/** Names of the tables in the site's database that carry its prefix. */
function standin_tables(PDO $db): array {
    global $CFG;
    $stmt = $db->prepare('SELECT table_name FROM information_schema.tables'
        . ' WHERE table_schema = DATABASE() AND LEFT(table_name, CHAR_LENGTH(?)) = ?');
    $stmt->execute([$CFG->prefix, $CFG->prefix]);
    return $stmt->fetchAll(PDO::FETCH_COLUMN);
}

function standin_table_exists(PDO $db, string $name): bool {
    global $CFG;
    return in_array($CFG->prefix . $name, standin_tables($db), true);
}

function standin_get_config(PDO $db, string $name): ?string {
    $stmt = $db->prepare('SELECT value FROM ' . standin_table('config') . ' WHERE name = ?');
    $stmt->execute([$name]);
    $value = $stmt->fetchColumn();
    return $value === false ? null : (string)$value;
}

function standin_set_config(PDO $db, string $name, string $value): void {
    $stmt = $db->prepare('INSERT INTO ' . standin_table('config') . ' (name, value) VALUES (?, ?)'
        . ' ON DUPLICATE KEY UPDATE value = VALUES(value)');
    $stmt->execute([$name, $value]);
}

/** Installed means the config table exists and rolesactive, written last by the installer, is 1. */
function standin_is_installed(PDO $db): bool {
    return standin_table_exists($db, 'config') && standin_get_config($db, 'rolesactive') === '1';
}

/** $version, $release, $branch and $maturity of the release this code belongs to. */
function standin_release_info(): array {
    $version = $release = $branch = $maturity = null;
    include(dirname(__DIR__) . '/version.php');
    return ['version' => $version, 'release' => $release, 'branch' => $branch, 'maturity' => $maturity];
}

/**
 * Command line options as Moodle's CLI reads them: from $_SERVER['argv'],
 * "--name=value" or "--flag"; anything unknown stops the script.
 *
 * @param array $defaults option name => default value
 * @param array $short short option => long option name
 */
function standin_cli_params(array $defaults, array $short = []): array {
    $options = $defaults;
    $unknown = [];
    $argv = $_SERVER['argv'] ?? [];
    foreach (array_slice($argv, 1) as $arg) {
        if (preg_match('/^--([a-z][a-z0-9-]*)(?:=(.*))?$/s', (string)$arg, $m)) {
            $name = $m[1];
            $value = array_key_exists(2, $m) ? $m[2] : true;
        } else if (preg_match('/^-([a-zA-Z])$/', (string)$arg, $m) && isset($short[$m[1]])) {
            $name = $short[$m[1]];
            $value = true;
        } else {
            // Values are never echoed: a mistyped option may carry a password.
            $unknown[] = preg_match('/^--?[a-zA-Z][a-zA-Z0-9-]*/', (string)$arg, $m) ? $m[0] : '(an argument that is not an option)';
            continue;
        }
        if (!array_key_exists($name, $defaults)) {
            $unknown[] = '--' . $name;
            continue;
        }
        $options[$name] = $value;
    }
    if ($unknown) {
        standin_fail('Unrecognised options: ' . implode(', ', $unknown) . "\nPlease use --help option.");
    }
    return $options;
}
