import { KugetsuError } from '../../errors.js'
import { isSafeBranchName } from '../work/target.js'

/**
 * The Actions cache scope the session commands work in: the default branch's, named by the event
 * payload (`repository.default_branch`) or else read from the repository with one REST call.
 */

/**
 * A branch name kugetsu will use (see isSafeBranchName): the name goes into refs that decide what
 * is listed, deleted, fetched and pushed, so an odd one is refused rather than used.
 */
export function isBranchName(name: unknown): name is string {
  return typeof name === 'string' && isSafeBranchName(name)
}

/* eslint-disable @typescript-eslint/no-explicit-any -- webhook payloads are untyped JSON */
/** The default branch the event payload names; undefined when it names none (or an odd one). */
export function defaultBranchFromPayload(payload: any): string | undefined {
  const branch: unknown = payload?.repository?.default_branch
  return isBranchName(branch) ? branch : undefined
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The default branch: as the payload names it, else read with `readDefaultBranch`; checked. */
export async function defaultBranchName(
  fromPayload: string | undefined,
  readDefaultBranch: () => Promise<string>
): Promise<string> {
  const branch = fromPayload ?? (await readDefaultBranch())
  if (!isBranchName(branch)) {
    throw new KugetsuError(
      'no-default-branch',
      `the repository's default branch ${JSON.stringify(branch).slice(0, 80)} is not a branch name; nothing was listed or deleted`
    )
  }
  return branch
}

/** `refs/heads/<branch>`: the cache scope of the default branch, as the caches API names it. */
export async function defaultBranchRef(
  fromPayload: string | undefined,
  readDefaultBranch: () => Promise<string>
): Promise<string> {
  return `refs/heads/${await defaultBranchName(fromPayload, readDefaultBranch)}`
}
