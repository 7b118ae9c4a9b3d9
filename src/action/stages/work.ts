/**
 * The turn's work product: where it works (the plan), the checkout before the agent starts, and
 * after it the commit, the push and the pull request; what the reply and the record say of them.
 */
import * as core from '@actions/core'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage, isKugetsuError } from '../../errors.js'
import type { IssueRecord, WorkRecord } from '../../store/types.js'
import type { IssueInfo } from '../github/event.js'
import { defaultBranchName } from '../github/scope.js'
import { committerIdentity } from '../work/identity.js'
import { branchNews } from '../work/branch-news.js'
import type { Frame } from '../conversation/untrusted.js'
import { checkOut, type CheckedOut } from '../work/checkout.js'
import { restoreWorkspaceGit, snapshotWorkspaceGitAt } from '../work/workspace-git.js'
import { commitMessage } from '../work/commit-message.js'
import { publishWork, type Identity, type Published } from '../work/publish.js'
import { ensurePullRequest } from '../work/pull-request.js'
import { conflictBranch, planWork, type WorkPlan } from '../work/target.js'
import { commitsBetween, type BranchCommit } from '../work/history.js'
import type { RunContext, TurnRequest } from './context.js'

/** What the turn did with its work, for the reply, the outputs and the summary. */
export interface WorkReport {
  branch?: string
  commit?: string
  /** This turn's commits on the branch (a compare link), or the commit alone on a new branch. */
  changesUrl?: string
  pullRequest?: { number: number; url: string }
  notes: string[]
}

function repoUrl(context: RunContext): string {
  return `${context.runner.serverUrl}/${context.repo.owner}/${context.repo.repo}`
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(2)} s`

/** Where the turn works: the issue's branch, a pull request's head, or (push: false) as it is. */
export async function planTurnWork(
  request: TurnRequest,
  issue: IssueInfo,
  context: RunContext
): Promise<WorkPlan> {
  const { inputs, repo } = context
  const pull = issue.isPullRequest ? await context.github.pullRequest(issue.number) : undefined
  return planWork({
    push: inputs.push,
    prefix: inputs.branchPrefix,
    repoFullName: `${repo.owner}/${repo.repo}`,
    issueNumber: request.ref.number,
    pull
  })
}

/**
 * The checkout, started at once. `release`, once the agent is stopped, puts the workspace's own
 * `.git` back as the agent found it (later steps of the job run git there with the runner's
 * privileges) and removes kugetsu's private repository.
 */
export function startCheckout(
  plan: WorkPlan,
  context: RunContext
): { checkedOut: Promise<CheckedOut | undefined>; release(): Promise<void> } {
  if (!plan.checkout) {
    const workspaceGit = snapshotWorkspaceGitAt(context.runner.workingDirectory, context.env)
    workspaceGit.catch(() => undefined)
    return {
      checkedOut: workspaceGit.then(() => undefined),
      release: async () => {
        const snapshot = await workspaceGit.catch(() => undefined)
        if (snapshot) await restoreWorkspaceGit(snapshot)
      }
    }
  }
  const { env, inputs, runner } = context
  const privateDir = mkdir(runner.temp, { recursive: true }).then(() =>
    mkdtemp(join(runner.temp, 'kugetsu-git-'))
  )
  const started = Date.now()
  const checkedOut = privateDir.then(async (dir) => {
    const done = await checkOut({
      plan,
      cwd: runner.workingDirectory,
      privateDir: dir,
      remoteUrl: `${repoUrl(context)}.git`,
      token: inputs.githubToken,
      defaultBranch: await defaultBranchName(context.defaultBranch, () =>
        context.github.defaultBranch()
      ),
      env,
      github: context.github,
      log: core.info,
      warn: core.warning
    })
    if (done) {
      const where = done.branch ?? `#${plan.sessionNumber}'s head`
      core.info(`git: checked out ${where} at ${done.base.slice(0, 7)} in ${seconds(started)}`)
    }
    return done
  })
  checkedOut.catch(() => undefined)
  return {
    checkedOut,
    release: async () => {
      const done = await checkedOut.catch(() => undefined)
      if (done) await restoreWorkspaceGit(done.workspaceGit)
      await rm(await privateDir, { recursive: true, force: true }).catch(() => undefined)
    }
  }
}

/**
 * What others pushed to the branch since the session's last turn, told to the agent before the
 * message; empty when nothing moved.
 */
export async function newsSinceLastTurn(
  checkout: CheckedOut | undefined,
  previous: WorkRecord | undefined,
  frame: Frame
): Promise<string> {
  if (!checkout?.branch || !checkout.remoteHead || !previous) return ''
  if (previous.branch !== checkout.branch || checkout.replaces) return ''
  const ranges = [
    ...(previous.head === checkout.remoteHead
      ? []
      : [{ from: previous.head, to: checkout.remoteHead }]),
    ...(previous.unseen ? [previous.unseen] : [])
  ]
  if (ranges.length === 0) return ''
  const commits: BranchCommit[] = []
  let complete = true
  for (const range of ranges) {
    const history = await commitsBetween(checkout.git, range.from, range.to)
    commits.push(...history.commits)
    complete &&= history.complete
  }
  return branchNews(
    {
      branch: checkout.branch,
      from: ranges.at(-1)?.from ?? previous.head,
      to: checkout.remoteHead,
      commits,
      complete
    },
    frame
  )
}

