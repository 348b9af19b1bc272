<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Upgrades a site's database to the code's version the way Moodle's
// admin/cli/upgrade.php does, with its options and exit codes: 0 when
// upgraded, 63 when there is nothing to upgrade, 1 when it refuses (not
// installed, a downgrade, unstable code without --allow-unstable, the
// environment check). It runs while the site is in CLI maintenance.

define('CLI_SCRIPT', true);

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit(1);
}

$help = <<<'HELP'
Command line Moodle upgrade (stand-in test double).
Please note you must execute this script with the same uid as apache!

Options:
--non-interactive     No interactive questions or confirmations
--allow-unstable      Upgrade even if the version is not marked as stable yet,
                      required in non-interactive mode.
--lang=CODE           Set preferred language for CLI output.
-h, --help            Print out this help

Example:
$ sudo -u www-data /usr/bin/php admin/cli/upgrade.php

HELP;

require_once(__DIR__ . '/../../lib/locate.php');
standin_require_config();
require_once($CFG->libdir . '/environment.php');
require_once($CFG->libdir . '/upgradelib.php');

$options = standin_cli_params([
    'non-interactive' => false,
    'allow-unstable' => false,
    'lang' => '',
    'help' => false,
], ['h' => 'help']);

if ($options['help']) {
    echo $help;
    exit(0);
}

$db = standin_db();
[$code, $out, $err] = standin_upgrade(
    new standin_pdo_config_store($db),
    standin_release_info(),
    $options,
    function () use ($db) {
        standin_environment_enforce(standin_environment_problems(
            standin_environment_facts((string)$db->query('SELECT VERSION()')->fetchColumn())));
    },
    function (string $newversion): bool {
        echo "Moodle will be upgraded to {$newversion}.\nDo you really want to continue? type y (yes) or n (no)\n";
        return trim((string)fgets(STDIN)) === 'y';
    },
);
echo $out;
if ($err !== '') {
    fwrite(STDERR, $err);
}
exit($code);
