<?php
// TEST DOUBLE: part of the Moodle stand-in used only by the lab and the tests
// (see README.md). It is not Moodle.
//
// Finds and loads the site's config.php. A site's code folder may hold its own
// config.php next to symlinks into a shared release; PHP resolves symlinks in
// __DIR__, so the path the script was started with comes first and the
// release's own folder last.

/**
 * Folders that may be the site's root, most specific first.
 *
 * @param int $depth how many folders below the site root the entry script is
 * @return string[]
 */
function standin_site_root_candidates(int $depth): array {
    $candidates = [];
    $script = (string)($_SERVER['SCRIPT_FILENAME'] ?? '');
    // php-fpm behind mod_proxy_fcgi may see "proxy:fcgi://host/path".
    $script = (string)preg_replace('#^proxy:[a-z]+://[^/]*#', '', $script);
    if ($script !== '' && is_file($script)) {
        if ($script[0] !== '/') {
            $script = getcwd() . '/' . $script;
        }
        $candidates[] = dirname($script, $depth + 1);
    }
    if (PHP_SAPI !== 'cli' && !empty($_SERVER['DOCUMENT_ROOT'])) {
        $candidates[] = rtrim((string)$_SERVER['DOCUMENT_ROOT'], '/');
    }
    if (PHP_SAPI === 'cli' && getcwd() !== false) {
        $candidates[] = getcwd();
    }
    $candidates[] = dirname(__DIR__);
    return array_values(array_unique($candidates));
}

/**
 * Loads config.php of the site the running script belongs to, which in turn
 * loads lib/setup.php. Stops with a message when there is none.
 */
function standin_require_config(int $depth): void {
    global $CFG;
    foreach (standin_site_root_candidates($depth) as $root) {
        if (is_file($root . '/config.php')) {
            require_once($root . '/config.php');
            return;
        }
    }
    $message = 'config.php does not exist, can not continue';
    if (PHP_SAPI === 'cli') {
        fwrite(STDERR, $message . "\n");
        exit(1);
    }
    http_response_code(503);
    header('Content-Type: text/plain; charset=utf-8');
    echo $message, "\n";
    exit(1);
}
