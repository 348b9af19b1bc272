/**
 * What a command printed is kept in the state as a secret: an install's or
 * nsupdate's messages may quote a configuration line, and the state is read
 * by more people than the hosts are.
 */
export const COMMAND_OUTPUTS = ["stdout", "stderr"];
