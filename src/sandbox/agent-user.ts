/**
 * The OS user the agent runs as: made for one run (so nothing one run's agent left behind, a
 * process or a file in its home, meets the next), and removed with its home afterwards.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { KugetsuError } from '../errors.js'
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

export async function createAgentUser(privilege: Privilege): Promise<AgentUser> {
  const name = `kugetsu-${randomBytes(4).toString('hex')}`
  const home = `/home/${name}`
  await privilege.run('useradd', [
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
  await privilege.run('chmod', ['700', home])
  const user = await passwdEntry(name)
  if (!user || !(user.uid > 0)) {
    throw new KugetsuError('sandbox-failed', `useradd made no usable user ${name}`)
  }
  return user
}

export async function removeAgentUser(privilege: Privilege, user: AgentUser): Promise<void> {
  // userdel exits 12 when only the mail spool was missing; the user and its home are gone then
  await privilege.run('userdel', ['--remove', user.name]).catch((error: unknown) => {
    if (!String((error as Error).message).includes('mail spool')) throw error
  })
}
