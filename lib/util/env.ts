/** Environment variables, read in one way: an unset and an empty variable are both missing. */

/** The environment, or a stand-in for it in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value of `name`, or undefined when it is unset or empty. */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
