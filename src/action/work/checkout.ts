/**
 * The turn's worktree, before the agent starts: the branch (or the pull request's head)
 * fetched into kugetsu's private repository and checked out in the workspace, so what the session
 * remembers and what the agent finds on disk agree.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { KugetsuError, errorMessage } from '../../errors.js'
import type { GitHub } from '../github/github.js'
import { isAgentConfigPath } from './agent-config.js'
import { createGit, type Git } from './git.js'
import type { PullRequestInfo } from './pull-request-info.js'
import type { WorkPlan } from './target.js'
import { snapshotWorkspaceGit, type WorkspaceGitSnapshot } from './workspace-git.js'

/** How much history kugetsu fetches: enough to tell the agent what others pushed, and to rebase. */
export const FETCH_DEPTH = 50

export interface CheckedOut {
  git: Git
  plan: WorkPlan
  /** The branch the turn works on: pushed to when the plan says so. */
  branch?: string
  /** The commit the workspace was checked out at. */
  base: string
  /** The branch's head before the turn; undefined for a branch the first push creates. */
  remoteHead?: string
  /** A head the first push replaces (the branch of a merged pull request starts anew). */
  replaces?: string
  /** The merged pull request after which the branch starts anew. */
  restartedAfter?: number
  defaultBranch: string
  /** The open pull request from the branch, when one was found. */
  pullRequest?: PullRequestInfo
  /** Lines for the reply (a branch started anew, why nothing will be pushed...). */
  notes: string[]
  /** The workspace's own repository as the agent found it, put back after the turn. */
  workspaceGit: WorkspaceGitSnapshot
}

export interface CheckoutOptions {
  plan: WorkPlan
  /** The directory opencode works in; the git worktree is the repository around it. */
  cwd: string
  /** A directory only kugetsu can read, for its repository. */
  privateDir: string
  remoteUrl: string
  token: string
  defaultBranch: string
  env: NodeJS.ProcessEnv
  github: Pick<GitHub, 'pullRequestsFrom'>
  log: (line: string) => void
  warn: (line: string) => void
}

/** The repository the working directory is in, as the workflow checked it out (or a new one). */
async function worktreeRoot(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const probe = createGit({ gitDir: '', workTree: cwd, remoteUrl: '', token: '', env })
  const top = await probe.inWorkspace(['rev-parse', '--show-toplevel'], { okCodes: [128] })
  if (top.code === 0 && top.stdout.trim()) return top.stdout.trim()
  await probe.inWorkspace(['init', '-q'])
  return cwd
}

/**
 * A token actions/checkout left for the workspace (`persist-credentials` not set to false) is
 * taken out before the agent can read it; kugetsu's own git needs none of it. v4 leaves it in
 * `.git/config`; v6 in a file under RUNNER_TEMP that `.git/config` includes (readable by the
 * agent, whose path it names), so the includes are followed and the header removed where it is.
 */
async function removePersistedCredentials(git: Git, log: (line: string) => void): Promise<void> {
  const found = await git.inWorkspace(
    [
      'config',
      '--local',
      '--includes',
      '--show-origin',
      '--name-only',
      '-z',
      '--get-regexp',
      '^http\\..*extraheader$'
    ],
    { okCodes: [1] }
  )
  const fields = found.stdout.split('\0')
  const entries = new Map<string, { file: string; key: string }>()
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [origin, key] = [fields[i], fields[i + 1]]
    if (!origin.startsWith('file:') || !key) continue
    const file = origin.slice('file:'.length)
    entries.set(`${file}\0${key}`, { file, key })
  }
  for (const { file, key } of entries.values()) {
    await git.inWorkspace(['config', '--file', file, '--unset-all', key], { okCodes: [5] })
  }
  const keys = [...new Set([...entries.values()].map((entry) => entry.key))]
  if (keys.length > 0) {
    log(
      `Removed ${keys.join(', ')} from the workspace's git configuration (${[...new Set([...entries.values()].map((entry) => entry.file))].join(', ')}): actions/checkout stored the workflow token there, where the agent could read it. Set persist-credentials: false on actions/checkout.`
    )
  }
}

/** The heads of `refs` on the remote (one request). */
async function remoteHeads(git: Git, refs: string[]): Promise<Map<string, string>> {
  const listed = await git.run(['ls-remote', '--', git.remoteUrl, ...refs], { auth: true })
  const heads = new Map<string, string>()
  for (const line of listed.stdout.split('\n')) {
    const [sha, ref] = line.split('\t')
    if (sha && ref) heads.set(ref, sha)
  }
  return heads
}

/** Fetches `refs` (which exist) into kugetsu's repository under refs/kugetsu/remote/. */
export async function fetchRefs(git: Git, refs: string[]): Promise<void> {
  if (refs.length === 0) return
  const specs = refs.map((ref) => `+${ref}:refs/kugetsu/remote/${ref.replace(/^refs\//, '')}`)
  await git.run(['fetch', '-q', '--no-tags', `--depth=${FETCH_DEPTH}`, git.remoteUrl, ...specs], {
    auth: true
  })
}

