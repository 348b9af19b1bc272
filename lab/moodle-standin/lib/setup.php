<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Required by the last line of a site's config.php, as in Moodle. Checks the
// settings, derives the site's root from that config.php and provides the
// small database layer the stand-in's scripts use (PDO with MySQL/MariaDB).

global $CFG;

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

// The site's root is the folder of the config.php that required this file,
// not the folder this file really lives in (that may be a shared release).
$standinconfig = null;
foreach (array_reverse(get_included_files()) as $standinfile) {
    if (basename($standinfile) === 'config.php') {
        $standinconfig = $standinfile;
        break;
    }
}
$CFG->dirroot = $standinconfig !== null ? dirname($standinconfig) : dirname(__DIR__);
$CFG->libdir = __DIR__;
unset($standinconfig, $standinfile);

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
if (!is_dir($CFG->dataroot)) {
    @mkdir($CFG->dataroot, $CFG->directorypermissions, true);
}
if (!is_dir($CFG->dataroot) || !is_writable($CFG->dataroot)) {
    standin_fail("\$CFG->dataroot '{$CFG->dataroot}' is not a writable directory");
}

/** The site's database, or a stop with "Database connection failed". */
function standin_db(): PDO {
    global $CFG;
    static $pdo = null;
    if ($pdo !== null) {
        return $pdo;
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
