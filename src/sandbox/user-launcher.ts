/**
 * Starts opencode as the agent's user, and stops it by signalling every process of that user: a
 * user made for this run has no process kugetsu must keep, and a process the agent detached from
 * opencode's tree (setsid, a double fork) is caught as well.
 */
import { spawn } from 'node:child_process'
import type { Launcher } from '../opencode/launcher.js'
import { listProcesses } from '../opencode/process.js'
import type { AgentUser } from './agent-user.js'
import { execCommand, type Privilege } from './privilege.js'

async function pidsOf(uid: number): Promise<number[]> {
  return (await listProcesses()).filter((info) => info.uid === uid).map((info) => info.pid)
}

/** Sends `signal` to every process of the user. */
export async function signalUser(
  privilege: Privilege,
  user: AgentUser,
  signal: NodeJS.Signals
): Promise<void> {
  const pids = await pidsOf(user.uid)
  if (pids.length === 0) return
  if (privilege.via === 'sudo') {
    // some may be gone by now: kill still signals the others, and its exit code says nothing useful
    await execCommand('sudo', [
      '-n',
      'kill',
      '-s',
      signal.replace(/^SIG/, ''),
      '--',
      ...pids.map(String)
    ])
    return
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  }
}

/**
 * SIGKILL to every process of the user until none is left: a killed process is listed until the
 * kernel has reaped it, and userdel refuses a user with a process (bounded: 5 s).
 */
export async function killUser(privilege: Privilege, user: AgentUser): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if ((await pidsOf(user.uid)).length === 0) return
    await signalUser(privilege, user, 'SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export function userLauncher(privilege: Privilege, user: AgentUser): Launcher {
  return {
    spawn(command, args, options) {
      if (privilege.via === 'root') {
        // node drops the supplementary groups (setgroups) before setgid/setuid
        return spawn(command, args, { ...options, detached: true, uid: user.uid, gid: user.gid })
      }
      // -E keeps the environment given here (sudo's own reset would drop it), and never puts it
      // on a command line; PATH is given again because sudo applies its secure_path anyway.
      return spawn(
        'sudo',
        [
          '-n',
          '-E',
          '-u',
          user.name,
          '--',
          '/usr/bin/env',
          `PATH=${options.env.PATH ?? ''}`,
          command,
          ...args
        ],
        { ...options, detached: true }
      )
    },
    async stopTree(_pid, exited, graceMs) {
      await signalUser(privilege, user, 'SIGTERM')
      const force = setTimeout(() => void signalUser(privilege, user, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(force)
      await signalUser(privilege, user, 'SIGKILL')
    }
  }
}
