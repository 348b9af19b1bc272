<?php
// Moodle settings of school {{SCHOOL_ID}} (written by moodle-fleet on every
// install run; edits here are overwritten). Loaded by the shared release's
// config.php, which then loads Moodle itself: do not require lib/setup.php.
$CFG->dbtype    = 'mariadb';
$CFG->dblibrary = 'native';
$CFG->dbhost    = 'localhost';
$CFG->dbname    = {{DB_NAME}};
$CFG->dbuser    = {{DB_USER}};
$CFG->dbpass    = {{DB_PASS}};
$CFG->prefix    = 'mdl_';
$CFG->dboptions = [
    'dbpersist' => 0,
    'dbport' => '',
    'dbsocket' => '',
    'dbcollation' => 'utf8mb4_unicode_ci',
];
$CFG->wwwroot   = {{URL}};
$CFG->dataroot  = {{DATA_DIR}};
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02770;
// Per site: Moodle's default (/tmp/requestdir) would be shared by all sites
// of the host and owned by whichever ran first.
$CFG->localrequestdir = {{LOCAL_REQUEST_DIR}};

// Sessions in the host's Redis, as the site's own Redis user, which can
// reach only the keys under this prefix.
$CFG->session_handler_class = '\core\session\redis';
$CFG->session_redis_host = '127.0.0.1';
$CFG->session_redis_port = 6379;
$CFG->session_redis_database = 0;
$CFG->session_redis_prefix = {{REDIS_PREFIX}};
$CFG->session_redis_auth = [{{REDIS_USER}}, {{REDIS_PASS}}];
$CFG->session_redis_acquire_lock_timeout = 120;
$CFG->session_redis_lock_expire = 7200;
