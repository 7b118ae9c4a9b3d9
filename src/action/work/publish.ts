/**
 * After the turn: what the agent left in the worktree becomes one commit on the turn's branch,
 * pushed by kugetsu (never by the agent, never forced). When someone pushed meanwhile the commit is
 * rebased onto their head; when that conflicts it goes to a branch of its own. Nothing is lost.
 */
import * as core from '@actions/core'
import { KugetsuError } from '../../errors.js'
import type { CheckedOut } from './checkout.js'
import { fetchRefs } from './checkout.js'
import { gitComplaint, type Git } from './git.js'

export interface Identity {
  name: string
  email: string
}

export interface PublishOptions {
  message: string
  identity: Identity
  /** Where the work goes when it cannot be rebased onto what others pushed. */
  conflictBranch: string
  /** Told what was left out of the commit (default: a warning in the run). */
  warn?: (line: string) => void
}

export interface Published {
  /** Whether the agent left any change in the worktree (also when nothing is pushed). */
  changed: boolean
  /** The commit pushed; undefined when nothing was. */
  commit?: string
  /** The branch it was pushed to: the turn's, or the conflict branch. */
  branch?: string
  /** The branch's head before this commit (for a compare link); undefined for a new branch. */
  before?: string
  /** The work went to the conflict branch: why. */
  conflict?: string
  /** Someone else's head the commit was rebased onto. */
  rebasedOnto?: string
}

/** Pushes before giving up: each failure is someone pushing again in between. */
const PUSH_ATTEMPTS = 4

/** Submodule entries (mode 160000) of the index, or of a commit's tree: path -> commit. */
async function gitlinks(git: Git, commit?: string): Promise<Map<string, string>> {
  const listed = commit
    ? await git.run(['ls-tree', '-r', '-z', commit])
    : await git.run(['ls-files', '-s', '-z'])
  const links = new Map<string, string>()
  for (const entry of listed.stdout.split('\0')) {
    const tab = entry.indexOf('\t')
    const [mode, a, b] = entry.slice(0, tab).split(' ')
    if (mode === '160000') links.set(entry.slice(tab + 1), commit ? b : a)
  }
  return links
}

/**
 * The tree of the worktree as the agent left it (tracked and new files; .gitignore honoured).
 * What git cannot take is left out rather than failing the turn's work: a repository the agent
 * made inside the worktree (`git init`, a scaffolding tool) would otherwise become a submodule
 * entry pointing at a commit nobody can fetch, or, without a commit, stop `git add` altogether.
 */
async function snapshotTree(git: Git, base: string, warn: (line: string) => void): Promise<string> {
  const added = await git.run(['add', '-A', '--ignore-errors', '--', '.'], { okCodes: [1] })
  const refused = [...added.stderr.matchAll(/^error: (.*)$/gm)].map((match) => match[1])
  const before = await gitlinks(git, base)
  const nested = [...(await gitlinks(git)).keys()].filter((path) => !before.has(path))
  if (nested.length > 0) {
    await git.run(['update-index', '-z', '--force-remove', '--stdin'], {
      input: nested.map((path) => `${path}\0`).join('')
    })
  }
  const left = [
    ...nested.map((path) => `${path}/ (a git repository of its own)`),
    ...refused.filter((line) => !nested.some((path) => line.includes(`'${path}`)))
  ]
  if (left.length > 0) {
    warn(
      `Left out of the commit: ${left.slice(0, 20).join('; ')}${left.length > 20 ? `; and ${left.length - 20} more` : ''}. Nested repositories are not committed; move their files out of them (or remove their .git) to commit them.`
    )
  }
  return (await git.run(['write-tree'])).stdout.trim()
}

async function commitTree(
  git: Git,
  tree: string,
  parent: string,
  message: string,
  identity: Identity
): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email
  }
  const made = await git.run(['commit-tree', tree, '-p', parent, '-F', '-'], {
    env,
    input: message
  })
  return made.stdout.trim()
}

