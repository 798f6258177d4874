/**
 * Polls `condition` until it holds or about `timeoutMs` has passed, for work Convoy does after it
 * answers (workflows, schedules). Resolves to whether it held; the test asserts on the state itself.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, everyMs = 50 } = {},
): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += everyMs) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return condition();
}
