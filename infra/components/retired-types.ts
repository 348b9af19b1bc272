/**
 * The type of the component each site had until its install became a child
 * of its host (moodle-site.ts). Stacks made then hold one per site until
 * their next `up` deletes it; no command runs, a component is only a record.
 * The driver names those deletes for the reviewer.
 */
export const RETIRED_SITE_TYPE = "moodle-fleet:infra:MoodleSite";
