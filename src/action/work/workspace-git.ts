/**
 * The workspace's own git repository, put back after the turn as the agent found it: the agent
 * can write there (hooks, settings that run commands: fsmonitor, filters, pager...), and the job's
 * later steps (actions/checkout's post step among them) run git in it with the runner's privileges.
 */
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createGit, type Git } from './git.js'

export interface WorkspaceGitSnapshot {
  /** The repository's git directory (absolute). */
  dir: string
  /** Its `config` before the agent ran. */
  config: string
}

/** Files of a git directory that make git run commands or read settings from elsewhere. */
const TAKEN_OUT = ['config.worktree', 'commondir', join('info', 'attributes')]

export async function snapshotWorkspaceGit(git: Git): Promise<WorkspaceGitSnapshot> {
  const dir = (await git.inWorkspace(['rev-parse', '--absolute-git-dir'])).stdout.trim()
  return { dir, config: await readFile(join(dir, 'config'), 'utf8') }
}

/** The snapshot of the repository `cwd` is in; undefined when it is in none (read-only turns). */
export async function snapshotWorkspaceGitAt(
  cwd: string,
  env: NodeJS.ProcessEnv
): Promise<WorkspaceGitSnapshot | undefined> {
  const git = createGit({ gitDir: '', workTree: cwd, remoteUrl: '', token: '', env })
  const found = await git.inWorkspace(['rev-parse', '--absolute-git-dir'], { okCodes: [128] })
  if (found.code !== 0) return undefined
  return snapshotWorkspaceGit(git)
}

/** What is at `path`, never following a link. */
async function kind(path: string): Promise<'directory' | 'other' | 'none'> {
  const stat = await lstat(path).catch(() => undefined)
  if (!stat) return 'none'
  return stat.isDirectory() ? 'directory' : 'other'
}

/**
 * Puts back the config, empties the hooks and removes what else could run a command. Runs when
 * no process of the agent is left, so nothing changes under it; a link the agent made in place of
 * a directory is removed, never followed.
 */
export async function restoreWorkspaceGit(snapshot: WorkspaceGitSnapshot): Promise<void> {
  const { dir } = snapshot
  if ((await kind(dir)) !== 'directory') {
    await rm(dir, { force: true, recursive: false }).catch(() => undefined)
    await mkdir(dir, { recursive: true })
  }
  for (const name of TAKEN_OUT) {
    const parent = join(dir, name, '..')
    if (parent !== dir && (await kind(parent)) === 'other') {
      await rm(parent, { force: true })
      continue
    }
    await rm(join(dir, name), { force: true, recursive: true })
  }
  await rm(join(dir, 'hooks'), { force: true, recursive: true })
  await mkdir(join(dir, 'hooks'))
  await rm(join(dir, 'config'), { force: true, recursive: true })
  await writeFile(join(dir, 'config'), snapshot.config, { mode: 0o644, flag: 'wx' })
}
