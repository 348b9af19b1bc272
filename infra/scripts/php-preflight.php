<?php
// Checks, before any site is installed, that the PHP the host bootstrap
// runs it with has what Moodle's installer will insist on: every required
// extension loaded, and max_input_vars and memory_limit as high as Moodle's
// environment check wants them (written by moodle-fleet; static file).
//
// The bootstrap runs it twice: with the CLI's configuration (cron, the
// installer) and with php-fpm's (the web), because Debian enables extensions
// per SAPI and a package can be present for one and missing for the other.
//
// Usage: php php-preflight.php LABEL MIN_INPUT_VARS MIN_MEMORY_MB EXTENSION...
// Exit 0 when everything is there; exit 1 with one line per problem on
// standard error.

if (PHP_SAPI !== 'cli') {
    exit(1);
}
$args = array_slice($_SERVER['argv'], 1);
if (count($args) < 4 || !ctype_digit_safe($args[1]) || !ctype_digit_safe($args[2])) {
    fwrite(STDERR, "usage: php php-preflight.php LABEL MIN_INPUT_VARS MIN_MEMORY_MB EXTENSION...\n");
    exit(2);
}
[$label, $mininputvars, $minmemorymb] = [$args[0], (int)$args[1], (int)$args[2]];
$wanted = array_slice($args, 3);

// ctype itself may be one of the missing extensions: no ctype_digit() here.
function ctype_digit_safe(string $s): bool {
    return preg_match('/^[0-9]+$/D', $s) === 1;
}

/** php.ini's shorthand (128M, 1G, -1) in bytes; -1 stays -1 (no limit). */
function ini_bytes(string $value): int {
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

$problems = [];
$missing = [];
foreach ($wanted as $extension) {
    if (!extension_loaded($extension)) {
        $missing[] = $extension;
    }
}
if ($missing) {
    $problems[] = 'missing PHP extensions: ' . implode(', ', $missing);
}
$inputvars = (int)ini_get('max_input_vars');
if ($inputvars < $mininputvars) {
    $problems[] = "max_input_vars is $inputvars, Moodle needs at least $mininputvars";
}
$memory = ini_bytes((string)ini_get('memory_limit'));
if ($memory !== -1 && $memory < $minmemorymb * 1024 * 1024) {
    $problems[] = 'memory_limit is ' . ini_get('memory_limit') . ", Moodle needs at least {$minmemorymb}M";
}

foreach ($problems as $problem) {
    fwrite(STDERR, "PHP ($label) " . PHP_VERSION . ": $problem\n");
}
exit($problems ? 1 : 0);
