/** The commits between two heads of a branch, read from kugetsu's own repository. */
import type { Git } from './git.js'

export interface BranchCommit {
  sha: string
  authorName: string
  authorEmail: string
  date: string
  subject: string
  files: string[]
}

/** At most this many commits are read (the agent is told of the newest; see branch-news.ts). */
const MAX_COMMITS = 50

/**
 * The commits in `to` that `from` does not have, newest first. `complete` is false when `from` is
 * not in the history kugetsu fetched (or the branch was rewritten): then none are listed.
 */
export async function commitsBetween(
  git: Git,
  from: string,
  to: string
): Promise<{ commits: BranchCommit[]; complete: boolean }> {
  const known = await git.run(['merge-base', '--is-ancestor', from, to], { okCodes: [1, 128] })
  if (known.code !== 0) return { commits: [], complete: false }
  const range = `${from}..${to}`
  const log = await git.run([
    'log',
    `-n${MAX_COMMITS}`,
    '--no-renames',
    '--format=%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s',
    '--name-only',
    range
  ])
  const commits = log.stdout
    .split('\x1e')
    .filter((record) => record.trim())
    .map((record) => {
      const [header, ...files] = record.split('\n')
      const [sha, authorName, authorEmail, date, subject] = header.split('\x1f')
      return {
        sha,
        authorName,
        authorEmail,
        date,
        subject: subject ?? '',
        files: files.map((file) => file.trim()).filter(Boolean)
      }
    })
  return { commits, complete: true }
}
