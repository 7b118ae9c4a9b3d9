import { KugetsuError } from '../../errors.js'

/**
 * The Actions cache scope the session commands work in: the default branch's, named by the event
 * payload (`repository.default_branch`) or else read from the repository with one REST call.
 */

/**
 * A plausible git branch name (git check-ref-format's rules, loosely): the name goes into a ref
 * that decides what may be deleted, so an odd one is refused rather than used.
 */
export function isBranchName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 255 &&
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    !/[\x00-\x20\x7f~^:?*[\\]|\.\.|\/\/|@\{|^[/.-]|[/.]$|\.lock$/.test(name)
  )
}

/* eslint-disable @typescript-eslint/no-explicit-any -- webhook payloads are untyped JSON */
/** The default branch the event payload names; undefined when it names none (or an odd one). */
export function defaultBranchFromPayload(payload: any): string | undefined {
  const branch: unknown = payload?.repository?.default_branch
  return isBranchName(branch) ? branch : undefined
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** `refs/heads/<branch>`: the cache scope of the default branch, as the caches API names it. */
export async function defaultBranchRef(
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
  return `refs/heads/${branch}`
}
