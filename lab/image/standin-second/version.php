<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see lab/moodle-standin/README.md). It is not Moodle.
//
// The version.php of the lab's second stand-in release: the same code as
// lab/moodle-standin with a later version, so the lab can show a release
// change going through Moodle's upgrade. lab/image/build.sh packs it as
// /opt/moodle-standin/moodle-standin-2.tgz.

defined('MOODLE_INTERNAL') || die();

$version  = 2024100701.00;               // YYYYMMDD.XX, as Moodle numbers its versions.
$release  = '4.5.1 (stand-in test double)';
$branch   = '405';
$maturity = MATURITY_STABLE;
