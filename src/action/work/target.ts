/**
 * Where a turn works: which branch is checked out before the agent starts, where its changes are
 * pushed, and which session it continues. Decided from the event alone, before any git runs.
 */
import { KugetsuError } from '../../errors.js'
import type { PullRequestInfo } from './pull-request-info.js'

export const DEFAULT_BRANCH_PREFIX = 'kugetsu/'
const MAX_PREFIX_LENGTH = 100
/** Git has no limit, but refs are files: 255 bytes is the usual file-name limit. */
const MAX_BRANCH_LENGTH = 255

/**
 * Characters a branch name may hold: letters, marks and digits of any script, and a few ASCII
 * punctuation marks. Stricter than `git check-ref-format`: quotes, backticks, `$;|&<>(){}!` and
 * whitespace are refused too, so a name can be put in a reply, a log or a command line without
 * quoting, and nothing invisible (format characters, bidi overrides) can make it read as another.
 */
const BRANCH_CHARACTERS = /^[\p{L}\p{M}\p{N}._\-/+=,#%@]+$/u

/** Why `name` is not a branch kugetsu will check out or push to; undefined when it is fine. */
function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty'
  if (name.length > MAX_BRANCH_LENGTH) return `is longer than ${MAX_BRANCH_LENGTH} characters`
  if (!BRANCH_CHARACTERS.test(name)) {
    return 'may only hold letters, digits and . _ - / + = , # % @'
  }
  if (/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(name)) return 'holds invisible characters'
  // The rules of `git check-ref-format --branch` that the characters above still allow.
  if (name.startsWith('-')) return 'starts with "-" (git would read it as an option)'
  if (name.includes('..')) return 'contains ".."'
  if (name.includes('@{') || name === '@') return 'contains "@{" or is "@"'
  if (name.endsWith('.')) return 'ends with "."'
  const components = name.split('/')
  if (components.some((component) => component === '')) {
    return 'starts or ends with "/" or contains "//"'
  }
  if (components.some((component) => component.startsWith('.'))) {
    return 'has a part starting with "."'
  }
  if (components.some((component) => component.endsWith('.lock'))) {
    return 'has a part ending in ".lock"'
  }
  // Ambiguous with symbolic and full ref names wherever git resolves a name.
  if (name === 'HEAD' || name.startsWith('refs/')) return 'is "HEAD" or starts with "refs/"'
  return undefined
}

/**
 * Whether a branch name (such as a pull request's head ref, written by whoever opened it) is one
 * kugetsu will check out or push to: valid for git, and plain enough to show and pass around.
 */
export function isSafeBranchName(name: string): boolean {
  return typeof name === 'string' && branchNameProblem(name) === undefined
}

/** The `branch-prefix` input, checked so that every branch made from it is a safe name. */
export function validateBranchPrefix(value: string): string {
  const shown = JSON.stringify(value.slice(0, 80)).replace(/[^\x20-\x7e]/g, '?')
  const refuse = (why: string): never => {
    throw new KugetsuError('invalid-input', `branch-prefix ${why}; got ${shown}`)
  }
  // Empty is refused: the prefix is what tells kugetsu's branches from people's, and a person's
  // `issue-7` would otherwise continue issue 7's session and receive its pushes.
  if (value === '') refuse(`must not be empty (the default is "${DEFAULT_BRANCH_PREFIX}")`)
  if (value.length > MAX_PREFIX_LENGTH) refuse(`must be at most ${MAX_PREFIX_LENGTH} characters`)
  const problem = branchNameProblem(conflictBranch(value, 1, '1'))
  if (problem !== undefined) {
    refuse(
      `must make valid branch names such as "${DEFAULT_BRANCH_PREFIX}issue-7", but the name it makes ${problem}`
    )
  }
  return value
}

export function issueBranch(prefix: string, issueNumber: number): string {
  return `${prefix}issue-${issueNumber}`
}

/** Where a turn's commits go when the issue's branch moved and rebasing onto it conflicted. */
export function conflictBranch(prefix: string, issueNumber: number, runId: string): string {
  return `${prefix}issue-${issueNumber}-conflict-${runId}`
}