/** The branch's pull request was merged with the branch as it is: nothing on it is unmerged. */
async function mergedAsIs(
  github: CheckoutOptions['github'],
  branch: string,
  head: string
): Promise<PullRequestInfo | undefined> {
  const [newest] = await github.pullRequestsFrom(branch, 'all')
  return newest?.merged && newest.headSha === head ? newest : undefined
}

/**
 * The workspace at `commit`: on `branch`, or detached for a head that is not ours. Runs in the
 * workspace's own repository before the agent has touched it, without the token.
 */
async function checkOutInWorkspace(git: Git, commit: string, branch?: string): Promise<void> {
  await git.run(['update-ref', 'refs/kugetsu/checkout', commit])
  await git.inWorkspace(['fetch', '-q', '--no-tags', git.gitDir, 'refs/kugetsu/checkout'])
  const target = branch ? ['-B', branch, 'FETCH_HEAD'] : ['--detach', 'FETCH_HEAD']
  await git.inWorkspace(['checkout', '-q', '--force', ...target])
}

/**
 * A fork's agent configuration (opencode.json, .opencode/, AGENTS.md...) is taken out of the
 * worktree, and the base repository's put in its place: a stranger's head must not steer the agent
 * or point its provider elsewhere.
 */
async function useBaseAgentConfig(git: Git, head: string, baseCommit: string): Promise<number> {
  const listed = async (commit: string) =>
    (await git.run(['ls-tree', '-r', '-z', '--name-only', commit])).stdout
      .split('\0')
      .filter((path) => path && isAgentConfigPath(path))
  const forks = await listed(head)
  // git removes and writes them (a temporary index), never following a link out of the worktree
  const env = { GIT_INDEX_FILE: join(git.gitDir, 'config-index') }
  await git.run(['read-tree', head], { env })
  if (forks.length > 0)
    await git.run(['rm', '-q', '-f', '--ignore-unmatch', '--', ...forks], { env })
  const base = await listed(baseCommit)
  if (base.length > 0) await git.run(['checkout', '-q', baseCommit, '--', ...base], { env })
  return forks.length
}

export async function checkOut(options: CheckoutOptions): Promise<CheckedOut | undefined> {
  const { plan, defaultBranch } = options
  if (!plan.checkout) return undefined
  const workTree = await worktreeRoot(options.cwd, options.env)
  const gitDir = join(options.privateDir, 'git')
  await mkdir(gitDir, { recursive: true, mode: 0o700 })
  const git = createGit({
    gitDir,
    workTree,
    remoteUrl: options.remoteUrl,
    token: options.token,
    env: options.env
  })
  await git.inWorkspace(['init', '-q', '--bare', gitDir])
  await removePersistedCredentials(git, options.warn)
  const defaultRef = `refs/heads/${defaultBranch}`
  const headRef =
    plan.checkout.kind === 'branch'
      ? `refs/heads/${plan.checkout.branch}`
      : `refs/pull/${plan.checkout.number}/head`
  const heads = await remoteHeads(git, [defaultRef, headRef]).catch((error: unknown) => {
    throw new KugetsuError(
      'git-failed',
      `cannot read ${options.remoteUrl} (${errorMessage(error).replace(/^git \S+ failed: /, '')}); the runner must reach it, and github-token must be able to read the repository (contents: read)`,
      { cause: error }
    )
  })
  const defaultHead = heads.get(defaultRef)
  const remoteHead = heads.get(headRef)
  if (!defaultHead) {
    throw new KugetsuError(
      'no-default-branch',
      `the default branch ${defaultBranch} does not exist on ${options.remoteUrl}`
    )
  }
  if (plan.checkout.kind === 'pull' && !remoteHead) {
    throw new KugetsuError('not-found', `${headRef} does not exist on ${options.remoteUrl}`)
  }
  await fetchRefs(git, [defaultRef, ...(remoteHead ? [headRef] : [])])
  const notes: string[] = []
  const checkedOut: CheckedOut = {
    git,
    plan,
    base: remoteHead ?? defaultHead,
    remoteHead,
    defaultBranch,
    notes,
    workspaceGit: await snapshotWorkspaceGit(git)
  }
  if (plan.checkout.kind === 'branch') {
    const branch = plan.checkout.branch
    checkedOut.branch = branch
    const merged =
      remoteHead && plan.pushBranch
        ? await mergedAsIs(options.github, branch, remoteHead)
        : undefined
    if (merged && remoteHead) {
      checkedOut.base = defaultHead
      checkedOut.replaces = remoteHead
      checkedOut.restartedAfter = merged.number
    }
    await checkOutInWorkspace(git, checkedOut.base, branch)
  } else {
    await checkOutInWorkspace(git, checkedOut.base)
  }
  // Hashes the checkout now, while opencode starts: after the turn, git reads only what changed.
  await git.run(['read-tree', checkedOut.base])
  await git.run(['update-index', '-q', '--refresh'], { okCodes: [1] })
  if (plan.untrustedConfig) {
    const removed = await useBaseAgentConfig(git, checkedOut.base, defaultHead)
    if (removed > 0) {
      options.log(
        `The head's agent configuration (${removed} file(s)) was replaced by ${defaultBranch}'s`
      )
    }
  }
  if (plan.readOnlyReason) notes.push(plan.readOnlyReason)
  return checkedOut
}
