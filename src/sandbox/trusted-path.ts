/**
 * kugetsu's own PATH while an agent runs: without the directories that agent can write (the
 * workspace and anything in it, directories every user may write, relative entries). kugetsu runs
 * git, tar, setfacl and the like by name after the agent's turn, with the runner's privileges; a
 * `git` the agent planted in a directory on PATH must not be the one it finds.
 */
import { statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'

function inside(dir: string, root: string): boolean {
  const path = relative(root, dir)
  return path === '' || (!path.startsWith('..') && !isAbsolute(path))
}

function writableByAnyone(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o002) !== 0
  } catch {
    return false
  }
}

export function trustedPath(
  path: string | undefined,
  agentWritable: string[]
): { path: string; dropped: string[] } {
  const kept: string[] = []
  const dropped: string[] = []
  for (const dir of (path ?? '').split(':')) {
    if (dir === '') continue
    const unsafe =
      !isAbsolute(dir) ||
      agentWritable.some((root) => inside(resolve(dir), resolve(root))) ||
      writableByAnyone(dir)
    ;(unsafe ? dropped : kept).push(dir)
  }
  return { path: kept.join(':'), dropped }
}