/** The issue whose branch `branch` is, only for exactly the form issueBranch makes. */
export function issueOfBranch(prefix: string, branch: string): number | undefined {
  if (!branch.startsWith(prefix)) return undefined
  const match = /^issue-([1-9][0-9]{0,14})$/.exec(branch.slice(prefix.length))
  if (!match) return undefined
  const number = Number(match[1])
  return Number.isSafeInteger(number) ? number : undefined
}

export interface WorkPlanInput {
  push: boolean
  prefix: string
  repoFullName: string
  issueNumber: number
  /** set when the comment is on a pull request */
  pull?: PullRequestInfo
}

export interface WorkPlan {
  /** The issue/PR number whose session this turn continues (a comment on kugetsu's own PR continues its issue's session). */
  sessionNumber: number
  /** What to check out before the turn; undefined (push: false) leaves the workspace as the workflow checked it out. */
  checkout?: { kind: 'branch'; branch: string } | { kind: 'pull'; ref: string; number: number }
  /** Where the agent's changes are pushed; undefined: read-only. */
  pushBranch?: string
  /** The checkout is someone else's (a fork): its agent configuration must not be loaded. */
  untrustedConfig: boolean
  /** Said in the reply when nothing will be pushed for a reason the user should know (fork, closed/merged PR, unsafe head name). */
  readOnlyReason?: string
}

const READ_ONLY = 'this turn worked on its head read-only and nothing was pushed'

/** Why nothing is pushed to this pull request's head, most important first; undefined: push. */
function readOnlyReason(pull: PullRequestInfo, sameRepo: boolean, safeHead: boolean) {
  const ref = `#${pull.number}`
  if (pull.merged) return `${ref} is merged: ${READ_ONLY}.`
  if (pull.state === 'closed')
    return `${ref} is closed: ${READ_ONLY}; reopen it for kugetsu to push.`
  if (pull.headRepo === null) {
    return `${ref}'s head repository was deleted: ${READ_ONLY}, and none of its agent configuration was loaded.`
  }
  if (!sameRepo) {
    return `${ref} comes from a fork (${pull.headRepo.replace(/[^A-Za-z0-9._/-]/g, '')}): kugetsu does not push to forks, so ${READ_ONLY}, and none of the fork's agent configuration was loaded.`
  }
  if (!safeHead) {
    return `${ref}'s head branch name is not one kugetsu checks out by name or pushes to (it allows letters, digits and . _ - / + = , # % @ in git's usual form): ${READ_ONLY}.`
  }
  return undefined
}

/** Where a turn works; see WorkPlan. */
export function planWork(input: WorkPlanInput): WorkPlan {
  const { pull, prefix } = input
  if (pull === undefined) {
    if (!input.push) return { sessionNumber: input.issueNumber, untrustedConfig: false }
    const branch = issueBranch(prefix, input.issueNumber)
    return {
      sessionNumber: input.issueNumber,
      checkout: { kind: 'branch', branch },
      pushBranch: branch,
      untrustedConfig: false
    }
  }

  const sameRepo =
    pull.headRepo !== null && pull.headRepo.toLowerCase() === input.repoFullName.toLowerCase()
  const safeHead = isSafeBranchName(pull.headRef)
  // Only a branch of this repository can be kugetsu's own; a fork can name its branch anything.
  const ownIssue = sameRepo && safeHead ? issueOfBranch(prefix, pull.headRef) : undefined
  const sessionNumber = ownIssue ?? pull.number
  // push: false is today's read-only mode: the workspace stays as the workflow checked it out
  // (the base repository), but one conversation still follows kugetsu's pull request.
  if (!input.push) return { sessionNumber, untrustedConfig: false }

  const reason = readOnlyReason(pull, sameRepo, safeHead)
  // A closed pull request's branch is often deleted (GitHub can do it on merge), while
  // refs/pull/N/head stays; and a read-only turn has no use for the branch itself.
  const checkout: WorkPlan['checkout'] =
    reason === undefined
      ? { kind: 'branch', branch: pull.headRef }
      : { kind: 'pull', ref: `refs/pull/${pull.number}/head`, number: pull.number }
  const plan: WorkPlan = { sessionNumber, checkout, untrustedConfig: !sameRepo }
  if (reason === undefined) plan.pushBranch = pull.headRef
  else plan.readOnlyReason = reason
  return plan
}
