/** Which stage of a turn a failure came from, so the failure can say so. */

export type StageName =
  | 'reading the issue'
  | 'checking out the branch'
  | 'setting up opencode'
  | "restoring the issue's session"
  | "running the agent's turn"
  | "publishing the agent's work"
  | "saving the issue's session"
  | 'answering on the issue'

const stages = new WeakMap<object, StageName>()

/** Runs one stage; an error it throws remembers the stage (the innermost one, when nested). */
export async function inStage<T>(
  name: StageName,
  work: Promise<T> | (() => Promise<T>)
): Promise<T> {
  try {
    return await (typeof work === 'function' ? work() : work)
  } catch (error) {
    if (typeof error === 'object' && error !== null && !stages.has(error)) stages.set(error, name)
    throw error
  }
}

export function failedStage(error: unknown): StageName | undefined {
  return typeof error === 'object' && error !== null ? stages.get(error) : undefined
}
