<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// The environment check Moodle's admin/cli/install_database.php runs before
// it installs anything: the requirements of Moodle 4.5 as its
// admin/environment.xml states them (level "required"), checked the same way
// and reported in the same shape ("!! php_extension (intl) !!" and an
// explanation, on standard output, then exit 1).
//
// standin_environment_problems() is a pure function of the facts it is given,
// so tests can check every rule without a host that breaks it;
// standin_environment_facts() collects the real facts of the running PHP.

/** What Moodle 4.5 requires. */
function standin_environment_requirements(): array {
    return [
        'php_min' => '8.1.0',
        // Moodle 4.5 refuses PHP 8.4 (restrict_php_version_84).
        'php_below' => '8.4.0',
        'mariadb_min' => '10.6.7',
        'extensions' => ['iconv', 'mbstring', 'curl', 'openssl', 'ctype', 'zip', 'zlib', 'gd', 'simplexml', 'spl',
            'pcre', 'dom', 'xml', 'xmlreader', 'intl', 'json', 'hash', 'fileinfo', 'sodium', 'filter'],
        // Required since PHP 8 (check_max_input_vars raises its level).
        'max_input_vars' => 5000,
        'memory_limit_mb' => 96,
    ];
}

/** php.ini shorthand (128M, 1G, -1) in bytes; -1 for no limit. */
function standin_ini_bytes(string $value): int {
    $value = trim($value);
    if ($value === '' || $value === '-1') {
        return -1;
    }
    $number = (int)$value;
    switch (strtolower(substr($value, -1))) {
        case 'g':
            return $number * 1024 * 1024 * 1024;
        case 'm':
            return $number * 1024 * 1024;
        case 'k':
            return $number * 1024;
    }
    return $number;
}

/**
 * The facts of the running PHP (and the database's version, when known).
 *
 * @param string|null $dbversion SELECT VERSION() of the site's database, null before it is connected
 */
function standin_environment_facts(?string $dbversion = null): array {
    return [
        'php_version' => PHP_VERSION,
        'extensions' => array_map('strtolower', get_loaded_extensions()),
        'max_input_vars' => (string)ini_get('max_input_vars'),
        'memory_limit' => (string)ini_get('memory_limit'),
        'db_version' => $dbversion,
    ];
}

/**
 * Every requirement the facts break, as [info, report] pairs in the order
 * Moodle reports them.
 *
 * @param array $facts php_version, extensions (lower case), max_input_vars, memory_limit, db_version (or null: not checked)
 * @return array<int, array{0: string, 1: string}>
 */
function standin_environment_problems(array $facts): array {
    $req = standin_environment_requirements();
    $problems = [];
    if (version_compare($facts['php_version'], $req['php_min'], '<')) {
        $problems[] = ['php (version ' . $facts['php_version'] . ')',
            "Moodle needs PHP {$req['php_min']} or later; this is {$facts['php_version']}."];
    } else if (version_compare($facts['php_version'], $req['php_below'], '>=')) {
        $problems[] = ['php (version ' . $facts['php_version'] . ')',
            "This Moodle release does not support PHP {$facts['php_version']}; use a version below {$req['php_below']}."];
    }
    if ($facts['db_version'] !== null) {
        $db = standin_mariadb_version($facts['db_version']);
        if ($db === null || version_compare($db, $req['mariadb_min'], '<')) {
            $problems[] = ['database (mariadb ' . $facts['db_version'] . ')',
                "Moodle needs MariaDB {$req['mariadb_min']} or later; the server reports {$facts['db_version']}."];
        }
    }
    foreach ($req['extensions'] as $extension) {
        if (!in_array($extension, $facts['extensions'], true)) {
            $problems[] = ["php_extension ($extension)",
                "The $extension PHP extension is required by Moodle and is not loaded (on Debian it comes with a php-* package)."];
        }
    }
    if ((int)$facts['max_input_vars'] < $req['max_input_vars']) {
        $problems[] = ['custom_check (max_input_vars)',
            "PHP setting max_input_vars must be at least {$req['max_input_vars']}; it is {$facts['max_input_vars']}."];
    }
    $memory = standin_ini_bytes($facts['memory_limit']);
    if ($memory !== -1 && $memory < $req['memory_limit_mb'] * 1024 * 1024) {
        $problems[] = ['php_setting (memory_limit)',
            "PHP setting memory_limit must be at least {$req['memory_limit_mb']}M; it is {$facts['memory_limit']}."];
    }
    return $problems;
}

/** The MariaDB version in a VERSION() string (e.g. "10.11.6-MariaDB-0+deb12u1"), or null. */
function standin_mariadb_version(string $version): ?string {
    if (preg_match('/^(?:5\.5\.5-)?([0-9]+\.[0-9]+\.[0-9]+)-MariaDB/', $version, $m)) {
        return $m[1];
    }
    return null;
}

/** Prints the problems as Moodle's installer does and stops with exit 1; returns when there are none. */
function standin_environment_enforce(array $problems): void {
    if (!$problems) {
        return;
    }
    echo "== Environment ==\n";
    foreach ($problems as [$info, $report]) {
        echo "!! $info !!\n$report\n\n";
    }
    exit(1);
}
