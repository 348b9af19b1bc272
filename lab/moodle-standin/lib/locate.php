<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Loads config.php the way Moodle's entry scripts do: from the code's own
// root only (`__DIR__ . '/../../config.php'` in admin/cli/*.php). PHP
// resolves symlinks in __DIR__, so a folder of symlinks into a release finds
// the release's config.php, never one next to the symlinks.

/**
 * Loads the config.php in the root of this code, which in turn loads
 * lib/setup.php. Stops with Moodle's message and exit 1 when there is none.
 */
function standin_require_config(): void {
    global $CFG;
    $configfile = dirname(__DIR__) . '/config.php';
    if (!file_exists($configfile)) {
        if (PHP_SAPI === 'cli') {
            fwrite(STDERR, "config.php does not exist, can not continue\n");
            exit(1);
        }
        http_response_code(503);
        header('Content-Type: text/plain; charset=utf-8');
        echo "config.php does not exist, can not continue\n";
        exit(1);
    }
    require_once($configfile);
}
