<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Release information in the shape of Moodle's own version.php, so tools that
// read $version, $release and $branch from a release work with it as well.

defined('MOODLE_INTERNAL') || die();

$version  = 2024100700.00;               // YYYYMMDD.XX, as Moodle numbers its versions.
$release  = '4.5 (stand-in test double)';
$branch   = '405';
$maturity = MATURITY_STABLE;
