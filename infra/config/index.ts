export * from "./schema";
export { validateFleetConfig, parseFleetConfig, formatKeyPath, checkPinnedHostKeys, type ConfigResult, type ConfigSource, type Locator } from "./validate";
export { loadStackConfig, parseStackConfig, secretCommand, secretWarnings, type StackConfigFile } from "./stack-file";
export { configFromValues } from "./pulumi-values";
export { sshPublicKeyFromPrivateKey, ed25519KeyPairFromSeed, type SshKeyPair } from "./ssh-key";
