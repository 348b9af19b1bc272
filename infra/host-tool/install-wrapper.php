<?php
// Runs Moodle's install_database.php with the admin password read from
// standard input instead of the command line (written by moodle-fleet).
// The installer only takes the password as an argument, and arguments are
// visible to every user (ps, /proc/PID/cmdline); here the process starts
// without it and the argument is appended to $_SERVER['argv'] inside PHP,
// where Moodle's cli_get_params() reads it.
//
//   php install-wrapper.php /path/admin/cli/install_database.php --agree-license ... < password
if (PHP_SAPI !== 'cli') {
    exit(1);
}
$moodlefleetscript = $_SERVER['argv'][1] ?? '';
if ($moodlefleetscript === '' || !is_file($moodlefleetscript)) {
    fwrite(STDERR, "install wrapper: no installer script given\n");
    exit(2);
}
$moodlefleetpass = fgets(STDIN);
if (!is_string($moodlefleetpass)) {
    fwrite(STDERR, "install wrapper: no admin password on standard input\n");
    exit(2);
}
if (substr($moodlefleetpass, -1) === "\n") {
    $moodlefleetpass = substr($moodlefleetpass, 0, -1);
}
if ($moodlefleetpass === '') {
    fwrite(STDERR, "install wrapper: empty admin password\n");
    exit(2);
}
$argv = array_merge([$moodlefleetscript], array_slice($_SERVER['argv'], 2), ['--adminpass=' . $moodlefleetpass]);
$argc = count($argv);
$_SERVER['argv'] = $argv;
$_SERVER['argc'] = $argc;
// As if the installer had been started directly.
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $_SERVER['PATH_TRANSLATED'] = $moodlefleetscript;
unset($moodlefleetpass);
chdir(dirname($moodlefleetscript));
require($moodlefleetscript);