type PushOutcome = { ok: true } | { ok: false; retry: boolean; reason: string }

async function push(
  git: Git,
  commit: string,
  branch: string,
  replaces?: string
): Promise<PushOutcome> {
  const ref = `refs/heads/${branch}`
  const lease = replaces ? [`--force-with-lease=${ref}:${replaces}`] : []
  const result = await git.run(
    ['push', '--porcelain', '--no-verify', ...lease, git.remoteUrl, `${commit}:${ref}`],
    { auth: true, okCodes: [1, 128] }
  )
  if (result.code === 0) return { ok: true }
  const refused = result.stdout.split('\n').find((line) => line.startsWith('!'))
  if (!refused) {
    throw new KugetsuError(
      'push-failed',
      `could not push to ${branch}: ${gitComplaint(result)} (the workflow needs permissions: contents: write); the agent's changes are in this run's log as a patch`
    )
  }
  const reason = refused.split('\t').at(-1) ?? refused
  return { ok: false, retry: /fetch first|non-fast-forward|stale info/.test(reason), reason }
}

/** The head of `branch` as the remote has it now (fetched). */
async function fetchHead(git: Git, branch: string): Promise<string | undefined> {
  const ref = `refs/heads/${branch}`
  const listed = await git.run(['ls-remote', '--', git.remoteUrl, ref], { auth: true })
  const head = listed.stdout.split('\t')[0]?.trim()
  if (!head) return undefined
  await fetchRefs(git, [ref])
  return head
}

/**
 * `commit` replayed onto `onto` (a three-way merge against its parent, as a rebase does), or
 * undefined when they conflict or share no history kugetsu has.
 */
async function rebaseOnto(
  git: Git,
  commit: string,
  onto: string,
  message: string,
  identity: Identity
): Promise<string | undefined> {
  const merged = await git.run(['merge-tree', '--write-tree', '--no-messages', onto, commit], {
    okCodes: [1, 128]
  })
  if (merged.code !== 0) return undefined
  const tree = merged.stdout.split('\n')[0].trim()
  return commitTree(git, tree, onto, message, identity)
}

export async function publishWork(
  checkout: CheckedOut,
  options: PublishOptions
): Promise<Published> {
  const { git, plan, base } = checkout
  const tree = await snapshotTree(git, base, options.warn ?? core.warning)
  const baseTree = (await git.run(['rev-parse', `${base}^{tree}`])).stdout.trim()
  if (tree === baseTree) return { changed: false }
  const branch = plan.pushBranch
  if (!branch) return { changed: true }

  let commit = await commitTree(git, tree, base, options.message, options.identity)
  let before = checkout.replaces ? undefined : checkout.remoteHead
  let replaces = checkout.replaces
  let rebasedOnto: string | undefined
  let refusal = ''
  for (let attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
    const pushed = await push(git, commit, branch, replaces)
    if (pushed.ok) return { changed: true, commit, branch, before, rebasedOnto }
    refusal = pushed.reason
    if (!pushed.retry) break
    const head = await fetchHead(git, branch)
    if (!head) {
      // the branch was deleted meanwhile: the commit goes on the head it was made on
      replaces = undefined
      before = undefined
      continue
    }
    const rebased = await rebaseOnto(git, commit, head, options.message, options.identity)
    replaces = undefined
    if (!rebased) {
      refusal = `it conflicts with what was pushed to ${branch} meanwhile`
      break
    }
    commit = rebased
    before = head
    rebasedOnto = head
  }
  const aside = await push(git, commit, options.conflictBranch)
  if (!aside.ok) {
    throw new KugetsuError(
      'push-failed',
      `could not push to ${branch} (${refusal}) nor to ${options.conflictBranch} (${aside.reason})`
    )
  }
  return {
    changed: true,
    commit,
    branch: options.conflictBranch,
    conflict: refusal,
    before: undefined
  }
}
