/**
 * Everything that runs on a VM (cloud-init seed, host bootstrap with the site
 * tool it installs, the sites' install and delete command lines) and the
 * sites' DNS updates. Pure functions from plain inputs to text.
 */
export type { HostScriptInput, MoodleReleaseSource, PluginBundle, ScriptOptions, SiteScriptInput, SystemPaths } from "./types";
export { DEFAULT_SYSTEM_PATHS } from "./types";
export { MOODLE_EMAIL_MAX, ScriptInputError, moodleEmailProblem, validateHostInput, validateSiteInput } from "./validate";
export { base64Embed, heredoc, phpQuote, shellJoin, shellQuote, sqlIdent, sqlQuote } from "./quote";
export { DATA_DISK_DEVICE, DATA_DISK_LABEL, DEFAULT_DATA_MOUNT, dataMountOf } from "./datadisk";
export { cloudInitMetaData, cloudInitNetworkConfig, cloudInitUserData } from "./cloudinit";
export {
  MOODLE_REQUIRED_EXTENSIONS,
  OPTIONAL_PACKAGES,
  PREFLIGHT_EXTENSIONS,
  REQUIRED_PACKAGES,
  hostBootstrapScript,
  mariadbMaxConnections,
  releaseDescription,
  releaseId,
  siteToolHostConf,
} from "./bootstrap";
export { adminPasswordFromInstallOutput, siteDeleteCommand, siteInstallCommand, siteMarkerPath, siteSlug } from "./site";
export {
  SITE_TOOL_NAME,
  SITE_TOOL_SOURCE_DIR,
  siteToolDigest,
  siteToolFiles,
  siteToolHostConfPath,
  siteToolPath,
  siteToolUploadDir,
  type SiteToolFile,
} from "./site-tool";
export { SITE_CONFIG_ENV, releaseConfigPhp } from "./php";
export {
  dnsHostRecordsDeleteScript,
  dnsHostRecordsScript,
  dnsStdin,
  type DnsServer,
  type HostRecordsInput,
} from "./dns";
