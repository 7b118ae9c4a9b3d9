/**
 * The OS user the agent runs as: made for one run (so nothing one run's agent left behind, a
 * process or a file in its home, meets the next), and removed with its home afterwards.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { KugetsuError, errorMessage } from '../errors.js'
import type { Privilege } from './privilege.js'

export interface AgentUser {
  name: string
  uid: number
  gid: number
  home: string
}

async function passwdEntry(name: string): Promise<AgentUser | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8')
  for (const line of passwd.split('\n')) {
    const [login, , uid, gid, , home] = line.split(':')
    if (login === name) return { name, uid: Number(uid), gid: Number(gid), home }
  }
  return undefined
}

/**
 * useradd and userdel lock /etc/passwd and give up at once when another holds it ("cannot lock
 * /etc/passwd; try again later"): parallel runs on one machine take turns.
 */
async function withPasswdLock<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt()
    } catch (error) {
      if (tries >= 20 || !/cannot lock|try again later/i.test(errorMessage(error))) throw error
      await new Promise((resolve) => setTimeout(resolve, 25 * tries))
    }
  }
}

/** Whether the user is still there, as it was made (same name, uid and home). */
export async function agentUserExists(user: AgentUser): Promise<boolean> {
  const entry = await passwdEntry(user.name)
  return entry?.uid === user.uid && entry.home === user.home
}

export async function createAgentUser(privilege: Privilege): Promise<AgentUser> {
  const name = `kugetsu-${randomBytes(4).toString('hex')}`
  const home = `/home/${name}`
  await withPasswdLock(() =>
    privilege.run('useradd', [
      '--system',
      '--create-home',
      '--home-dir',
      home,
      '--shell',
      '/bin/sh',
      '--user-group',
      '--comment',
      'kugetsu agent',
      name
    ])
  )
  await privilege.run('chmod', ['700', home])
  const user = await passwdEntry(name)
  if (!user || !(user.uid > 0)) {
    throw new KugetsuError('sandbox-failed', `useradd made no usable user ${name}`)
  }
  return user
}

export async function removeAgentUser(privilege: Privilege, user: AgentUser): Promise<void> {
  // userdel exits 12 when only the mail spool was missing; the user and its home are gone then
  await withPasswdLock(() => privilege.run('userdel', ['--remove', user.name])).catch(
    (error: unknown) => {
      if (!errorMessage(error).includes('mail spool')) throw error
    }
  )
}
