<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Runs "scheduled tasks" the way Moodle's admin/cli/cron.php is run from the
// system's cron: exit 0 when done, and the time of the run kept as lastcron.

define('CLI_SCRIPT', true);

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit(1);
}

require_once(__DIR__ . '/../../lib/locate.php');
standin_require_config();

$options = standin_cli_params(['help' => false, 'keep-alive' => false], ['h' => 'help']);
if ($options['help']) {
    echo "Runs the site's scheduled tasks once (stand-in test double).\n\nOptions:\n-h, --help  Print this help.\n";
    exit(0);
}

// As Moodle's cron.php: nothing runs while the site is in CLI maintenance.
if (CLI_MAINTENANCE) {
    echo "CLI maintenance mode active, cron execution suspended.\n";
    exit(1);
}

$db = standin_db();
if (!standin_is_installed($db)) {
    standin_fail('Moodle is not installed yet; cron can not run.');
}

$start = time();
standin_set_config($db, 'lastcron', (string)$start);
echo 'Server Time: ', gmdate('D, d M Y H:i:s', $start), " GMT\n";
echo "Cron script completed correctly\n";
exit(0);
