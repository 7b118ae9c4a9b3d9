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

interface Grant {
  path: string
  recursive: boolean
  /** Default entries were added too (a directory whose new files the agent must reach). */
  inherited: boolean
}

export interface AccessGrants {
  /** Read and write on `dir` and everything in it, inherited by what is created there. */
  readWrite(dir: string): Promise<void>
  /**
   * Read (and execute, where it is executable) on one file, or on a directory and what is created
   * in it from now on.
   */
  read(target: string): Promise<void>
  /** Hands the agent's files in the read-write dirs back to their owners; removes every grant. */
  revokeAll(): Promise<void>
}

export function accessGrants(privilege: Privilege, user: AgentUser): AccessGrants {
  const grants: Grant[] = []
  const owners = new Map<string, { uid: number; gid: number }>()
  const entry = `u:${user.name}`

  async function setfacl(args: string[], target: string): Promise<void> {
    await privilege.run('setfacl', ['-P', ...args, '--', target])
  }

  /** Search (x) on each ancestor that others may not already enter. */
  async function traverse(target: string): Promise<void> {
    const ancestors: string[] = []
    for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
      ancestors.unshift(dir)
      if (dir === path.dirname(dir)) break
    }
    for (const dir of ancestors) {
      if (grants.some((grant) => grant.path === dir)) continue
      const mode = (await stat(dir).catch(() => undefined))?.mode ?? 0
      if (mode & 0o001) continue
      await setfacl(['-m', `${entry}:x`], dir)
      grants.push({ path: dir, recursive: false, inherited: false })
    }
  }

  return {
    async readWrite(dir) {
      const target = path.resolve(dir)
      await traverse(target)
      const info = await stat(target)
      owners.set(target, { uid: info.uid, gid: info.gid })
      await setfacl(['-R', '-m', `${entry}:rwX,d:${entry}:rwX`], target)
      grants.push({ path: target, recursive: true, inherited: true })
    },
    async read(target) {
      const resolved = path.resolve(target)
      await traverse(resolved)
      const inherited = (await stat(resolved)).isDirectory()
      await setfacl(['-m', inherited ? `${entry}:rX,d:${entry}:rX` : `${entry}:rX`], resolved)
      grants.push({ path: resolved, recursive: false, inherited })
    },
    async revokeAll() {
      const failures: unknown[] = []
      for (const [dir, owner] of owners) {
        await privilege
          .run('chown', ['-R', '-h', `--from=${user.uid}`, `${owner.uid}:${owner.gid}`, '--', dir])
          .catch((error: unknown) => failures.push(error))
      }
      // newest first: a directory's own entries go before its ancestors' search entries
      for (const grant of grants.reverse()) {
        const entries = grant.inherited ? `${entry},d:${entry}` : entry
        await setfacl([...(grant.recursive ? ['-R'] : []), '-x', entries], grant.path).catch(
          (error: unknown) => failures.push(error)
        )
      }
      grants.length = 0
      owners.clear()
      if (failures.length) throw failures[0]
    }
  }
}
