<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Installs a site's database the way Moodle's admin/cli/install_database.php
// does, with the same options and exit codes: the site's config.php must exist
// and its database must hold no tables with the site's prefix.

define('CLI_SCRIPT', true);

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit(1);
}

$help = <<<'HELP'
Installs the database of a site whose config.php exists (stand-in test double).

Options:
--lang=CODE           Installation and default site language (default en; a
                      language without an installer pack falls back to en).
--adminuser=USERNAME  Username of the admin account (default: admin).
--adminpass=PASSWORD  Password of the admin account (required).
--adminemail=EMAIL    Email address of the admin account.
--fullname=STRING     Full name of the site (required).
--shortname=STRING    Short name of the site (required).
--summary=STRING      Summary of the front page.
--supportemail=EMAIL  Email address for support and help.
--noreplyemail=EMAIL  Email address used for noreply.
--agree-license       Agree to the license (required).
-h, --help            Print this help.

Example:
$ sudo -u www-data /usr/bin/php admin/cli/install_database.php --agree-license \
    --adminpass=... --fullname="Example School" --shortname=example

HELP;

require_once(__DIR__ . '/../../lib/locate.php');
standin_require_config();
require_once($CFG->libdir . '/environment.php');

$options = standin_cli_params([
    'lang' => 'en',
    'adminuser' => 'admin',
    'adminpass' => '',
    'adminemail' => '',
    'fullname' => '',
    'shortname' => '',
    'summary' => '',
    'supportemail' => '',
    'noreplyemail' => '',
    'agree-license' => false,
    'help' => false,
], ['h' => 'help']);

if ($options['help']) {
    echo $help;
    exit(0);
}
if ($options['agree-license'] !== true) {
    standin_fail('You have to agree to the license. --help prints out the help');
}
if ($options['adminpass'] === true || $options['adminpass'] === '') {
    standin_fail('You have to specify admin password. --help prints out the help');
}
foreach (['adminuser', 'fullname', 'shortname'] as $required) {
    if (!is_string($options[$required]) || trim($options[$required]) === '') {
        standin_fail("--$required is required and must not be empty");
    }
}
if (!preg_match('/^[a-z0-9_.@-]+$/', $options['adminuser'])) {
    standin_fail('--adminuser may contain only lower-case letters, digits and _ . @ -');
}
// Moodle's validate_email(): PHPMailer's check (PHP's FILTER_VALIDATE_EMAIL) and no < or >.
foreach (['adminemail', 'supportemail', 'noreplyemail'] as $emailoption) {
    $value = $options[$emailoption];
    if ($value !== '' && (!is_string($value) || filter_var($value, FILTER_VALIDATE_EMAIL) === false
            || preg_match('/[<>]/', $value))) {
        standin_fail("Incorrect value for the option '$emailoption'");
    }
}
// As Moodle: any language code is cleaned to a safe folder name and falls
// back to en when the installer has no pack for it.
$lang = is_string($options['lang']) ? preg_replace('/[^a-zA-Z0-9_-]/', '', $options['lang']) : '';
if ($lang === '' || !is_dir($CFG->dirroot . '/install/lang/' . $lang)) {
    $lang = 'en';
}

// Moodle's environment check: PHP's side now, the database's once connected.
standin_environment_enforce(standin_environment_problems(standin_environment_facts()));

$db = standin_db();

if (standin_tables($db)) {
    standin_fail('Database tables already present; CLI installation cannot continue.');
}
standin_environment_enforce(standin_environment_problems(
    standin_environment_facts((string)$db->query('SELECT VERSION()')->fetchColumn())));

$info = standin_release_info();
$now = time();

