<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// The lowest PHP version this release runs on, in the place and form Moodle
// keeps it (lib/phpminimumversionlib.php, `$minimumversion = 'X.Y.Z';`):
// the fleet's host tools read that line before they let a site use the
// release. Moodle 4.5 needs PHP 8.1.0. No MOODLE_INTERNAL check, as in
// Moodle: the installer includes this before anything else.

/** Stops the script (exit 1) when this PHP is older than the release's minimum. */
function moodle_require_minimum_php_version() {
    moodle_minimum_php_version_is_met(true);
}

/**
 * Whether this PHP meets the release's minimum; with $haltexecution, a PHP
 * below it stops the script with exit 1 and Moodle's explanation.
 */
function moodle_minimum_php_version_is_met($haltexecution = false) {
    $minimumversion = '8.1.0';
    $moodlerequirementchanged = '4.5';

    if (version_compare(PHP_VERSION, $minimumversion) >= 0) {
        return true;
    }
    if (!$haltexecution) {
        return false;
    }
    $message = "Moodle {$moodlerequirementchanged} or later requires at least PHP {$minimumversion} "
        . '(currently using version ' . PHP_VERSION . ").\n"
        . "Some servers may have multiple PHP versions installed, are you using the correct executable?\n";
    if (defined('CLI_SCRIPT') && defined('STDERR')) {
        fwrite(STDERR, $message);
    } else {
        echo $message;
    }
    exit(1);
}
