/** Files made in the agent's new home before anything of the agent runs there. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { KugetsuError } from '../errors.js'
import type { HomeSeed } from '../opencode/fresh-home.js'
import type { AgentUser } from './agent-user.js'
import type { Privilege } from './privilege.js'

/** Whether `path` stays inside a dir it is joined to: relative, no `..`, nothing odd. */
function isHomePath(path: string): boolean {
  return (
    path !== '' &&
    !path.startsWith('/') &&
    posix.normalize(path) === path &&
    !path.split('/').includes('..')
  )
}

/**
 * Makes a seed's dirs and files in the user's home (new, so nothing of the agent has run there
 * yet to plant a link), owned by the user, private to it.
 */
export async function seedHome(
  privilege: Privilege,
  user: AgentUser,
  seed: HomeSeed
): Promise<void> {
  const bad = [...seed.dirs, ...seed.files.map((file) => file.path)].find((p) => !isHomePath(p))
  if (bad !== undefined) {
    throw new KugetsuError(
      'sandbox-failed',
      `will not seed ${JSON.stringify(bad)}: not a path inside the agent's home`
    )
  }
  const owner = ['-o', String(user.uid), '-g', String(user.gid)]
  if (seed.dirs.length) {
    // one by one, in order: install -d gives the owner and mode to the last component only
    await privilege.run('install', [
      '-d',
      ...owner,
      '-m',
      '700',
      ...seed.dirs.map((d) => `${user.home}/${d}`)
    ])
  }
  if (!seed.files.length) return
  const source = await mkdtemp(join(tmpdir(), 'kugetsu-seed-'))
  try {
    for (const [index, file] of seed.files.entries()) {
      const from = join(source, String(index))
      await writeFile(from, file.content, { mode: 0o600 })
      await privilege.run('install', [...owner, '-m', '600', from, `${user.home}/${file.path}`])
    }
  } finally {
    await rm(source, { recursive: true, force: true })
  }
}