try {
    $db->exec('CREATE TABLE ' . standin_table('config') . ' (
        id BIGINT NOT NULL AUTO_INCREMENT,
        name VARCHAR(190) NOT NULL,
        value LONGTEXT NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY name (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci');
    $db->exec('CREATE TABLE ' . standin_table('user') . ' (
        id BIGINT NOT NULL AUTO_INCREMENT,
        auth VARCHAR(20) NOT NULL DEFAULT \'manual\',
        confirmed TINYINT NOT NULL DEFAULT 0,
        deleted TINYINT NOT NULL DEFAULT 0,
        username VARCHAR(100) NOT NULL,
        password VARCHAR(255) NOT NULL DEFAULT \'\',
        firstname VARCHAR(100) NOT NULL DEFAULT \'\',
        lastname VARCHAR(100) NOT NULL DEFAULT \'\',
        email VARCHAR(100) NOT NULL DEFAULT \'\',
        timecreated BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (id),
        UNIQUE KEY username (username)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci');
    $db->exec('CREATE TABLE ' . standin_table('course') . ' (
        id BIGINT NOT NULL AUTO_INCREMENT,
        category BIGINT NOT NULL DEFAULT 0,
        fullname VARCHAR(254) NOT NULL DEFAULT \'\',
        shortname VARCHAR(255) NOT NULL DEFAULT \'\',
        summary LONGTEXT NULL,
        format VARCHAR(21) NOT NULL DEFAULT \'topics\',
        timecreated BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci');

    if (getenv('MOODLE_STANDIN_FAIL_AT') === 'after-tables') {
        fwrite(STDERR, "stand-in: stopping after the tables as MOODLE_STANDIN_FAIL_AT asks\n");
        exit(3);
    }

    // install_core(): the front page (its names come later), the guest and
    // the admin account, the core settings.
    $db->beginTransaction();
    $user = $db->prepare('INSERT INTO ' . standin_table('user')
        . ' (id, auth, confirmed, username, password, firstname, lastname, email, timecreated)'
        . ' VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)');
    $user->execute([1, 'manual', 'guest', password_hash(bin2hex(random_bytes(16)), PASSWORD_DEFAULT),
        'Guest user', ' ', 'root@localhost', $now]);
    $user->execute([2, 'manual', 'admin', '', 'Admin', 'User', '', $now]);
    $db->prepare('INSERT INTO ' . standin_table('course')
        . ' (id, category, fullname, shortname, summary, format, timecreated) VALUES (1, 0, ?, ?, ?, ?, ?)')
        ->execute(['', '', '', 'site', $now]);
    standin_set_config($db, 'version', sprintf('%.2f', $info['version']));
    standin_set_config($db, 'release', (string)$info['release']);
    standin_set_config($db, 'branch', (string)$info['branch']);
    standin_set_config($db, 'siteidentifier', bin2hex(random_bytes(16)) . parse_url($CFG->wwwroot, PHP_URL_HOST));
    standin_set_config($db, 'siteadmins', '2');
    standin_set_config($db, 'siteguest', '1');
    standin_set_config($db, 'lang', $lang);
    $db->commit();

    // install_cli_database(): the admin's password, name and address, the
    // support address, then rolesactive. Moodle sets rolesactive here,
    // before the default settings and the site's names: an install stopped
    // after it is not finished, although rolesactive says 1.
    $db->prepare('UPDATE ' . standin_table('user') . ' SET username = ?, password = ?, email = ? WHERE id = 2')
        ->execute([$options['adminuser'], password_hash($options['adminpass'], PASSWORD_DEFAULT), $options['adminemail']]);
    if ($options['supportemail'] !== '') {
        standin_set_config($db, 'supportemail', $options['supportemail']);
    } else if ($options['adminemail'] !== '') {
        standin_set_config($db, 'supportemail', $options['adminemail']);
    }
    if ($options['noreplyemail'] !== '') {
        standin_set_config($db, 'noreplyaddress', $options['noreplyemail']);
    }
    standin_set_config($db, 'rolesactive', '1');

    if (getenv('MOODLE_STANDIN_FAIL_AT') === 'after-rolesactive') {
        fwrite(STDERR, "stand-in: stopping after rolesactive as MOODLE_STANDIN_FAIL_AT asks\n");
        exit(3);
    }

    // Default settings, then the site's names on the front page.
    standin_set_config($db, 'timezone', 'Europe/Berlin');
    $db->prepare('UPDATE ' . standin_table('course') . ' SET fullname = ?, shortname = ?, summary = ? WHERE id = 1')
        ->execute([$options['fullname'], $options['shortname'], $options['summary']]);
} catch (PDOException $e) {
    standin_fail('Database error during installation: ' . $e->getMessage());
}

foreach (['filedir', 'temp', 'cache', 'sessions'] as $dir) {
    $path = $CFG->dataroot . '/' . $dir;
    if (!is_dir($path) && !@mkdir($path, $CFG->directorypermissions, true)) {
        standin_fail("can not create $path in dataroot");
    }
}

echo "Installation completed successfully.\n";
exit(0);