/** The bot the token commits as (see committerIdentity). */
async function committer(context: RunContext): Promise<Identity> {
  const user = await context.github.tokenUser().catch(() => undefined)
  return committerIdentity(context.runner.forge, context.repo.host, user)
}

/** The agent's changes as a patch in the log, when they could not be pushed. */
async function logPatch(checkout: CheckedOut): Promise<void> {
  const patch = await checkout.git
    .run(['diff', '--cached', '--binary', checkout.base])
    .catch(() => undefined)
  if (!patch) return
  core.startGroup("The agent's changes (not pushed)")
  core.info(patch.stdout.slice(0, 1_000_000))
  core.endGroup()
}

/** Commits and pushes the turn's work and keeps its pull request; the record learns the head. */
export async function publishTurnWork(
  checkout: CheckedOut | undefined,
  request: TurnRequest,
  issue: IssueInfo,
  record: IssueRecord,
  context: RunContext
): Promise<{ report: WorkReport; record: IssueRecord }> {
  if (!checkout) return { report: { notes: [] }, record }
  const { plan } = checkout
  const notes = [...checkout.notes]
  let published: Published
  const started = Date.now()
  try {
    published = await publishWork(checkout, {
      message: commitMessage({
        request: request.message,
        issueNumber: plan.sessionNumber,
        turn: record.turns,
        author: { login: request.author, id: request.authorId },
        commentUrl: request.comment?.url,
        host: context.repo.host
      }),
      identity: await committer(context),
      warn: (line) => {
        core.warning(line)
        notes.push(line)
      },
      conflictBranch: conflictBranch(
        context.inputs.branchPrefix,
        plan.sessionNumber,
        context.runner.runId
      )
    })
  } catch (error) {
    if (isKugetsuError(error, 'push-failed')) await logPatch(checkout)
    throw error
  }
  core.info(
    `git: ${published.commit ? `pushed ${published.commit.slice(0, 7)} to ${published.branch}` : 'nothing to push'} in ${seconds(started)}`
  )
  if (published.changed && !plan.pushBranch && plan.readOnlyReason) {
    notes.push("The agent's changes were not pushed.")
  }
  const report: WorkReport = { notes, branch: published.branch, commit: published.commit }
  if (published.commit) {
    report.changesUrl = published.before
      ? `${repoUrl(context)}/compare/${published.before}...${published.commit}`
      : `${repoUrl(context)}/commit/${published.commit}`
  }
  if (published.conflict) {
    notes.push(
      `This turn's work could not go on \`${plan.pushBranch}\` (${published.conflict}): it was pushed to \`${published.branch}\` instead. Nothing was overwritten; merge it by hand or ask kugetsu to.`
    )
  }
  if (checkout.restartedAfter && published.commit && !published.conflict) {
    notes.push(
      `#${checkout.restartedAfter} was merged, so \`${plan.pushBranch}\` started anew from \`${checkout.defaultBranch}\`.`
    )
  }
  if (published.rebasedOnto) {
    notes.push(
      `Someone pushed to \`${plan.pushBranch}\` while the agent worked: its commit was rebased onto theirs.`
    )
  }
  if (plan.pushBranch && !published.conflict) {
    const pull = await ensurePullRequest(context.github, {
      mode: context.inputs.pullRequest,
      branch: plan.pushBranch,
      base: checkout.defaultBranch,
      issue: { number: plan.sessionNumber, title: issue.title },
      // the branch as it stands is on the remote (not an old head a merge took, to be replaced)
      pushed:
        published.commit !== undefined ||
        (checkout.remoteHead !== undefined && checkout.replaces === undefined),
      mayOpen: published.commit !== undefined
    }).catch((error: unknown) => {
      const warning = `could not open the pull request for ${plan.pushBranch}: ${errorMessage(error)}`
      core.warning(warning)
      notes.push(`The pull request could not be opened (${errorMessage(error)}).`)
      return undefined
    })
    if (pull?.note) notes.push(pull.note)
    if (pull?.pull) report.pullRequest = { number: pull.pull.number, url: pull.pull.htmlUrl }
  }
  const work = workRecord(checkout, published)
  return { report, record: work ? { ...record, work } : record }
}

/** The head the agent's memory and the branch agree on after this turn. */
function workRecord(checkout: CheckedOut, published: Published): WorkRecord | undefined {
  const branch = checkout.plan.pushBranch
  if (!branch) return undefined
  // Set aside: the branch holds what others pushed, which the next turn tells the agent of.
  if (!published.commit || published.conflict) return { branch, head: checkout.base }
  if (!published.rebasedOnto) return { branch, head: published.commit }
  return {
    branch,
    head: published.commit,
    unseen: { from: checkout.base, to: published.rebasedOnto }
  }
}
