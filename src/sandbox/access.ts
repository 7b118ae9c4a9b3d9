/**
 * What the agent's user may reach of the runner user's files: exactly the paths kugetsu grants,
 * through ACL entries naming that user, so no mode or owner changes (a 0700 home, `/root`). Each
 * grant is revoked when the run ends, and what the agent created in the workspace is handed back
 * to the workspace's owner, so later steps of the job can use it.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { AgentUser } from './agent-user.js'
import type { Privilege } from './privilege.js'
import { runAll } from './run-all.js'

export interface Grant {
  path: string
  recursive: boolean
  /** Default entries were added too (a directory whose new files the agent must reach). */
  inherited: boolean
  /** For a read-write tree: whom its files go back to. */
  owner?: { uid: number; gid: number }
}

export interface GrantTargets {
  /** Read and write on each dir and everything in it, inherited by what is created there. */
  readWrite: string[]
  /**
   * Read (and execute, where it is executable) on each file, or on a directory and what is
   * created in it from now on.
   */
  read: string[]
}

export interface AccessGrants {
  /** Grants `targets`, and search (x) on each of their ancestors others may not already enter. */
  grant(targets: GrantTargets): Promise<void>
  /** Hands the agent's files in the read-write dirs back to their owners; removes every grant. */
  revokeAll(): Promise<void>
  /** What is granted now, to be revoked by another process should this one not get to it. */
  granted(): Grant[]
}

function ancestorsOf(target: string): string[] {
  const ancestors: string[] = []
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    ancestors.unshift(dir)
    if (dir === path.dirname(dir)) return ancestors
  }
}

export function accessGrants(
  privilege: Privilege,
  user: AgentUser,
  recorded: Grant[] = []
): AccessGrants {
  const grants: Grant[] = [...recorded]
  const entry = `u:${user.name}`

  // One path per setfacl: setfacl 2.3 exits with the status of its last file only, so a failure
  // on another would go unnoticed. Each command is its own process; they run side by side.
  async function setfacl(args: string[], target: string): Promise<void> {
    await privilege.run('setfacl', ['-P', ...args, '--', target])
  }

  return {
    async grant(targets) {
      const writable = targets.readWrite.map((dir) => path.resolve(dir))
      const readable = targets.read.map((target) => path.resolve(target))
      const seen = new Set([...grants.map((grant) => grant.path), ...writable, ...readable])
      // a dir inside a read-write tree gets search (X) from the tree's own entry
      const inTree = (dir: string) =>
        writable.some((tree) => dir === tree || dir.startsWith(tree + path.sep))
      const ancestors: string[] = []
      for (const target of [...writable, ...readable]) {
        for (const dir of ancestorsOf(target)) {
          if (seen.has(dir) || inTree(dir)) continue
          seen.add(dir)
          const mode = (await stat(dir).catch(() => undefined))?.mode ?? 0
          if (!(mode & 0o001)) ancestors.push(dir)
        }
      }
      const trees = await Promise.all(writable.map((dir) => stat(dir)))
      const directories = await Promise.all(
        readable.map(async (target) => (await stat(target)).isDirectory())
      )
      // Recorded before the commands run: what one changed, even if it then failed (a walk that
      // met a vanished file), is revoked all the same.
      for (const dir of ancestors) grants.push({ path: dir, recursive: false, inherited: false })
      for (const [i, dir] of writable.entries()) {
        const owner = { uid: trees[i].uid, gid: trees[i].gid }
        grants.push({ path: dir, recursive: true, inherited: true, owner })
      }
      for (const [i, target] of readable.entries()) {
        grants.push({ path: target, recursive: false, inherited: directories[i] })
      }
      // Ancestors and trees are different files: granted side by side. The read grants come
      // after the trees, so a readable path inside a tree ends with its read entry.
      await runAll([
        ...ancestors.map((dir) => setfacl(['-m', `${entry}:x`], dir)),
        ...writable.map((dir) => setfacl(['-R', '-m', `${entry}:rwX,d:${entry}:rwX`], dir))
      ])
      await runAll(
        readable.map((target, i) =>
          setfacl(['-m', directories[i] ? `${entry}:rX,d:${entry}:rX` : `${entry}:rX`], target)
        )
      )
    },
    async revokeAll() {
      const failures: unknown[] = []
      const attempt = (command: Promise<unknown>) =>
        command.then(
          () => undefined,
          (error: unknown) => void failures.push(error)
        )
      const revoke = (grant: Grant) =>
        setfacl(
          [
            ...(grant.recursive ? ['-R'] : []),
            '-x',
            grant.inherited ? `${entry},d:${entry}` : entry
          ],
          grant.path
        )
      // A tree is walked by one command at a time: its files are handed back, then its entries
      // removed. The other grants are on other files, revoked meanwhile.
      await Promise.all(
        grants.map(async (grant) => {
          const { owner } = grant
          if (owner) {
            await attempt(
              privilege.run('chown', [
                '-R',
                '-h',
                `--from=${user.uid}`,
                `${owner.uid}:${owner.gid}`,
                '--',
                grant.path
              ])
            )
          }
          await attempt(revoke(grant))
        })
      )
      grants.length = 0
      if (failures.length) throw failures[0]
    },
    granted: () => grants.map((grant) => ({ ...grant }))
  }
}
