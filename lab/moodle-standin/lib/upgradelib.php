<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// What admin/cli/upgrade.php decides and does, apart from the database
// connection: the settings it reads and writes come through a small store,
// so tests can run every branch without a database server.

/** The site's settings (`<prefix>config`): null for a name it does not hold, or when there is no such table. */
interface standin_config_store {
    public function get(string $name): ?string;
    public function set(string $name, string $value): void;
}

/** The store of a site's own database. */
class standin_pdo_config_store implements standin_config_store {
    public function __construct(private PDO $db) {
    }

    public function get(string $name): ?string {
        return standin_table_exists($this->db, 'config') ? standin_get_config($this->db, $name) : null;
    }

    public function set(string $name, string $value): void {
        standin_set_config($this->db, $name, $value);
    }
}

/**
 * Upgrades the site's recorded version to the code's, as Moodle's
 * admin/cli/upgrade.php does, in its order: refused when the site records no
 * version (not installed), when the code is older than the database
 * (downgrade), when the code is not stable and --allow-unstable is missing;
 * exit 63 when there is nothing to upgrade; then the environment check
 * ($environmentcheck stops the script itself when it fails), and the new
 * version, release and branch are recorded.
 *
 * @param array $code $version, $release, $branch, $maturity of version.php (standin_release_info())
 * @param array $options the script's options (non-interactive, allow-unstable)
 * @param callable $environmentcheck called before anything is written
 * @param callable|null $confirm asked in interactive mode; true to go on
 * @return array [exit code, standard output, standard error]
 */
function standin_upgrade(standin_config_store $store, array $code, array $options, callable $environmentcheck,
        ?callable $confirm = null): array {
    $dbversion = $store->get('version');
    if ($dbversion === null || $dbversion === '' || (float)$dbversion <= 0) {
        return [1, '', "Config table does not contain version, can not continue, sorry.\n"];
    }
    $codeversion = (float)$code['version'];
    if ($codeversion < (float)$dbversion) {
        return [1, '', "Error: The code you are using is older than the version recorded in the database.\n"];
    }
    $oldversion = ($store->get('release') ?? '') . " ($dbversion)";
    $newversion = $code['release'] . ' (' . sprintf('%.2f', $codeversion) . ')';
    if ($codeversion == (float)$dbversion) {
        return [63, '', "No upgrade needed for the installed version {$newversion}. Thanks for coming anyway!\n"];
    }
    if ((int)$code['maturity'] < MATURITY_STABLE && empty($options['allow-unstable'])) {
        if (!empty($options['non-interactive'])) {
            return [1, '', "The version of Moodle that you are about to upgrade to is not stable code; "
                . "--allow-unstable is required in non-interactive mode.\n"];
        }
    }
    $environmentcheck();
    if (empty($options['non-interactive']) && !($confirm !== null && $confirm($newversion))) {
        return [1, '', ''];
    }
    $store->set('version', sprintf('%.2f', $codeversion));
    $store->set('release', (string)$code['release']);
    $store->set('branch', (string)$code['branch']);
    return [0, "Command line upgrade from {$oldversion} to {$newversion} completed successfully.\n", ''];
}
