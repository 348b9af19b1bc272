<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// The site's front page: its full name, read from its own database. HTTP 503
// while the site is not configured, its database not reachable, or it is not
// installed.

require_once(__DIR__ . '/lib/locate.php');
standin_require_config();

$db = standin_db();
if (!standin_is_installed($db)) {
    standin_fail('This site is not installed yet.', 503);
}

$course = $db->query('SELECT fullname, shortname, summary FROM ' . standin_table('course') . ' WHERE id = 1')->fetch();
if (!$course) {
    standin_fail('The front page of this site is missing.', 503);
}

$esc = function (?string $text): string {
    return htmlspecialchars((string)$text, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
};
$release = standin_get_config($db, 'release');

header('Content-Type: text/html; charset=utf-8');
header('X-Moodle-Standin: ' . rawurlencode((string)$release));
?>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title><?php echo $esc($course['fullname']); ?></title>
</head>
<body>
<h1 class="site-fullname"><?php echo $esc($course['fullname']); ?></h1>
<p class="site-shortname"><?php echo $esc($course['shortname']); ?></p>
<div class="site-summary"><?php echo $esc($course['summary']); ?></div>
<footer>Moodle stand-in (test double), release <?php echo $esc($release); ?>, <?php echo $esc($CFG->wwwroot); ?></footer>
</body>
</html>
