import * as pulumi from "@pulumi/pulumi";

/** The SDK's hook that reads each new resource's call stack (private in its typings). */
interface CallsiteHook {
  callsites?: () => unknown[];
}

/**
 * Runs `declare` without the two kinds of stack trace the SDK takes for
 * every resource, unless PULUMI_DEBUG_PROMISE_LEAKS asks for them:
 *
 * - A trace for every promise it makes (a few hundred per resource), kept
 *   only for that variable; under tsx each is mapped through source maps,
 *   which was half of the evaluation time. `Error.stackTraceLimit = 0`.
 * - The resource's call stack, sent with its registration and stored in the
 *   state as `sourcePosition` and `stackTrace` (about 450 bytes a resource:
 *   a 200-school cell's state is 18 % smaller without them). The engine
 *   keeps them for display only: leaving them out changes no diff, and a
 *   stack whose state has them shows no update. The SDK reads the
 *   stack through `Resource.callsites`, which is replaced by an empty list
 *   while `declare` runs; the unit tests fail if the SDK stops reading it
 *   there.
 *
 * Errors raised meanwhile keep their message but no frames. Both settings
 * are given back afterwards, also when `declare` throws.
 */
export async function declareQuietly<T>(declare: () => Promise<T>): Promise<T> {
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return declare();
  const hook = pulumi.Resource as unknown as CallsiteHook;
  const callsites = hook.callsites;
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  if (typeof callsites === "function") hook.callsites = () => [];
  try {
    return await declare();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    if (typeof callsites === "function") hook.callsites = callsites;
  }
}
